-- When each order last changed in the raw layer: the newest load of its header, its lines or
-- its refunds, and the newest day of delivery among them. Incremental facts rebuild the orders
-- that changed since their last build, or whose newest delivery is in the build window.
{{ config(materialized='view') }}

with

orders as (
    select order_id, customer_id, order_date, _loaded_at, _delivery_date
    from {{ ref('stg_orders') }}
),

loads as (
    select order_id, _loaded_at, _delivery_date from orders
    union all
    select order_id, _loaded_at, _delivery_date from {{ ref('stg_order_items') }}
    union all
    select order_id, _loaded_at, _delivery_date from {{ ref('stg_refunds') }}
)

select
    orders.order_id,
    orders.customer_id,
    orders.order_date,
    max(loads._loaded_at) as loaded_at,
    max(loads._delivery_date) as delivery_date
from orders
inner join loads on orders.order_id = loads.order_id
group by orders.order_id, orders.customer_id, orders.order_date
