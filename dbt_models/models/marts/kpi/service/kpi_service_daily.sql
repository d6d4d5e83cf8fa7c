-- Customer service (catalogue §8) per business day × channel × category: tickets on their
-- created date, surveys on their responded date (grain and survey placement:
-- int_service_records_unioned; formulas: macros/kpis/service_kpis.sql). SLA = var sla_minutes
-- (60); detractor follow-up window = var detractor_follow_up_days (7).
with

orders_daily as (
    select * from {{ ref('kpi_orders_daily') }}
),

-- Valid orders of the whole day: the denominator of tickets_per_1k_orders on every row.
valid_orders_daily as (
    select
        kpi_date,
        sum(orders) as orders
    from orders_daily
    group by kpi_date
),

service as (
    {{ service_kpis(['channel', 'category'], 'valid_orders_daily') }}
)

select * from service
