-- One row per tracked interaction. Incremental: events loaded since the last build, or
-- delivered in the build window.
{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
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
    '{{ invocation_id }}' as _dbt_invocation_id,
from events
{%- if is_incremental() %}
where {{ in_build_window('_delivery_date', '_loaded_at') }}
{%- endif %}
