-- Sales per product and business day, each movement on its own date (catalogue §4, §5): units
-- and GMV of valid orders on their order date with the order's discounts (the lines' own plus
-- the order-level discount shared over its lines in proportion to their GMV), and refunds of
-- valid orders on their refund date (a refund that names no product is shared over the order's
-- lines the same way). Net revenue = GMV − discounts − refunds, so the products of a day add
-- up to the shop's net revenue of that day.
with

order_items as (
    select * from {{ ref('fct_order_items') }}
    where is_valid_order
),

orders as (
    select * from {{ ref('fct_orders') }}
    where is_valid
),

refunds as (
    select * from {{ ref('fct_refunds') }}
    where is_valid_order
),

-- each line's share of its order's GMV (equal shares when the order's GMV is 0)
lines as (
    select
        order_items.order_id,
        order_items.product_id,
        order_items.order_date,
        order_items.quantity,
        order_items.gross_amount,
        order_items.discount_amount,
        orders.order_discount_amount,
        coalesce(
            {{ safe_divide(
                'order_items.gross_amount',
                'sum(order_items.gross_amount) over (partition by order_items.order_id)',
            ) }},
            1.0 / count(*) over (partition by order_items.order_id)
        ) as order_share
    from order_items
    inner join orders on order_items.order_id = orders.order_id
),

movements as (
    select
        order_date as sales_date,
        product_id,
        quantity as units_sold,
        {{ exact('gross_amount') }} as gmv,
        {{ exact('discount_amount + order_share * order_discount_amount') }} as discount_amount,
        {{ exact('0') }} as refund_amount
    from lines

    union all

    select
        refund_date as sales_date,
        product_id,
        0 as units_sold,
        {{ exact('0') }} as gmv,
        {{ exact('0') }} as discount_amount,
        {{ exact('amount') }} as refund_amount
    from refunds
    where product_id is not null

    union all

    select
        refunds.refund_date as sales_date,
        lines.product_id,
        0 as units_sold,
        {{ exact('0') }} as gmv,
        {{ exact('0') }} as discount_amount,
        {{ exact('refunds.amount * lines.order_share') }} as refund_amount
    from refunds
    inner join lines on refunds.order_id = lines.order_id
    where refunds.product_id is null
)

select
    sales_date,
    product_id,
    cast(sum(units_sold) as bigint) as units_sold,
    {{ exact('sum(gmv)') }} as gmv,
    {{ exact('sum(discount_amount)') }} as discount_amount,
    {{ exact('sum(refund_amount)') }} as refund_amount,
    {{ exact('sum(gmv - discount_amount - refund_amount)') }} as net_revenue
from movements
group by sales_date, product_id
