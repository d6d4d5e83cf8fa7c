-- One row per order line, with the product's cost at order time. Incremental: the lines of
-- orders whose header, lines or refunds were loaded since the last build, or whose newest
-- delivery is in the build window; and the orders with a line built before whose product
-- data has changed since (a new category, a cost version dated before the order).
{{ config(
    materialized='incremental',
    unique_key=['order_id', 'line_number'],
    incremental_strategy='delete+insert',
) }}

with

order_items as (
    select * from {{ ref('int_order_items_costed') }}
),

order_loads as (
    select * from {{ ref('int_order_loads') }}
)
{%- if is_incremental() %},

restated as (
    {{ restated_keys(
        'order_items',
        'order_id',
        match_on=['order_id', 'line_number'],
        compared=['category', 'subcategory', 'unit_cost'],
    ) }}
)
{%- endif %}

select
    order_items.order_id,
    order_items.line_number,
    order_items.product_id,
    order_items.order_date,
    order_items.ordered_at,
    order_items.is_valid_order,
    order_items.category,
    order_items.subcategory,
    order_items.quantity,
    order_items.unit_price,
    order_items.unit_cost,
    order_items.gross_amount,
    order_items.discount_amount,
    order_items.net_amount,
    order_items.cogs,
    order_loads.loaded_at as _loaded_at,
    order_loads.delivery_date as _delivery_date,
    '{{ invocation_id }}' as _dbt_invocation_id
from order_items
inner join order_loads on order_items.order_id = order_loads.order_id
{%- if is_incremental() %}
where {{ in_build_window('order_loads.delivery_date', 'order_loads.loaded_at') }}
or order_items.order_id in (select order_id from restated)
{%- endif %}
