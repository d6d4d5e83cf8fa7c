-- Each customer's first valid order, its monthly cohort, the member tier at that moment, and
-- whether another valid order followed within `repurchase_window_days`.
with

orders as (
    select * from {{ ref('int_orders_enriched') }}
    where is_valid
),

customers_history as (
    select * from {{ ref('customers_history') }}
),

first_orders as (
    select * from orders
    where valid_order_number = 1
),

next_orders as (
    select * from orders
    where valid_order_number = 2
)

select
    first_orders.customer_id,
    first_orders.order_id as first_order_id,
    first_orders.ordered_at as first_ordered_at,
    first_orders.order_date as first_order_date,
    cast({{ dbt.date_trunc('month', 'first_orders.order_date') }} as date) as cohort_month,
    coalesce(tier_at_first_order.member_tier, 'none') as member_tier_at_first_order,
    next_orders.order_date as second_order_date,
    coalesce(
        next_orders.ordered_at <= {{ dbt.dateadd(
            'day', var('repurchase_window_days'), 'first_orders.ordered_at'
        ) }},
        false
    ) as has_repurchased_in_window
from first_orders
left join next_orders on first_orders.customer_id = next_orders.customer_id
left join customers_history as tier_at_first_order
    on first_orders.customer_id = tier_at_first_order.customer_id
    and first_orders.ordered_at >= tier_at_first_order.valid_from
    and (
        first_orders.ordered_at < tier_at_first_order.valid_to
        or tier_at_first_order.valid_to is null
    )
