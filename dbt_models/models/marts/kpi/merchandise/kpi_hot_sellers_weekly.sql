-- Hot sellers (爆款) per product × ISO week (catalogue §5), as of the week's Sunday: a product is
-- a hot seller when its trailing-28-day net revenue is in the top 5% of its category (at or
-- above the category's 95th percentile, interpolated, so products tied at the threshold all
-- qualify; a product without revenue never does) and its trailing-28-day units are >= 1.1 × the
-- 28 days before. The ranked products are those on sale at some time in the trailing 28 days.
-- Only complete weeks whose 56-day look-back lies within the sales data are published.
with

products as (
    select * from {{ ref('dim_products') }}
),

sales as (
    select * from {{ ref('int_product_sales_daily') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

data_range as (
    select min(sales_date) as first_day, max(sales_date) as last_day
    from sales
),

weeks as (
    select
        calendar.week_start,
        max(calendar.date_day) as week_end
    from calendar
    inner join data_range
        on calendar.date_day between data_range.first_day and data_range.last_day
    group by calendar.week_start, data_range.first_day
    having
        count(*) = 7
        and {{ dbt.dateadd('day', -55, 'max(calendar.date_day)') }} >= data_range.first_day
),

product_weeks as (
    select
        weeks.week_start,
        weeks.week_end,
        products.product_id,
        products.category
    from weeks
    inner join products
        -- an unknown launch date: on sale since before the data
        on (products.launched_date is null or products.launched_date <= weeks.week_end)
        and (
            products.discontinued_date is null
            or products.discontinued_date > {{ dbt.dateadd('day', -27, 'weeks.week_end') }}
        )
),

windows as (
    select
        product_weeks.week_start,
        product_weeks.product_id,
        coalesce(sum(
            case
                when sales.sales_date > {{ dbt.dateadd('day', -28, 'product_weeks.week_end') }}
                    then sales.units_sold
            end
        ), 0) as trailing_28d_units,
        coalesce(sum(
            case
                when sales.sales_date <= {{ dbt.dateadd('day', -28, 'product_weeks.week_end') }}
                    then sales.units_sold
            end
        ), 0) as prior_28d_units,
        cast(coalesce(sum(
            case
                when sales.sales_date > {{ dbt.dateadd('day', -28, 'product_weeks.week_end') }}
                    then sales.net_revenue
            end
        ), 0) as double) as trailing_28d_net_revenue
    from product_weeks
    left join sales
        on product_weeks.product_id = sales.product_id
        and sales.sales_date <= product_weeks.week_end
        and sales.sales_date > {{ dbt.dateadd('day', -56, 'product_weeks.week_end') }}
    group by product_weeks.week_start, product_weeks.product_id
),

ranked as (
    select
        product_weeks.week_start,
        product_weeks.week_end,
        product_weeks.product_id,
        product_weeks.category,
        cast(windows.trailing_28d_units as bigint) as trailing_28d_units,
        cast(windows.prior_28d_units as bigint) as prior_28d_units,
        windows.trailing_28d_net_revenue
    from product_weeks
    inner join windows
        on product_weeks.week_start = windows.week_start
        and product_weeks.product_id = windows.product_id
),

thresholds as (
    select
        week_start,
        category,
        count(*) as category_products,
        cast(
            percentile_cont(0.95) within group (order by trailing_28d_net_revenue) as double
        ) as category_revenue_p95
    from ranked
    group by week_start, category
),

flagged as (
    select
        ranked.*,
        thresholds.category_products,
        thresholds.category_revenue_p95,
        ranked.trailing_28d_net_revenue > 0
        and ranked.trailing_28d_net_revenue >= thresholds.category_revenue_p95
            as is_top_5_percent,
        -- integer comparison, so exactly 1.1 × counts as growth
        10 * ranked.trailing_28d_units >= 11 * ranked.prior_28d_units as has_unit_growth
    from ranked
    inner join thresholds
        on ranked.week_start = thresholds.week_start
        and ranked.category = thresholds.category
)

select
    week_start,
    week_end,
    product_id,
    category,
    trailing_28d_units,
    prior_28d_units,
    trailing_28d_net_revenue,
    category_products,
    category_revenue_p95,
    is_top_5_percent,
    has_unit_growth,
    is_top_5_percent and has_unit_growth as is_hot_seller
from flagged
