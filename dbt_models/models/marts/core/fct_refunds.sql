-- One row per refund, counted on its own business date.
with

refunds as (
    select * from {{ ref('stg_refunds') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
)

select
    refunds.refund_id,
    refunds.order_id,
    refunds.product_id,
    refunds.refund_date,
    refunds.refunded_at,
    orders.order_date,
    orders.is_valid as is_valid_order,
    orders.channel,
    orders.platform,
    refunds.amount,
    refunds.reason
from refunds
left join orders on refunds.order_id = orders.order_id
