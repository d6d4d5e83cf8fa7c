-- The landing files loaded together in one transaction: one row per file, with what the
-- manifest records about it and the latest instant its timestamps may hold.
create or replace temp table batch_files as
select
    unnest($paths) as _path,
    unnest($source_files) as _source_file,
    cast(unnest($business_dates) as date) as _business_date,
    cast(unnest($not_afters) as timestamptz) as _not_after,
    unnest($sizes) as _size_bytes,
    unnest($mtimes) as _mtime_ns,
    unnest($checksums) as _checksum;
