-- The landing files loaded together in one transaction: one row per file, with what the
-- manifest records about it, the latest instant its timestamps may hold, and whether its
-- producer confirmed that it may hold far fewer rows than its earlier delivery (_SHRINK_OK).
create or replace temp table batch_files as
select
    unnest($paths) as _path,
    unnest($source_files) as _source_file,
    cast(unnest($business_dates) as date) as _business_date,
    cast(unnest($not_afters) as timestamptz) as _not_after,
    unnest($sizes) as _size_bytes,
    unnest($mtimes) as _mtime_ns,
    unnest($checksums) as _checksum,
    unnest($shrink_confirmed) as _shrink_confirmed;
