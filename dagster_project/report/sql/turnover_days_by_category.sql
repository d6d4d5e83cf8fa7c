-- Inventory turnover days per category in the latest complete month; the whole shop is the
-- reference line.
with

latest as (
    select max(kpi_month) as kpi_month,
    from kpi_inventory_monthly
    where last_day(kpi_month) <= $as_of
)

select
    'Turnover days' as series,
    'inventory_turnover_days' as kpi_id,
    case when inventory.category = 'all' then 'Whole shop' else inventory.category end as x,
    inventory.inventory_turnover_days as y,
    inventory.category = 'all' as is_reference,
    inventory.kpi_month as month,
from kpi_inventory_monthly as inventory
inner join latest on inventory.kpi_month = latest.kpi_month
order by y desc nulls last
