-- One row per order in its latest status. Valid orders (status <> cancelled) are the ones KPIs
-- count; amounts are in the shop currency. Incremental: every order of a customer any of whose
-- orders (header, lines or refunds) was loaded since the last build, because a late change to
-- one order can change which of the customer's orders is the first valid one; and, for the
-- same reason, every order of a customer whose newest delivery is in the build window; and
-- the orders built before whose cogs has changed since (a cost version dated before them).
{{ config(
    materialized='incremental',
    unique_key='order_id',
    incremental_strategy='delete+insert',
) }}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

order_loads as (
    select
        order_id,
        loaded_at,
        -- an order's row depends on all its customer's orders (valid_order_number)
        max(loaded_at) over (partition by customer_id) as customer_loaded_at,
        max(delivery_date) over (partition by customer_id) as customer_delivery_date
    from {{ ref('int_order_loads') }}
)
{%- if is_incremental() %},

restated as (
    {{ restated_keys('orders', 'order_id', match_on=['order_id'], compared=['cogs']) }}
)
{%- endif %}

select
    orders.order_id,
    orders.customer_id,
    orders.session_id,
    orders.attributed_campaign_id,
    orders.order_date,
    orders.ordered_at,
    orders.updated_at,
    orders.status,
    orders.is_valid,
    orders.valid_order_number = 1 as is_first_valid_order,
    orders.valid_order_number,
    orders.platform,
    orders.channel,
    orders.device,
    orders.coupon_code,
    orders.lines,
    orders.units,
    orders.gmv,
    orders.line_discount_amount,
    orders.order_discount_amount,
    orders.discount_amount,
    orders.discounted_revenue,
    orders.refund_amount,
    orders.net_revenue,
    orders.cogs,
    orders.shipping_fee,
    orders.tax_amount,
    order_loads.loaded_at as _loaded_at,
    order_loads.customer_delivery_date as _delivery_date,
    '{{ invocation_id }}' as _dbt_invocation_id
from orders
inner join order_loads on orders.order_id = order_loads.order_id
{%- if is_incremental() %}
where {{ in_build_window('order_loads.customer_delivery_date', 'order_loads.customer_loaded_at') }}
or orders.order_id in (select order_id from restated)
{%- endif %}
