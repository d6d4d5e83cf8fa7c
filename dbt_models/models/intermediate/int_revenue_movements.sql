-- Revenue as it moves, each on its own business date: valid orders add GMV, discounts and units
-- on their order date; refunds of valid orders subtract on their refund date. Member status is
-- the customer's tier when the order was placed. Beside them, each order row carries the
-- order's net revenue after all its refunds (order_net_revenue, 0 on refund rows): the base
-- of a share of net revenue, whose parts must not go negative.
with

orders as (
    select * from {{ ref('int_orders_enriched') }}
    where is_valid
),

refunds as (
    select * from {{ ref('stg_refunds') }}
),

customers_history as (
    select * from {{ ref('customers_history') }}
),

orders_with_tier as (
    select
        orders.*,
        coalesce(tier_at_order.member_tier, 'none') <> 'none' as is_member
    from orders
    left join customers_history as tier_at_order
        on orders.customer_id = tier_at_order.customer_id
        and orders.ordered_at >= tier_at_order.valid_from
        and (orders.ordered_at < tier_at_order.valid_to or tier_at_order.valid_to is null)
)

select
    order_date as movement_date,
    order_id,
    customer_id,
    channel,
    platform,
    is_member,
    1 as orders,
    units,
    gmv,
    discount_amount,
    cast(0 as decimal(18, 2)) as refund_amount,
    net_revenue as order_net_revenue
from orders_with_tier

union all

select
    refunds.refund_date as movement_date,
    refunds.order_id,
    orders_with_tier.customer_id,
    orders_with_tier.channel,
    orders_with_tier.platform,
    orders_with_tier.is_member,
    0 as orders,
    0 as units,
    cast(0 as decimal(18, 2)) as gmv,
    cast(0 as decimal(18, 2)) as discount_amount,
    refunds.amount as refund_amount,
    cast(0 as decimal(38, 2)) as order_net_revenue
from refunds
inner join orders_with_tier on refunds.order_id = orders_with_tier.order_id
