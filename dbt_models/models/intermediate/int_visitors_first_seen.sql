-- Each visitor's first-ever session: the day a visitor counts as new. Incremental: the
-- visitors with a session loaded since the last build, or whose newest delivery is in the
-- build window (a late file with an earlier session included), recomputed over all their
-- sessions; a re-delivery that drops a visitor's sessions reaches it at the next full build,
-- as it reaches the other incremental models (docs/mart.md).
{{ config(
    materialized='incremental',
    unique_key='visitor_id',
    incremental_strategy='delete+insert',
) }}

with

sessions as (
    select * from {{ ref('stg_sessions') }}
)
{%- if is_incremental() %},

changed as (
    select distinct visitor_id from sessions
    where {{ in_build_window('_delivery_date', '_loaded_at') }}
)
{%- endif %}

select
    sessions.visitor_id,
    min(sessions.started_at) as first_session_at,
    min(sessions.session_date) as first_session_date,
    max(sessions._loaded_at) as _loaded_at,
    max(sessions._delivery_date) as _delivery_date,
    '{{ invocation_id }}' as _dbt_invocation_id
from sessions
{%- if is_incremental() %}
where sessions.visitor_id in (select changed.visitor_id from changed)
{%- endif %}
group by sessions.visitor_id
