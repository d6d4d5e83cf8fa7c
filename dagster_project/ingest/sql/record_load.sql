-- The manifest row of a file whose delivery is now the one in raw.<table>.
insert or replace into raw._load_manifest
select
    $source_file as source_file,
    $table_name as table_name,
    cast($business_date as date) as business_date,
    $size_bytes as size_bytes,
    $mtime_ns as mtime_ns,
    $checksum as checksum,
    case when read.n = 0 then 'empty' else 'loaded' end as status,
    read.n as rows_read,
    loaded.n as rows_loaded,
    rejected.n as rows_rejected,
    $loaded_at as loaded_at,
    $run_id as run_id,
from
    (select count(*) as n from raw.{{ table.name }} where _source_file = $source_file) as loaded,
    (select count(*) as n from raw._rejected_rows where source_file = $source_file) as rejected,
    (
        select
            (select count(*) from checked) + (select count(*) from parse_errors) as n
    ) as read;
