-- Every daily KPI in one long table (catalogue §10): a whole-shop row (dimension 'all') per KPI
-- and day of data, and rows per channel, platform, device, funnel step and campaign. Values
-- come from the same macros as the domain marts; nothing is recomputed differently here.
-- The days of data run from the first to the last day any of those marts has (a shop without
-- web analytics still has its order days); a KPI whose source is absent (dim_kpis) is left out.
{%- set traffic = ['new_visitor_share', 'session_conversion_rate', 'user_conversion_rate'] %}
{%- set traffic_measures = ['sessions', 'visitors'] %}
{%- set orders = ['aov', 'units_per_order', 'member_revenue_share'] %}
{%- set order_measures = ['orders', 'gmv', 'net_revenue'] %}
{%- set campaigns = ['ctr', 'cpc', 'roas', 'campaign_roi', 'cac'] %}
{%- set campaign_measures = ['spend', 'impressions', 'clicks', 'attributed_orders',
                             'attributed_revenue'] %}
{%- set delivery = ['on_time_delivery_rate', 'delivery_days', 'shipping_cost_per_order',
                    'shipping_cost_ratio'] %}
{%- set delivery_measures = ['overdue_open_shipments'] %}
{%- set service = ['tickets_per_1k_orders', 'sla_attainment', 'first_contact_resolution', 'csat',
                   'nps', 'survey_response_rate', 'detractor_follow_up_rate'] %}
{%- set service_measures = ['tickets', 'first_response_minutes', 'first_response_minutes_p90',
                            'resolution_hours', 'resolution_hours_p90'] %}
with

orders_by_day as (
    {{ order_kpis('movement_date', []) }}
),

campaigns_by_day as (
    {{ campaign_kpis(['kpi_date']) }}
),

data_days as (
    select kpi_date from {{ ref('kpi_traffic_totals_daily') }}
    union all
    select kpi_date from orders_by_day
    union all
    select kpi_date from campaigns_by_day
    union all
    select kpi_date from {{ ref('kpi_service_daily') }}
    union all
    select kpi_date from {{ ref('kpi_delivery_daily') }}
),

data_range as (
    select min(kpi_date) as first_day, max(kpi_date) as last_day
    from data_days
),

days as (
    select dim_date.date_day as kpi_date
    from {{ ref('dim_date') }} as dim_date
    inner join data_range
        on dim_date.date_day between data_range.first_day and data_range.last_day
),

traffic_all as (
    select
        days.kpi_date,
        coalesce(totals.sessions, 0) as sessions,
        coalesce(totals.visitors, 0) as visitors,
        {%- for kpi_id in traffic + ['registration_rate'] %}
        totals.{{ kpi_id }}_numerator,
        totals.{{ kpi_id }}_denominator,
        totals.{{ kpi_id }},
        {%- endfor %}
        -- the whole shop's share of its own sessions: 1 on any day with traffic
        {{ ratio(
            'channel_share', 'coalesce(totals.sessions, 0)', 'coalesce(totals.sessions, 0)'
        ) }}
    from days
    left join {{ ref('kpi_traffic_totals_daily') }} as totals on days.kpi_date = totals.kpi_date
),

{%- for dim in ['channel', 'platform', 'device'] %}

traffic_by_{{ dim }} as (
    {{ traffic_kpis([dim]) }}
),
{%- endfor %}

channel_sessions as (
    select kpi_date, channel, sum(sessions) as sessions
    from {{ ref('kpi_traffic_daily') }}
    group by kpi_date, channel
),

channel_share as (
    select
        kpi_date,
        channel,
        {{ ratio('channel_share', 'sessions', 'sum(sessions) over (partition by kpi_date)') }}
    from channel_sessions
),

funnel_steps as (
    select
        kpi_date,
        funnel_step,
        step_number,
        {{ ratio('funnel_step_rate', 'sum(step_sessions)', 'sum(previous_step_sessions)') }}
    from {{ ref('kpi_funnel_daily') }}
    group by kpi_date, funnel_step, step_number
),

-- The whole funnel (sessions reaching purchase through every step ÷ sessions) is the
-- whole-shop figure of the step rate: the product of the four step rates.
funnel_all as (
    select
        days.kpi_date,
        {{ ratio(
            'funnel_step_rate',
            'coalesce(sum(funnel.step_sessions), 0)',
            'coalesce(sum(funnel.sessions), 0)',
        ) }}
    from days
    left join {{ ref('kpi_funnel_daily') }} as funnel
        on days.kpi_date = funnel.kpi_date
        and funnel.funnel_step = 'purchase'
    group by days.kpi_date
),

orders_all as (
    select
        {%- for kpi_id in order_measures %}
        coalesce(orders_by_day.{{ kpi_id }}, 0) as {{ kpi_id }},
        {%- endfor %}
        {%- for kpi_id in orders %}
        coalesce(orders_by_day.{{ kpi_id }}_numerator, 0) as {{ kpi_id }}_numerator,
        coalesce(orders_by_day.{{ kpi_id }}_denominator, 0) as {{ kpi_id }}_denominator,
        orders_by_day.{{ kpi_id }},
        {%- endfor %}
        days.kpi_date
    from days
    left join orders_by_day on days.kpi_date = orders_by_day.kpi_date
),

