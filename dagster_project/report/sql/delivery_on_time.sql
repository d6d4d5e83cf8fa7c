-- Weekly on-time delivery rate per carrier: Σ delivered on or before the promise ÷ Σ delivered.
with

weeks as (
    select * from report_weeks($as_of, $first_date, $weeks)
)

select
    delivery.carrier as series,
    'on_time_delivery_rate' as kpi_id,
    weeks.week_end as x,
    safe_divide(
        sum(delivery.on_time_delivery_rate_numerator),
        sum(delivery.on_time_delivery_rate_denominator)
    ) as y,
from kpi_delivery_daily as delivery
inner join weeks on delivery.kpi_date between weeks.week_start and weeks.week_end
group by delivery.carrier, weeks.week_end
order by sum(sum(delivery.on_time_delivery_rate_denominator)) over (partition by delivery.carrier) desc,
    delivery.carrier,
    weeks.week_end
