-- order_items: one row per export line, in the folder of its order's purchase day. Each
-- Olist line is one unit at `price`; the freight is the order's (orders.shipping_fee).
select
    cast(orders.purchased_day as varchar) as dt,
    items.order_id,
    items.line_number,
    items.product_id,
    1 as quantity,
    items.price as unit_price,
    0.00::decimal(18, 2) as discount_amount,
from olist_items as items
join olist_orders as orders using (order_id)
order by orders.purchased_day, items.order_id, items.line_number;
