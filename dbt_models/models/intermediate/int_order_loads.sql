-- When each order last changed in the raw layer: the newest load of its header, its lines or
-- its refunds. Incremental facts rebuild the orders that changed since their last build.
{{ config(materialized='view') }}

with

orders as (
    select order_id, customer_id, order_date, _loaded_at, from {{ ref('stg_orders') }}
),

loads as (
    select order_id, _loaded_at, from orders
    union all
    select order_id, _loaded_at, from {{ ref('stg_order_items') }}
    union all
    select order_id, _loaded_at, from {{ ref('stg_refunds') }}
)

select
    orders.order_id,
    orders.customer_id,
    orders.order_date,
    max(loads._loaded_at) as loaded_at,
from orders
inner join loads on orders.order_id = loads.order_id
group by orders.order_id, orders.customer_id, orders.order_date
