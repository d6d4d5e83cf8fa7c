-- The closed, in-session funnel: a session reaches a step only if it reached every earlier
-- step before it (session -> product_view -> add_to_cart -> begin_checkout -> purchase).
-- Incremental: recomputes, from all their events, the sessions with an event loaded since the
-- last build or delivered in the build window.
{{ config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='delete+insert',
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

-- One CTE per step: the sessions reaching it, when (their first event of the step at or after
-- reaching the previous one).
{%- for step in funnel_steps() %}

{{ step }}_sessions as (
    select events.session_id, min(events.event_at) as reached_at
    from events
    {% if not loop.first -%}
    inner join {{ loop.previtem }}_sessions as previous_step
        on events.session_id = previous_step.session_id
        and events.event_at >= previous_step.reached_at
    {% endif -%}
    where events.event_type = '{{ step }}'
    group by events.session_id
),
{%- endfor %}

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
    {%- for step in funnel_steps() %}
    {{ step }}_sessions.session_id is not null as reached_{{ step }},
    {%- endfor %}
    activity._loaded_at,
    activity._delivery_date
from activity
{%- for step in funnel_steps() %}
left join {{ step }}_sessions on activity.session_id = {{ step }}_sessions.session_id
{%- endfor %}
