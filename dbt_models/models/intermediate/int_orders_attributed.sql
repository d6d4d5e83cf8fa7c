-- Last non-direct touch attribution: an order is credited to the campaign of the latest
-- session of its customer (by customer_id, or by the visitor the customer registered from)
-- that carries a campaign and started within `attribution_lookback_days` before the order.
with

orders as (
    select * from {{ ref('stg_orders') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

touches as (
    select * from {{ ref('stg_sessions') }}
    where campaign_id is not null
),

touches_by_customer as (
    select orders.order_id, touches.session_id, touches.campaign_id, touches.started_at
    from orders
    inner join touches
        on orders.customer_id = touches.customer_id
        and touches.started_at <= orders.ordered_at
        and touches.started_at
        >= {{ dbt.dateadd('day', -var('attribution_lookback_days'), 'orders.ordered_at') }}
),

touches_by_visitor as (
    select orders.order_id, touches.session_id, touches.campaign_id, touches.started_at
    from orders
    inner join customers on orders.customer_id = customers.customer_id
    inner join touches
        on customers.visitor_id = touches.visitor_id
        and touches.started_at <= orders.ordered_at
        and touches.started_at
        >= {{ dbt.dateadd('day', -var('attribution_lookback_days'), 'orders.ordered_at') }}
),

candidates as (
    select * from touches_by_customer
    union
    select * from touches_by_visitor
)

select
    order_id,
    campaign_id,
    session_id as attributed_session_id
from candidates
qualify
    row_number() over (
        partition by order_id order by started_at desc, session_id desc
    ) = 1
