-- The first and last business date with whole-shop KPIs.
select
    min(kpi_date) as first_date,
    max(kpi_date) as last_date,
from kpi_daily
where dimension = 'all'
