-- One row per visit: where it came from, whether the visitor was new that day, and how far
-- down the closed funnel it went. Incremental: sessions loaded, or whose events were loaded,
-- since the last build, or whose newest delivery (session or events) is in the build window;
-- and every session built before whose visitor's first session day has changed since (a late
-- file with an earlier session of the visitor), as is_new_visitor depends on it.
{{ config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='delete+insert',
) }}

with

{%- if is_incremental() %}

-- candidates: the sessions whose own row or events are in the build window (the filter at
-- the end keeps those whose newest load or delivery is)
changed as (
    select session_id from {{ ref('stg_sessions') }}
    where {{ in_build_window('_delivery_date', '_loaded_at') }}
    union
    select session_id from {{ ref('int_sessions_funnel') }}
    where {{ in_build_window('_delivery_date', '_loaded_at') }}
),

restated as (
    select built.session_id from {{ this }} as built
    inner join {{ ref('int_visitors_first_seen') }} as first_seen
        on built.visitor_id = first_seen.visitor_id
    where built.first_session_date <> first_seen.first_session_date
),
{%- endif %}

sessions as (
    select * from {{ ref('stg_sessions') }}
    {%- if is_incremental() %}
    where session_id in (select session_id from changed union select session_id from restated)
    {%- endif %}
),

first_seen as (
    select * from {{ ref('int_visitors_first_seen') }}
),

funnel as (
    select * from {{ ref('int_sessions_funnel') }}
),

session_loads as (
    select
        sessions.session_id,
        greatest(sessions._loaded_at, coalesce(funnel._loaded_at, sessions._loaded_at))
            as loaded_at,
        greatest(
            sessions._delivery_date, coalesce(funnel._delivery_date, sessions._delivery_date)
        ) as delivery_date
    from sessions
    left join funnel on sessions.session_id = funnel.session_id
)

select
    sessions.session_id,
    sessions.visitor_id,
    sessions.customer_id,
    sessions.campaign_id,
    sessions.session_date,
    sessions.started_at,
    sessions.channel,
    sessions.platform,
    sessions.device,
    sessions.landing_page,
    first_seen.first_session_date,
    first_seen.first_session_date = sessions.session_date as is_new_visitor,
    coalesce(funnel.events, 0) as events,
    coalesce(funnel.page_views, 0) as page_views,
    coalesce(funnel.purchases, 0) as purchases,
    coalesce(funnel.has_purchase, false) as has_purchase,
    coalesce(funnel.reached_product_view, false) as reached_product_view,
    coalesce(funnel.reached_add_to_cart, false) as reached_add_to_cart,
    coalesce(funnel.reached_begin_checkout, false) as reached_begin_checkout,
    coalesce(funnel.reached_purchase, false) as reached_purchase,
    session_loads.loaded_at as _loaded_at,
    session_loads.delivery_date as _delivery_date,
    '{{ invocation_id }}' as _dbt_invocation_id
from sessions
inner join first_seen on sessions.visitor_id = first_seen.visitor_id
inner join session_loads on sessions.session_id = session_loads.session_id
left join funnel on sessions.session_id = funnel.session_id
{%- if is_incremental() %}
where {{ in_build_window('session_loads.delivery_date', 'session_loads.loaded_at') }}
or sessions.session_id in (select session_id from restated)
{%- endif %}
