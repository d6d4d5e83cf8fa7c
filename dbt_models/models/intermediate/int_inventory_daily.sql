-- Stock per product and business day (all warehouses), at cost, beside that day's sales and
-- receipts: what turnover, days of inventory and sell-through are computed from.
with

snapshots as (
    select * from {{ ref('stg_inventory_snapshots') }}
),

order_items as (
    select * from {{ ref('int_order_items_costed') }}
    where is_valid_order
),

purchase_orders as (
    select * from {{ ref('stg_purchase_orders') }}
    where received_at is not null
),

stock as (
    select
        snapshot_date,
        product_id,
        sum(on_hand_units) as on_hand_units,
        sum(on_hand_units * unit_cost) as inventory_value
    from snapshots
    group by snapshot_date, product_id
),

sales as (
    select
        order_date,
        product_id,
        sum(quantity) as units_sold,
        sum(cogs) as cogs
    from order_items
    group by order_date, product_id
),

receipts as (
    select
        received_date,
        product_id,
        sum(qty_received) as units_received
    from purchase_orders
    group by received_date, product_id
)

select
    stock.snapshot_date,
    stock.product_id,
    stock.on_hand_units,
    cast(stock.inventory_value as decimal(18, 2)) as inventory_value,
    coalesce(sales.units_sold, 0) as units_sold,
    cast(coalesce(sales.cogs, 0) as decimal(18, 2)) as cogs,
    coalesce(receipts.units_received, 0) as units_received
from stock
left join sales
    on stock.snapshot_date = sales.order_date
    and stock.product_id = sales.product_id
left join receipts
    on stock.snapshot_date = receipts.received_date
    and stock.product_id = receipts.product_id
