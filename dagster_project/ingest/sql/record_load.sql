-- The manifest rows of the batch's files, whose deliveries are now the ones in raw.<table>.
insert or replace into raw._load_manifest
select
    files._source_file as source_file,
    $table_name as table_name,
    files._business_date as business_date,
    files._size_bytes as size_bytes,
    files._mtime_ns as mtime_ns,
    files._checksum as checksum,
    case when coalesce(counts.rows_read, 0) = 0 then 'empty' else 'loaded' end as status,
    coalesce(counts.rows_read, 0) as rows_read,
    coalesce(counts.rows_loaded, 0) as rows_loaded,
    coalesce(counts.rows_read - counts.rows_loaded, 0) as rows_rejected,
    $loaded_at as loaded_at,
    $run_id as run_id,
from batch_files as files
left join file_counts as counts using (_source_file);
