-- Each landing file's size and modification time as the loader last recorded them: the
-- delivery whose rows are loaded now, and the latest failed attempt. The loader skips a file
-- that still matches either (an unchanged failed file is not retried), so a run would load
-- nothing from it.
with
loaded as (
    select source_file, size_bytes, mtime_ns,
    from raw._load_manifest
),

last_failures as (
    select source_file, size_bytes, mtime_ns,
    from raw._load_failures
    qualify row_number() over (partition by source_file order by failed_at desc) = 1
)

select source_file, size_bytes, mtime_ns, from loaded
union all
select source_file, size_bytes, mtime_ns, from last_failures
