-- The manifest rows of the batch's files, whose deliveries are now the ones in raw.<table>.
insert or replace into raw._load_manifest
select
    files._source_file as source_file,
    $table_name as table_name,
    files._business_date as business_date,
    files._size_bytes as size_bytes,
    files._mtime_ns as mtime_ns,
    files._checksum as checksum,
    case when coalesce(read.n, 0) = 0 then 'empty' else 'loaded' end as status,
    coalesce(read.n, 0) as rows_read,
    coalesce(loaded.n, 0) as rows_loaded,
    coalesce(rejected.n, 0) as rows_rejected,
    $loaded_at as loaded_at,
    $run_id as run_id,
from batch_files as files
left join (
    -- rows loaded and rejected: what load_file.sql inserted from this batch (the audit's
    -- unbalanced_files.sql compares the manifest with the raw tables themselves)
    select _source_file, count(*) as n from checked where _reason_code is null group by all
) as loaded using (_source_file)
left join (
    select _source_file, count(*) as n
    from (
        select _source_file from checked where _reason_code is not null
        union all
        select _source_file from parse_errors
    )
    group by all
) as rejected using (_source_file)
left join (
    -- rows read: those the reader parsed (checked) and the lines it could not parse
    select _source_file, count(*) as n
    from (select _source_file from checked union all select _source_file from parse_errors)
    group by all
) as read using (_source_file);
