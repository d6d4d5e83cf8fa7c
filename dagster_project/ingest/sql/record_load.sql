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
    select _source_file, count(*) as n from raw.{{ table.name }}
    where _source_file in (select _source_file from batch_files)
    group by all
) as loaded using (_source_file)
left join (
    select source_file as _source_file, count(*) as n from raw._rejected_rows
    where source_file in (select _source_file from batch_files)
    group by all
) as rejected using (_source_file)
left join (
    -- rows read: those the reader parsed (checked) and the lines it could not parse
    select _source_file, count(*) as n
    from (select _source_file from checked union all select _source_file from parse_errors)
    group by all
) as read using (_source_file);
