-- Stock per product and day at cost (all warehouses), beside the day's sales and receipts.
with

inventory as (
    select * from {{ ref('int_inventory_daily') }}
),

products as (
    select * from {{ ref('stg_products') }}
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
from inventory
left join products on inventory.product_id = products.product_id
