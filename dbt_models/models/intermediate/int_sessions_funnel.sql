-- The closed, in-session funnel: a session reaches a step only if it reached every earlier
-- step before it (session -> product_view -> add_to_cart -> begin_checkout -> purchase).
-- Incremental: recomputes, from all their events, the sessions with an event loaded since the
-- last build or delivered in the build window.
{{ config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

events as (
    select * from {{ ref('stg_events') }}
    {%- if is_incremental() %}
    where session_id in (
        select session_id from {{ ref('stg_events') }}
        where {{ in_build_window('_delivery_date', '_loaded_at') }}
    )
    {%- endif %}
),

product_views as (
    select session_id, min(event_at) as reached_at
    from events
    where event_type = 'product_view'
    group by session_id
),

carts as (
    select events.session_id, min(events.event_at) as reached_at
    from events
    inner join product_views
        on events.session_id = product_views.session_id
        and events.event_at >= product_views.reached_at
    where events.event_type = 'add_to_cart'
    group by events.session_id
),

checkouts as (
    select events.session_id, min(events.event_at) as reached_at
    from events
    inner join carts
        on events.session_id = carts.session_id
        and events.event_at >= carts.reached_at
    where events.event_type = 'begin_checkout'
    group by events.session_id
),

funnel_purchases as (
    select events.session_id, min(events.event_at) as reached_at
    from events
    inner join checkouts
        on events.session_id = checkouts.session_id
        and events.event_at >= checkouts.reached_at
    where events.event_type = 'purchase'
    group by events.session_id
),

activity as (
    select
        session_id,
        count(*) as events,
        sum(case when event_type = 'page_view' then 1 else 0 end) as page_views,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        max(_loaded_at) as _loaded_at,
        max(_delivery_date) as _delivery_date
    from events
    group by session_id
)

select
    activity.session_id,
    activity.events,
    activity.page_views,
    activity.purchases,
    activity.purchases > 0 as has_purchase,
    product_views.session_id is not null as reached_product_view,
    carts.session_id is not null as reached_add_to_cart,
    checkouts.session_id is not null as reached_begin_checkout,
    funnel_purchases.session_id is not null as reached_purchase,
    activity._loaded_at,
    activity._delivery_date
from activity
left join product_views on activity.session_id = product_views.session_id
left join carts on activity.session_id = carts.session_id
left join checkouts on activity.session_id = checkouts.session_id
left join funnel_purchases on activity.session_id = funnel_purchases.session_id
