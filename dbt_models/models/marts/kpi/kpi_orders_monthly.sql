-- Order KPIs per month, and the repeat-customer rate: customers with at least two valid orders
-- in the month ÷ customers with at least one (catalogue §4).
with

orders as (
    {{ order_kpis(
        "cast(" ~ dbt.date_trunc('month', 'movement_date') ~ " as date)", [], 'kpi_month',
    ) }}
),

customer_months as (
    select
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as kpi_month,
        customer_id,
        count(*) as valid_orders
    from {{ ref('fct_orders') }}
    where is_valid
    group by kpi_month, customer_id
),

repeat_customers as (
    select
        kpi_month,
        {{ ratio(
            'repeat_customer_rate',
            'sum(case when valid_orders >= 2 then 1 else 0 end)',
            'count(*)',
        ) }}
    from customer_months
    group by kpi_month
)

select
    orders.*,
    repeat_customers.repeat_customer_rate_numerator,
    repeat_customers.repeat_customer_rate_denominator,
    repeat_customers.repeat_customer_rate
from orders
left join repeat_customers on orders.kpi_month = repeat_customers.kpi_month