{%- for dim in ['channel', 'platform'] %}

orders_by_{{ dim }} as (
    {{ order_kpis('movement_date', [dim]) }}
),
{%- endfor %}

campaigns_all as (
    select
        {%- for kpi_id in campaign_measures %}
        coalesce(campaigns_by_day.{{ kpi_id }}, 0) as {{ kpi_id }},
        {%- endfor %}
        {%- for kpi_id in campaigns %}
        coalesce(campaigns_by_day.{{ kpi_id }}_numerator, 0) as {{ kpi_id }}_numerator,
        coalesce(campaigns_by_day.{{ kpi_id }}_denominator, 0) as {{ kpi_id }}_denominator,
        campaigns_by_day.{{ kpi_id }},
        {%- endfor %}
        days.kpi_date
    from days
    left join campaigns_by_day on days.kpi_date = campaigns_by_day.kpi_date
),

campaigns_by_campaign as (
    select * from {{ ref('kpi_campaigns_daily') }}
),

-- Customer service (§8): every day of data, plus per ticket channel and ticket category
-- (dimensions service_channel / ticket_category: not the traffic channel or product category).
service_all as (
    {{ service_kpis([], 'orders_all', spine='days') }}
),

{%- for dim in ['channel', 'category'] %}

service_by_{{ dim }} as (
    {{ service_kpis([dim], 'orders_all') }}
),
{%- endfor %}

-- Delivery (§6): every day of data for the whole shop (days without deliveries or shipments
-- count 0, their ratios NULL), and per carrier.
delivery_all as (
    select
        days.kpi_date,
        {%- for kpi_id in delivery %}
        {{ ratio(
            kpi_id,
            'coalesce(' ~ exact_sum('delivery.' ~ kpi_id ~ '_numerator') ~ ', 0)',
            'coalesce(' ~ exact_sum('delivery.' ~ kpi_id ~ '_denominator') ~ ', 0)',
        ) }},
        {%- endfor %}
        coalesce(sum(delivery.overdue_open_shipments), 0) as overdue_open_shipments
    from days
    left join {{ ref('kpi_delivery_daily') }} as delivery on days.kpi_date = delivery.kpi_date
    group by days.kpi_date
),

delivery_by_carrier as (
    select * from {{ ref('kpi_delivery_daily') }}
),

unioned as (
    {{ kpi_rows('traffic_all', traffic_measures + traffic + ['registration_rate', 'channel_share'],
                measures=traffic_measures) }}
    {%- for dim in ['channel', 'platform', 'device'] %}
    union all
    {{ kpi_rows('traffic_by_' ~ dim, traffic_measures + traffic, dim, dim,
                measures=traffic_measures) }}
    {%- endfor %}
    union all
    {{ kpi_rows('channel_share', ['channel_share'], 'channel', 'channel') }}
    union all
    {{ kpi_rows('funnel_all', ['funnel_step_rate']) }}
    union all
    {{ kpi_rows('funnel_steps', ['funnel_step_rate'], 'funnel_step', 'funnel_step') }}
    union all
    {{ kpi_rows('orders_all', order_measures + orders, measures=order_measures) }}
    {%- for dim in ['channel', 'platform'] %}
    union all
    {{ kpi_rows('orders_by_' ~ dim, order_measures + orders, dim, dim,
                measures=order_measures) }}
    {%- endfor %}
    union all
    {{ kpi_rows('campaigns_all', campaign_measures + campaigns, measures=campaign_measures) }}
    union all
    {{ kpi_rows('campaigns_by_campaign', campaign_measures + campaigns, 'campaign_id',
                'campaign_id', measures=campaign_measures) }}
    union all
    {{ kpi_rows('service_all', service_measures + service, measures=service_measures) }}
    {%- for dim, dimension in [('channel', 'service_channel'), ('category', 'ticket_category')] %}
    union all
    {{ kpi_rows('service_by_' ~ dim, service_measures + service, dimension, dim,
                measures=service_measures) }}
    {%- endfor %}
    union all
    {{ kpi_rows('delivery_all', delivery_measures + delivery, measures=delivery_measures) }}
    union all
    {{ kpi_rows('delivery_by_carrier', delivery_measures + delivery, 'carrier', 'carrier',
                measures=delivery_measures) }}
)

select
    unioned.kpi_date,
    unioned.kpi_id,
    unioned.dimension,
    unioned.dimension_value,
    unioned.numerator,
    unioned.denominator,
    unioned.value,
    kpis.unit
from unioned
inner join {{ ref('dim_kpis') }} as kpis on unioned.kpi_id = kpis.kpi_id
where kpis.is_available
