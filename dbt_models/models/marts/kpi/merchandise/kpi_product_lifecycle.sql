-- Lifecycle stage per product × month (catalogue §5), as of the month's last day of data,
-- for every product launched by then. In order of precedence:
--   discontinued  discontinued_date on or before that day;
--   introduction  at most 90 days since launch;
--   growth        units of the trailing 3 months (the month and the 2 before) >= 1.2 × units of
--                 the 3 months before those; decline: <= 0.8 ×; maturity: in between.
-- When the 3 months before sold nothing, any sale in the trailing 3 is growth (the rule reads
-- so) and no sale in either window is decline: a product past introduction that sells nothing
-- is not growing. Growth, maturity and decline need all 6 months of sales: when part of them
-- lies before the first day of sales data while the product was already launched, the stage
-- is NULL and has_full_history false.
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

months as (
    select
        calendar.month_start as kpi_month,
        max(calendar.date_day) as month_end_date
    from calendar
    inner join data_range
        on calendar.date_day between data_range.first_day and data_range.last_day
    group by calendar.month_start
),

monthly_units as (
    select
        product_id,
        cast({{ dbt.date_trunc('month', 'sales_date') }} as date) as sales_month,
        sum(units_sold) as units_sold
    from sales
    group by product_id, cast({{ dbt.date_trunc('month', 'sales_date') }} as date)
),

product_months as (
    select
        months.kpi_month,
        months.month_end_date,
        products.product_id,
        products.category,
        products.launched_date,
        products.discontinued_date,
        {{ dbt.datediff('products.launched_date', 'months.month_end_date', 'day') }}
            as days_since_launch,
        cast({{ dbt.dateadd('month', -2, 'months.kpi_month') }} as date) as trailing_window_start,
        cast({{ dbt.dateadd('month', -5, 'months.kpi_month') }} as date) as prior_window_start,
        coalesce(products.launched_date >= data_range.first_day, false)
        or {{ dbt.dateadd('month', -5, 'months.kpi_month') }} >= data_range.first_day
            as has_full_history
    from months
    cross join data_range
    -- an unknown launch date: on sale since before the data (never in introduction)
    inner join products
        on products.launched_date is null or months.month_end_date >= products.launched_date
),

windows as (
    select
        product_months.kpi_month,
        product_months.product_id,
        coalesce(sum(
            case
                when monthly_units.sales_month >= product_months.trailing_window_start
                    then monthly_units.units_sold
            end
        ), 0) as trailing_3_month_units,
        coalesce(sum(
            case
                when monthly_units.sales_month < product_months.trailing_window_start
                    then monthly_units.units_sold
            end
        ), 0) as prior_3_month_units
    from product_months
    left join monthly_units
        on product_months.product_id = monthly_units.product_id
        and monthly_units.sales_month <= product_months.kpi_month
        and monthly_units.sales_month >= product_months.prior_window_start
    group by product_months.kpi_month, product_months.product_id
)

select
    product_months.kpi_month,
    product_months.product_id,
    product_months.category,
    product_months.month_end_date,
    product_months.launched_date,
    product_months.discontinued_date,
    product_months.days_since_launch,
    cast(windows.trailing_3_month_units as bigint) as trailing_3_month_units,
    cast(windows.prior_3_month_units as bigint) as prior_3_month_units,
    product_months.has_full_history,
    case
        when product_months.discontinued_date <= product_months.month_end_date
            then 'discontinued'
        when product_months.days_since_launch <= 90 then 'introduction'
        when not product_months.has_full_history then null
        when windows.trailing_3_month_units = 0 and windows.prior_3_month_units = 0
            then 'decline'
        -- integer comparisons, so exactly 1.2 × and 0.8 × fall where the catalogue puts them
        when 10 * windows.trailing_3_month_units >= 12 * windows.prior_3_month_units
            then 'growth'
        when 10 * windows.trailing_3_month_units <= 8 * windows.prior_3_month_units
            then 'decline'
        else 'maturity'
    end as lifecycle_stage
from product_months
inner join windows
    on product_months.kpi_month = windows.kpi_month
    and product_months.product_id = windows.product_id
