-- Rows read per file of the batch: every row the reader parsed (checked; loaded when it broke
-- no rule) and every line it could not parse (rejected). These are the rows load_file.sql
-- inserts; the audit's unbalanced_files.sql compares the manifest with the raw tables.
create or replace temp table file_counts as
select _source_file, count(*) as rows_read, count_if(is_loaded) as rows_loaded,
from (
    select _source_file, _reason_code is null as is_loaded from checked
    union all
    select _source_file, false as is_loaded from parse_errors
)
group by all;
