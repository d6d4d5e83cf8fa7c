-- suppliers: the sellers the export's lines reference, delivered once, in the folder of the
-- seller's first sale, updated at that purchase. The export has no seller names.
with
first_sales as (
    select items.seller_id, orders.purchased_at, orders.purchased_day,
    from olist_items as items
    join olist_orders as orders using (order_id)
    qualify row_number() over (
        partition by items.seller_id
        order by orders.purchased_at, items.order_id, items.line_number
    ) = 1
)
select
    cast(first_sales.purchased_day as varchar) as dt,
    first_sales.seller_id as supplier_id,
    first_sales.seller_id as name,
    'BR' as country,
    utc_text(first_sales.purchased_at) as updated_at,
from first_sales
semi join export_sellers using (seller_id)
order by first_sales.purchased_day, first_sales.seller_id;
