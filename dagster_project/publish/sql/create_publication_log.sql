-- Every attempt to publish: what was checked, what was published, and the outcome. Lives in
-- the build warehouse and is copied into each publication.
create schema if not exists audit;

create table if not exists audit.publication_log (
    run_id varchar not null,
    as_of_date date,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    checks_passed integer not null,
    checks_failed integer not null,
    failed_checks varchar[] not null,
    rows_per_table map(varchar, bigint),
    absent_sources varchar[] not null,
    outcome varchar not null check (outcome in ('published', 'blocked', 'failed')),
    message varchar,
    warnings varchar[],  -- checks that failed at WARN severity, each with what it found
    absent_kpis varchar[]  -- KPIs left out because a source they need is absent
);

-- Logs written before warnings (or absent KPIs) were recorded lack the column.
alter table audit.publication_log add column if not exists warnings varchar[];

alter table audit.publication_log add column if not exists absent_kpis varchar[];
