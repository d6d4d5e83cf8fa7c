-- What makes the export unusable, one row per problem (file, count, what, first example), in
-- a fixed order; the adapter reports the first. Empty when the export can be mapped.
{%- set timestamps = [
    'order_purchase_timestamp', 'order_approved_at', 'order_delivered_carrier_date',
    'order_delivered_customer_date', 'order_estimated_delivery_date',
] %}
with
problems as (
    select 1 as rank, 'orders.csv' as file, 'an empty order_id' as what, null as example,
    from export_orders
    where order_id is null
    union all
    select 2, 'orders.csv', 'an order_id that appears more than once', order_id,
    from export_orders
    where order_id is not null
    qualify count(*) over (partition by order_id) > 1
    union all
    select 3, 'orders.csv', 'an unknown order_status (known: {{ statuses | join(", ") }})',
        coalesce(order_status, '(empty)'),
    from export_orders
    where order_status is null or order_status not in ({{ statuses | map('sql_string') | join(', ') }})
    union all
    select 4, 'orders.csv', 'an empty order_purchase_timestamp', order_id,
    from export_orders
    where order_purchase_timestamp is null
{%- for column in timestamps %}
    union all
    select 5, 'orders.csv', '{{ column }} that is not a timestamp', {{ column }},
    from export_orders
    where try_cast({{ column }} as timestamp) is null and {{ column }} is not null
{%- endfor %}
    union all
    select 6, 'orders.csv', 'a customer_id missing from customers.csv', customer_id,
    from export_orders
    where customer_id is null or customer_id not in (select customer_id from export_customers)
    union all
    select 7, 'customers.csv', 'a customer_id that appears more than once', customer_id,
    from export_customers
    qualify count(*) over (partition by customer_id) > 1
    union all
    select 8, 'customers.csv', 'an empty customer_unique_id', customer_id,
    from export_customers
    where customer_unique_id is null
    union all
    select 9, 'order_items.csv', 'an order_id missing from orders.csv', order_id,
    from export_order_items
    where order_id is null or order_id not in (select order_id from export_orders)
    union all
    select 10, 'order_items.csv', 'an order_item_id that is not a whole number from 1',
        coalesce(order_item_id, '(empty)'),
    from export_order_items
    where coalesce(try_cast(order_item_id as integer), 0) < 1
    union all
    select 11, 'order_items.csv', 'an (order_id, order_item_id) that appears more than once',
        order_id || ' ' || order_item_id,
    from export_order_items
    qualify count(*) over (partition by order_id, order_item_id) > 1
{%- for column in ['price', 'freight_value'] %}
    union all
    select 12, 'order_items.csv', '{{ column }} that is not an amount of at most 2 decimals',
        coalesce({{ column }}, '(empty)'),
    from export_order_items
    where not coalesce(regexp_full_match(trim({{ column }}), '[0-9]+(\.[0-9]{1,2})?'), false)
{%- endfor %}
    union all
    select 13, 'order_items.csv', 'a product_id missing from products.csv', product_id,
    from export_order_items
    where product_id is null or product_id not in (select product_id from export_products)
    union all
    select 14, 'order_items.csv', 'a seller_id missing from olist_sellers_dataset.csv', seller_id,
    from export_order_items
    where seller_id is null or seller_id not in (select seller_id from export_sellers)
    union all
    select 15, 'products.csv', 'a product_id that appears more than once', product_id,
    from export_products
    qualify count(*) over (partition by product_id) > 1
    union all
    select 16, 'product_category_name_translation.csv',
        'a product_category_name that appears more than once', product_category_name,
    from export_category_translation
    qualify count(*) over (partition by product_category_name) > 1
    union all
    select 17, 'orders.csv', 'a shipped order without order_estimated_delivery_date', order_id,
    from export_orders
    where order_delivered_carrier_date is not null and order_estimated_delivery_date is null
)
select file, count(*) as rows, what, min(example) as example,
from problems
group by rank, file, what
order by rank, what;
