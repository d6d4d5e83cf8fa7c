-- Files taken out of the batch because they fail: nothing of theirs is loaded or replaced.
delete from checked where _source_file in (select unnest($source_files));

delete from parse_errors where _source_file in (select unnest($source_files));

delete from file_counts where _source_file in (select unnest($source_files));

delete from batch_files where _source_file in (select unnest($source_files));
