-- One row per order line, with the product's cost at order time.
with

order_items as (
    select * from {{ ref('int_order_items_costed') }}
)

select
    order_id,
    line_number,
    product_id,
    order_date,
    ordered_at,
    is_valid_order,
    category,
    subcategory,
    quantity,
    unit_price,
    unit_cost,
    gross_amount,
    discount_amount,
    net_amount,
    cogs,
from order_items
