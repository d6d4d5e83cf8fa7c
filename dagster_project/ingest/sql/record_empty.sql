-- A zero-byte delivery: it replaces the file's earlier rows with none.
delete from raw.{{ table.name }} where _source_file = $source_file;

delete from raw._rejected_rows where source_file = $source_file;

insert or replace into raw._load_manifest
values (
    $source_file, $table_name, cast($business_date as date), $size_bytes, $mtime_ns, $checksum,
    'empty', 0, 0, 0, $loaded_at, $run_id
);
