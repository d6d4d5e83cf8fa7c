-- Delivery performance per business day × carrier (catalogue §6), on every day from the first
-- shipment to the last shipment event, for every carrier:
--   on-time delivery rate = shipments delivered that day with delivered_at <= promised_at ÷
--     shipments delivered that day (by delivery date);
--   overdue open shipments = shipments still open (not delivered, lost or returned) at the end
--     of the day whose promised_at has passed by then;
--   delivery days = mean (Σ days ÷ deliveries) and p90 of delivered_at − shipped_at in days,
--     over the shipments delivered that day;
--   shipping cost per order = Σ shipping cost of the shipments shipped that day ÷ the orders
--     they ship (an order counts once, on its first shipment);
--   shipping cost ratio = the same Σ shipping cost ÷ the net revenue of those orders.
with

shipments as (
    select * from {{ ref('int_shipments_closed') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

data_range as (
    select
        min(shipped_date) as first_day,
        greatest(
            max(shipped_date), coalesce(max(closed_date), max(shipped_date))
        ) as last_day
    from shipments
),

carriers as (
    select distinct carrier from shipments
),

carrier_days as (
    select
        calendar.date_day as kpi_date,
        carriers.carrier
    from calendar
    inner join data_range
        on calendar.date_day between data_range.first_day and data_range.last_day
    cross join carriers
),

deliveries as (
    select
        delivered_date as kpi_date,
        carrier,
        count(*) as delivered_shipments,
        count(case when is_on_time then 1 end) as on_time_shipments,
        {{ exact_sum('delivery_days') }} as delivery_days_total,
        cast(
            percentile_cont(0.9) within group (order by delivery_days) as double
        ) as delivery_days_p90
    from shipments
    where is_delivered
    group by delivered_date, carrier
),

dispatched as (
    select
        shipments.shipped_date,
        shipments.carrier,
        shipments.shipping_cost,
        row_number() over (
            partition by shipments.order_id
            order by shipments.shipped_at, shipments.shipment_id
        ) = 1 as is_first_shipment,
        coalesce(case when orders.is_valid then orders.net_revenue end, 0) as order_net_revenue
    from shipments
    left join orders on shipments.order_id = orders.order_id
),

dispatches as (
    select
        shipped_date as kpi_date,
        carrier,
        sum(shipping_cost) as shipping_cost,
        count(case when is_first_shipment then 1 end) as shipped_orders,
        sum(case when is_first_shipment then order_net_revenue else 0 end)
            as shipped_net_revenue
    from dispatched
    group by shipped_date, carrier
),

-- A shipment is overdue and open from its promised date until the day it closes (exclusive):
-- +1 on the promised date, −1 on the closing date, summed up to each day.
overdue_events as (
    select promised_date as kpi_date, carrier, 1 as overdue_change
    from shipments
    where closed_date is null or closed_date > promised_date
    union all
    select closed_date as kpi_date, carrier, -1 as overdue_change
    from shipments
    where closed_date > promised_date
),

overdue_changes as (
    select
        kpi_date,
        carrier,
        sum(overdue_change) as overdue_change
    from overdue_events
    group by kpi_date, carrier
)

select
    carrier_days.kpi_date,
    carrier_days.carrier,
    {{ ratio(
        'on_time_delivery_rate',
        'coalesce(deliveries.on_time_shipments, 0)',
        'coalesce(deliveries.delivered_shipments, 0)',
    ) }},
    cast(sum(coalesce(overdue_changes.overdue_change, 0)) over (
        partition by carrier_days.carrier
        order by carrier_days.kpi_date
        rows between unbounded preceding and current row
    ) as bigint) as overdue_open_shipments,
    {{ ratio(
        'delivery_days',
        'coalesce(deliveries.delivery_days_total, 0)',
        'coalesce(deliveries.delivered_shipments, 0)',
    ) }},
    deliveries.delivery_days_p90,
    {{ ratio(
        'shipping_cost_per_order',
        'coalesce(dispatches.shipping_cost, 0)',
        'coalesce(dispatches.shipped_orders, 0)',
    ) }},
    {{ ratio(
        'shipping_cost_ratio',
        'coalesce(dispatches.shipping_cost, 0)',
        'coalesce(dispatches.shipped_net_revenue, 0)',
    ) }}
from carrier_days
left join deliveries
    on carrier_days.kpi_date = deliveries.kpi_date
    and carrier_days.carrier = deliveries.carrier
left join dispatches
    on carrier_days.kpi_date = dispatches.kpi_date
    and carrier_days.carrier = dispatches.carrier
left join overdue_changes
    on carrier_days.kpi_date = overdue_changes.kpi_date
    and carrier_days.carrier = overdue_changes.carrier
