-- Bookkeeping tables of the raw layer: what was loaded, what was refused, and why.
create schema if not exists raw;

-- One row per landing file: the delivery whose rows are in raw.<table> now.
create table if not exists raw._load_manifest (
    source_file varchar primary key,
    table_name varchar not null,
    business_date date not null,
    size_bytes bigint not null,
    mtime_ns bigint not null,
    checksum varchar not null,
    status varchar not null,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_rejected bigint not null,
    loaded_at timestamptz not null,
    run_id varchar,
    check (rows_read = rows_loaded + rows_rejected)
);

-- One row per failed attempt to load a file (missing column, unreadable, bad name...).
-- The earlier delivery of that file, if any, stays loaded.
create table if not exists raw._load_failures (
    source_file varchar not null,
    table_name varchar,
    size_bytes bigint,
    mtime_ns bigint,
    checksum varchar,
    problem varchar not null,
    message varchar not null,
    failed_at timestamptz not null,
    run_id varchar,
    resolved_at timestamptz
);

-- Warehouses built before failures could be resolved (a file back at a version that loaded,
-- or removed from the landing zone) lack the column.
alter table raw._load_failures add column if not exists resolved_at timestamptz;

-- Rows of loaded files that broke the contract.
create table if not exists raw._rejected_rows (
    table_name varchar not null,
    source_file varchar not null,
    line bigint,
    reason_code varchar not null,
    reason varchar not null,
    record varchar,
    business_date date not null,
    rejected_at timestamptz not null
);

-- Files whose latest attempt failed and that have not loaded since, nor come back to a version
-- that loaded, nor left the landing zone: what needs attention (and blocks publication).
create or replace view raw._open_failures as
select source_file, table_name, size_bytes, mtime_ns, checksum, problem, message, failed_at,
from raw._load_failures as f
where
    resolved_at is null
    and not exists (
        select 1 from raw._load_manifest as m
        where m.source_file = f.source_file and m.loaded_at > f.failed_at
    )
qualify failed_at = max(failed_at) over (partition by source_file);
