-- Stock-out rate, slow-moving share and category structure per month × category, and for the
-- whole shop (category 'all') (catalogue §5). A product is active on a day when it is launched
-- (launched_date <= day) and not yet discontinued (no discontinued_date, or a later one).
--   stock-out rate = product-days of active products with nothing on hand ÷ product-days of
--     active products (days with a stock snapshot);
--   slow-moving share = active products with stock > 0 and no unit sold in the 90 days ending
--     on the month's last day ÷ active products, both on the month's last day (the last day
--     of the month with a stock snapshot);
--   category sales share = the category's net revenue ÷ the shop's net revenue of the month,
--     beside the active product count on the month's last day.
with

inventory as (
    select * from {{ ref('fct_inventory_daily') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

sales as (
    select * from {{ ref('int_product_sales_daily') }}
),

month_ends as (
    select
        cast({{ dbt.date_trunc('month', 'snapshot_date') }} as date) as kpi_month,
        max(snapshot_date) as month_end_date
    from inventory
    group by cast({{ dbt.date_trunc('month', 'snapshot_date') }} as date)
),

active_product_days as (
    select
        cast({{ dbt.date_trunc('month', 'inventory.snapshot_date') }} as date) as kpi_month,
        products.category,
        inventory.on_hand_units
    from inventory
    inner join products on inventory.product_id = products.product_id
    where {{ is_active_product('products', 'inventory.snapshot_date') }}
),

recent_sales as (
    select
        month_ends.kpi_month,
        sales.product_id,
        sum(sales.units_sold) as units_sold
    from month_ends
    inner join sales
        on sales.sales_date <= month_ends.month_end_date
        and sales.sales_date > {{ dbt.dateadd('day', -90, 'month_ends.month_end_date') }}
    group by month_ends.kpi_month, sales.product_id
),

month_end_products as (
    select
        month_ends.kpi_month,
        products.category,
        coalesce(stock.on_hand_units, 0) > 0
        and coalesce(recent_sales.units_sold, 0) = 0 as is_slow_moving
    from month_ends
    inner join products
        on {{ is_active_product('products', 'month_ends.month_end_date') }}
    left join inventory as stock
        on products.product_id = stock.product_id
        and month_ends.month_end_date = stock.snapshot_date
    left join recent_sales
        on month_ends.kpi_month = recent_sales.kpi_month
        and products.product_id = recent_sales.product_id
),

category_sales as (
    select
        cast({{ dbt.date_trunc('month', 'sales.sales_date') }} as date) as kpi_month,
        products.category,
        sales.net_revenue
    from sales
    inner join products on sales.product_id = products.product_id
),

active_product_days_and_all as (
    select kpi_month, category, on_hand_units from active_product_days
    union all
    select kpi_month, 'all' as category, on_hand_units from active_product_days
),

month_end_products_and_all as (
    select kpi_month, category, is_slow_moving from month_end_products
    union all
    select kpi_month, 'all' as category, is_slow_moving from month_end_products
),

category_sales_and_all as (
    select kpi_month, category, net_revenue from category_sales
    union all
    select kpi_month, 'all' as category, net_revenue from category_sales
),

stockouts as (
    select
        kpi_month,
        category,
        count(*) as active_product_days,
        count(case when on_hand_units = 0 then 1 end) as stocked_out_product_days
    from active_product_days_and_all
    group by kpi_month, category
),

assortment as (
    select
        kpi_month,
        category,
        count(*) as active_products,
        count(case when is_slow_moving then 1 end) as slow_moving_products
    from month_end_products_and_all
    group by kpi_month, category
),

revenue as (
    select
        kpi_month,
        category,
        cast(sum(net_revenue) as decimal(18, 2)) as net_revenue
    from category_sales_and_all
    group by kpi_month, category
),

months_categories as (
    select kpi_month, category from stockouts
    union
    select kpi_month, category from assortment
    union
    select kpi_month, category from revenue
)

select
    months_categories.kpi_month,
    months_categories.category,
    month_ends.month_end_date,
    {{ ratio(
        'stockout_rate',
        'coalesce(stockouts.stocked_out_product_days, 0)',
        'coalesce(stockouts.active_product_days, 0)',
    ) }},
    coalesce(assortment.active_products, 0) as active_products,
    {{ ratio(
        'slow_moving_share',
        'coalesce(assortment.slow_moving_products, 0)',
        'coalesce(assortment.active_products, 0)',
    ) }},
    coalesce(revenue.net_revenue, 0) as net_revenue,
    {{ ratio(
        'category_sales_share',
        'coalesce(revenue.net_revenue, 0)',
        'coalesce(shop_revenue.net_revenue, 0)',
    ) }}
from months_categories
left join month_ends on months_categories.kpi_month = month_ends.kpi_month
left join stockouts
    on months_categories.kpi_month = stockouts.kpi_month
    and months_categories.category = stockouts.category
left join assortment
    on months_categories.kpi_month = assortment.kpi_month
    and months_categories.category = assortment.category
left join revenue
    on months_categories.kpi_month = revenue.kpi_month
    and months_categories.category = revenue.category
left join revenue as shop_revenue
    on months_categories.kpi_month = shop_revenue.kpi_month
    and shop_revenue.category = 'all'
