-- One row per tracked interaction. Incremental: events loaded since the last build, or
-- delivered in the build window; and events whose file was delivered again since, rebuilt
-- from their version in stg_events (deleted by the post-hook if it has none).
{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    post_hook="{{ delete_superseded() }}",
) }}

with

events as (
    select * from {{ ref('stg_events') }}
)

select
    event_id,
    session_id,
    product_id,
    order_id,
    event_type,
    event_date,
    event_at,
    _loaded_at,
    _delivery_date,
    _source_file,
    '{{ invocation_id }}' as _dbt_invocation_id
from events
{%- if is_incremental() %}
where
    {{ in_build_window('_delivery_date', '_loaded_at') }}
    or event_id in ({{ superseded_keys('event_id') }})
{%- endif %}
