-- Re-delivered files of the batch that hold far fewer rows than the delivery they would replace
-- (more than $max_drop of them gone), unless the producer confirmed it with a _SHRINK_OK marker:
-- such a file fails, and the rows of its earlier delivery stay loaded.
select
    files._source_file,
    coalesce(counts.rows_read, 0) as rows_read,
    manifest.rows_read as rows_read_before,
    manifest.loaded_at as loaded_before,
from batch_files as files
inner join raw._load_manifest as manifest on files._source_file = manifest.source_file
left join file_counts as counts on files._source_file = counts._source_file
where
    not files._shrink_confirmed
    and coalesce(counts.rows_read, 0) < manifest.rows_read * (1 - $max_drop)
order by files._source_file
