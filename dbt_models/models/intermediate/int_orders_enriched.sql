-- One row per order (latest status) with its lines, refunds, session, attribution and place in
-- the customer's history of valid orders.
with

orders as (
    select * from {{ ref('stg_orders') }}
),

order_items as (
    select * from {{ ref('int_order_items_costed') }}
),

refunds as (
    select * from {{ ref('stg_refunds') }}
),

sessions as (
    select * from {{ ref('stg_sessions') }}
),

attribution as (
    select * from {{ ref('int_orders_attributed') }}
),

lines as (
    select
        order_id,
        count(*) as lines,
        sum(quantity) as units,
        sum(gross_amount) as gmv,
        sum(discount_amount) as line_discount_amount,
        sum(cogs) as cogs
    from order_items
    group by order_id
),

refunded as (
    select order_id, sum(amount) as refund_amount
    from refunds
    group by order_id
),

enriched as (
    select
        orders.order_id,
        orders.customer_id,
        orders.session_id,
        attribution.campaign_id as attributed_campaign_id,
        orders.order_date,
        orders.ordered_at,
        orders.updated_at,
        orders.status,
        orders.status <> 'cancelled' as is_valid,
        orders.platform,
        coalesce(sessions.channel, 'unknown') as channel,
        coalesce(sessions.device, 'unknown') as device,
        orders.coupon_code,
        coalesce(lines.lines, 0) as lines,
        coalesce(lines.units, 0) as units,
        coalesce(lines.gmv, 0) as gmv,
        coalesce(lines.line_discount_amount, 0) as line_discount_amount,
        orders.discount_amount as order_discount_amount,
        coalesce(lines.line_discount_amount, 0) + orders.discount_amount as discount_amount,
        coalesce(refunded.refund_amount, 0) as refund_amount,
        coalesce(lines.cogs, 0) as cogs,
        orders.shipping_fee,
        orders.tax_amount
    from orders
    left join lines on orders.order_id = lines.order_id
    left join refunded on orders.order_id = refunded.order_id
    left join sessions on orders.session_id = sessions.session_id
    left join attribution on orders.order_id = attribution.order_id
)

select
    *,
    gmv - discount_amount as discounted_revenue,
    gmv - discount_amount - refund_amount as net_revenue,
    case
        when is_valid then
            row_number() over (partition by customer_id, is_valid order by ordered_at, order_id)
    end as valid_order_number
from enriched
