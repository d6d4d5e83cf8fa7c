-- Totals that must agree to the cent (amounts) or to the row (counts): the KPI mart against
-- the facts, and the facts against the raw rows loaded once duplicates are removed.
with

kpi_totals as (
    select
        sum(case when kpi_id = 'sessions' then value end) as sessions,
        sum(case when kpi_id = 'orders' then value end) as orders,
        sum(case when kpi_id = 'gmv' then value end) as gmv,
        sum(case when kpi_id = 'net_revenue' then value end) as net_revenue,
        sum(case when kpi_id = 'spend' then value end) as spend,
    from marts.kpi_daily
    where dimension = 'all'
),

fact_orders as (
    select
        count(*) filter (where is_valid) as orders,
        coalesce(sum(gmv) filter (where is_valid), 0) as gmv,
        coalesce(sum(gmv - discount_amount) filter (where is_valid), 0) as discounted,
        count(*) as all_orders,
    from marts.fct_orders
),

fact_refunds as (
    select coalesce(sum(amount) filter (where is_valid_order), 0) as refunds,
    from marts.fct_refunds
),

checks as (
    select 'kpi_daily sessions = fct_sessions rows' as reconciliation,
        (select count(*) from marts.fct_sessions) as expected,
        (select sessions from kpi_totals) as actual,
    union all
    select 'kpi_daily orders = valid fct_orders',
        (select orders from fact_orders), (select orders from kpi_totals)
    union all
    select 'kpi_daily gmv = fct_orders gmv (valid)',
        (select gmv from fact_orders), (select gmv from kpi_totals)
    union all
    select 'kpi_daily net_revenue = gmv - discounts - refunds (valid)',
        (select discounted from fact_orders) - (select refunds from fact_refunds),
        (select net_revenue from kpi_totals)
    union all
    select 'kpi_daily spend = fct_ad_spend spend',
        (select coalesce(sum(spend), 0) from marts.fct_ad_spend), (select spend from kpi_totals)
    union all
    select 'fct_sessions rows = distinct raw sessions',
        (select count(distinct session_id) from raw.sessions),
        (select count(*) from marts.fct_sessions)
    union all
    select 'fct_events rows = distinct raw events',
        (select count(distinct event_id) from raw.events),
        (select count(*) from marts.fct_events)
    union all
    select 'fct_orders rows = distinct raw orders',
        (select count(distinct order_id) from raw.orders),
        (select all_orders from fact_orders)
)

select
    reconciliation,
    cast(expected as double) as expected,
    cast(actual as double) as actual,
    cast(coalesce(actual, 0) - coalesce(expected, 0) as double) as difference,
from checks
