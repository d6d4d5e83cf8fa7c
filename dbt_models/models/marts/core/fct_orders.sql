-- One row per order in its latest status. Valid orders (status <> cancelled) are the ones KPIs
-- count; amounts are in the shop currency.
with

orders as (
    select * from {{ ref('int_orders_enriched') }}
)

select
    order_id,
    customer_id,
    session_id,
    attributed_campaign_id,
    order_date,
    ordered_at,
    updated_at,
    status,
    is_valid,
    valid_order_number = 1 as is_first_valid_order,
    valid_order_number,
    platform,
    channel,
    device,
    coupon_code,
    lines,
    units,
    gmv,
    line_discount_amount,
    order_discount_amount,
    discount_amount,
    discounted_revenue,
    refund_amount,
    net_revenue,
    cogs,
    shipping_fee,
    tax_amount,
from orders
