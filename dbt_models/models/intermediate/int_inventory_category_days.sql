-- Stock, sales and receipts per category and day, and for the whole shop (category 'all').
with

inventory as (
    select * from {{ ref('fct_inventory_daily') }}
),

by_category as (
    select
        snapshot_date, category, on_hand_units, inventory_value, units_sold, cogs,
        units_received
    from inventory
    union all
    select
        snapshot_date, 'all' as category, on_hand_units, inventory_value, units_sold, cogs,
        units_received
    from inventory
)

select
    snapshot_date,
    cast({{ dbt.date_trunc('month', 'snapshot_date') }} as date) as kpi_month,
    category,
    sum(on_hand_units) as on_hand_units,
    sum(inventory_value) as inventory_value,
    sum(units_sold) as units_sold,
    sum(cogs) as cogs,
    sum(units_received) as units_received
from by_category
group by snapshot_date, category
