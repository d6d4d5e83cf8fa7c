-- Stock per product and day at cost (all warehouses), beside the day's sales and receipts.
-- Incremental: whole days whose snapshots, orders or receipts were loaded since the last build,
-- or whose newest delivery (of any of them) is in the build window; and the days with a row
-- built before whose product category or cost of sales has changed since.
{{ config(
    materialized='incremental',
    unique_key='snapshot_date',
    incremental_strategy='delete+insert',
) }}

with

inventory as (
    select * from {{ ref('int_inventory_daily') }}
),

products as (
    select * from {{ ref('stg_products') }}
),

day_loads as (
    select snapshot_date as business_date, _loaded_at, _delivery_date
    from {{ ref('stg_inventory_snapshots') }}
    union all
    select
        order_date as business_date,
        loaded_at as _loaded_at,
        delivery_date as _delivery_date
    from {{ ref('int_order_loads') }}
    union all
    select received_date as business_date, _loaded_at, _delivery_date
    from {{ ref('stg_purchase_orders') }}
    where received_date is not null
),

days as (
    select
        business_date,
        max(_loaded_at) as loaded_at,
        max(_delivery_date) as delivery_date
    from day_loads
    group by business_date
),

stock as (
    select
        inventory.snapshot_date,
        inventory.product_id,
        products.category,
        products.subcategory,
        inventory.on_hand_units,
        inventory.inventory_value,
        inventory.units_sold,
        inventory.cogs,
        inventory.units_received
    from inventory
    left join products on inventory.product_id = products.product_id
)
{%- if is_incremental() %},

restated as (
    {{ restated_keys(
        'stock',
        'snapshot_date',
        match_on=['snapshot_date', 'product_id'],
        compared=['category', 'subcategory', 'cogs'],
    ) }}
)
{%- endif %}

select
    stock.*,
    days.loaded_at as _loaded_at,
    days.delivery_date as _delivery_date,
    '{{ invocation_id }}' as _dbt_invocation_id
from stock
inner join days on stock.snapshot_date = days.business_date
{%- if is_incremental() %}
where {{ in_build_window('days.delivery_date', 'days.loaded_at') }}
or stock.snapshot_date in (select snapshot_date from restated)
{%- endif %}
