-- Whole-shop inventory turnover days of the latest complete month, against the month before.
with

complete_months as (
    select
        kpi_month,
        inventory_turnover_days as value,
        row_number() over (order by kpi_month desc) as recency,
    from kpi_inventory_monthly
    where
        category = 'all'
        and last_day(kpi_month) <= $as_of
)

select
    'inventory_turnover_days' as kpi_id,
    case when recency = 1 then 'current' else 'previous' end as period,
    kpi_month as period_start,
    last_day(kpi_month) as period_end,
    true as is_full,
    value,
from complete_months
where recency <= 2
