-- A file that could not be loaded at all; its earlier delivery, if any, stays loaded.
insert into raw._load_failures (
    source_file, table_name, size_bytes, mtime_ns, checksum, problem, message, failed_at, run_id
)
values (
    $source_file, $table_name, $size_bytes, $mtime_ns, $checksum, $problem, $message, $failed_at,
    $run_id
);
