-- Order lines with their order's date and validity and the product's unit cost valid at order
-- time (COGS of a line = quantity x that cost).
with

order_items as (
    select * from {{ ref('stg_order_items') }}
),

orders as (
    select * from {{ ref('stg_orders') }}
),

products_history as (
    select * from {{ ref('products_history') }}
),

products as (
    select * from {{ ref('stg_products') }}
),

first_versions as (
    select * from products_history
    qualify row_number() over (partition by product_id order by valid_from) = 1
),

costed as (
    select
        order_items.order_id,
        order_items.line_number,
        order_items.product_id,
        orders.order_date,
        orders.ordered_at,
        orders.status <> 'cancelled' as is_valid_order,
        products.category,
        products.subcategory,
        order_items.quantity,
        order_items.unit_price,
        order_items.discount_amount,
        -- the version valid at order time; a sale before the first version takes that one
        coalesce(version_at_order.unit_cost, first_version.unit_cost) as unit_cost
    from order_items
    inner join orders on order_items.order_id = orders.order_id
    left join products on order_items.product_id = products.product_id
    left join products_history as version_at_order
        on order_items.product_id = version_at_order.product_id
        and orders.ordered_at >= version_at_order.valid_from
        and (orders.ordered_at < version_at_order.valid_to or version_at_order.valid_to is null)
    left join first_versions as first_version
        on order_items.product_id = first_version.product_id
)

select
    *,
    cast(quantity * unit_price as decimal(18, 2)) as gross_amount,
    cast(quantity * unit_price - discount_amount as decimal(18, 2)) as net_amount,
    cast(quantity * unit_cost as decimal(18, 2)) as cogs
from costed
