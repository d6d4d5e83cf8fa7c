-- Weekly valid orders and AOV ((GMV − discounts) ÷ orders, from summed parts).
with

weeks as (
    select * from report_weeks($as_of, $first_date, $weeks)
),

-- every week of the chart, a week without an order too (0 orders, no AOV)
weekly as (
    select
        weeks.week_end,
        coalesce(sum(orders.orders), 0) as orders,
        safe_divide(sum(orders.aov_numerator), sum(orders.aov_denominator)) as aov,
    from weeks
    left join kpi_orders_daily as orders
        on orders.kpi_date between weeks.week_start and weeks.week_end
    group by weeks.week_end
)

select
    'Orders' as series,
    'orders' as kpi_id,
    week_end as x,
    orders as y,
from weekly
union all
select
    'AOV' as series,
    'aov' as kpi_id,
    week_end as x,
    aov as y,
from weekly
order by kpi_id desc, x
