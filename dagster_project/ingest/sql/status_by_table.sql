-- One line per contract table: what its landing files delivered into the raw layer.
with
tables as (
    select unnest($tables) as table_name, generate_subscripts($tables, 1) as position,
),
loads as (
    select
        table_name,
        count(*) as files,
        count(distinct business_date) as days,
        min(business_date) as first_day,
        max(business_date) as last_day,
        sum(rows_loaded) as rows_loaded,
        sum(rows_rejected) as rows_rejected,
        max(loaded_at) as last_loaded_at,
    from raw._load_manifest
    group by table_name
),
failures as (
    select table_name, count(*) as failed_files,
    from raw._open_failures
    group by table_name
)
select
    tables.table_name,
    coalesce(loads.files, 0) as files,
    coalesce(loads.days, 0) as days,
    loads.first_day,
    loads.last_day,
    coalesce(loads.rows_loaded, 0) as rows_loaded,
    coalesce(loads.rows_rejected, 0) as rows_rejected,
    coalesce(failures.failed_files, 0) as failed_files,
from tables
left join loads on tables.table_name = loads.table_name
left join failures on tables.table_name = failures.table_name
order by tables.position
