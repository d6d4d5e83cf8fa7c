-- Stock per product and day at cost (all warehouses), beside the day's sales and receipts.
-- Incremental: whole days whose snapshots, orders or receipts were loaded since the last build.
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
    select snapshot_date as business_date, _loaded_at,
    from {{ ref('stg_inventory_snapshots') }}
    union all
    select order_date as business_date, loaded_at as _loaded_at,
    from {{ ref('int_order_loads') }}
    union all
    select received_date as business_date, _loaded_at,
    from {{ ref('stg_purchase_orders') }}
    where received_date is not null
),

days as (
    select business_date, max(_loaded_at) as loaded_at,
    from day_loads
    group by business_date
)

select
    inventory.snapshot_date,
    inventory.product_id,
    products.category,
    products.subcategory,
    inventory.on_hand_units,
    inventory.inventory_value,
    inventory.units_sold,
    inventory.cogs,
    inventory.units_received,
    days.loaded_at as _loaded_at,
from inventory
inner join days on inventory.snapshot_date = days.business_date
left join products on inventory.product_id = products.product_id
{%- if is_incremental() %}
where {{ loaded_since_last_build('days.loaded_at') }}
{%- endif %}
