-- New-product launches (catalogue §5): one row per product launched within the sales data, with
-- its first 30 days (launch day + 29) beside the median of the same figures over the category's
-- new products whose first 30 days are complete.
--   units and net revenue: valid orders' units and net revenue (int_product_sales_daily);
--   sell-through = units ÷ (units on hand at launch + units received in the 30 days), where
--     the stock at launch is the launch day's snapshot before that day's sales and receipts
--     (0 without a snapshot that day);
--   each figure is also published as a ratio to its category median (1 = a typical launch).
-- A launch whose 30 days run past the last day of data is is_complete = false: its figures are
-- partial and it is not one of the products the medians are taken over.
with

products as (
    select * from {{ ref('dim_products') }}
),

sales as (
    select * from {{ ref('int_product_sales_daily') }}
),

inventory as (
    select * from {{ ref('fct_inventory_daily') }}
),

purchase_orders as (
    select * from {{ ref('fct_purchase_orders') }}
    where is_received
),

data_range as (
    select min(sales_date) as first_day, max(sales_date) as last_day
    from sales
),

launches as (
    select
        products.product_id,
        products.category,
        products.launched_date,
        cast({{ dbt.date_trunc('month', 'products.launched_date') }} as date) as launch_month,
        cast({{ dbt.dateadd('day', 29, 'products.launched_date') }} as date) as window_end_date,
        {{ dbt.dateadd('day', 29, 'products.launched_date') }} <= data_range.last_day
            as is_complete
    from products
    inner join data_range
        on products.launched_date between data_range.first_day and data_range.last_day
),

first30_sales as (
    select
        launches.product_id,
        sum(sales.units_sold) as units_sold,
        sum(sales.net_revenue) as net_revenue
    from launches
    inner join sales
        on launches.product_id = sales.product_id
        and sales.sales_date between launches.launched_date and launches.window_end_date
    group by launches.product_id
),

first30_receipts as (
    select
        launches.product_id,
        sum(purchase_orders.qty_received) as units_received
    from launches
    inner join purchase_orders
        on launches.product_id = purchase_orders.product_id
        and purchase_orders.received_date
        between launches.launched_date and launches.window_end_date
    group by launches.product_id
),

first30 as (
    select
        launches.*,
        coalesce(
            launch_stock.on_hand_units + launch_stock.units_sold - launch_stock.units_received, 0
        ) as opening_units,
        cast(coalesce(first30_sales.units_sold, 0) as bigint) as first30_units,
        cast(coalesce(first30_sales.net_revenue, 0) as decimal(18, 2)) as first30_net_revenue,
        cast(coalesce(first30_receipts.units_received, 0) as bigint) as first30_units_received
    from launches
    left join inventory as launch_stock
        on launches.product_id = launch_stock.product_id
        and launches.launched_date = launch_stock.snapshot_date
    left join first30_sales on launches.product_id = first30_sales.product_id
    left join first30_receipts on launches.product_id = first30_receipts.product_id
),

with_sell_through as (
    select
        *,
        {{ ratio(
            'first30_sell_through',
            'first30_units',
            'opening_units + first30_units_received',
        ) }}
    from first30
),

category_medians as (
    select
        category,
        count(*) as category_complete_launches,
        cast(percentile_cont(0.5) within group (order by first30_units) as double)
            as category_median_units,
        cast(percentile_cont(0.5) within group (order by first30_net_revenue) as double)
            as category_median_net_revenue,
        cast(percentile_cont(0.5) within group (order by first30_sell_through) as double)
            as category_median_sell_through
    from with_sell_through
    where is_complete
    group by category
)

select
    with_sell_through.product_id,
    with_sell_through.category,
    with_sell_through.launch_month,
    with_sell_through.launched_date,
    with_sell_through.window_end_date,
    with_sell_through.is_complete,
    with_sell_through.first30_units,
    with_sell_through.first30_net_revenue,
    cast(with_sell_through.opening_units as bigint) as opening_units,
    with_sell_through.first30_units_received,
    with_sell_through.first30_sell_through_numerator,
    cast(with_sell_through.first30_sell_through_denominator as bigint)
        as first30_sell_through_denominator,
    with_sell_through.first30_sell_through,
    coalesce(category_medians.category_complete_launches, 0) as category_complete_launches,
    {{ ratio(
        'units_to_category_median',
        'with_sell_through.first30_units',
        'category_medians.category_median_units',
    ) }},
    {{ ratio(
        'net_revenue_to_category_median',
        'with_sell_through.first30_net_revenue',
        'category_medians.category_median_net_revenue',
    ) }},
    {{ ratio(
        'sell_through_to_category_median',
        'with_sell_through.first30_sell_through',
        'category_medians.category_median_sell_through',
    ) }}
from with_sell_through
left join category_medians on with_sell_through.category = category_medians.category
