-- products: delivered once, in the folder of the product's first sale (earliest purchase,
-- then order_id, then line), updated at that purchase; its supplier is the seller of that
-- line. The export has no SKU, name, brand, cost, list price or launch date.
with
first_lines as (
    select items.product_id, items.seller_id, orders.purchased_at, orders.purchased_day,
    from olist_items as items
    join olist_orders as orders using (order_id)
    qualify row_number() over (
        partition by items.product_id
        order by orders.purchased_at, items.order_id, items.line_number
    ) = 1
),
categorised as (
    select
        first_lines.*,
        coalesce(
            nullif(trim(names.product_category_name_english), ''),
            nullif(trim(products.product_category_name), ''),
            'uncategorized'
        ) as category,
    from first_lines
    join export_products as products using (product_id)
    left join export_category_translation as names using (product_category_name)
)
select
    cast(purchased_day as varchar) as dt,
    product_id,
    product_id as sku,
    product_id as name,
    category,
    category as subcategory,
    null::varchar as brand,
    seller_id as supplier_id,
    null::decimal(18, 2) as unit_cost,
    null::decimal(18, 2) as list_price,
    null::varchar as launched_at,
    null::varchar as discontinued_at,
    utc_text(purchased_at) as updated_at,
from categorised
order by purchased_day, product_id;
