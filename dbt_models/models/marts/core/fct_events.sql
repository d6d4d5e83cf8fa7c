-- One row per tracked interaction. Incremental: events loaded since the last build.
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
from events
{%- if is_incremental() %}
where {{ loaded_since_last_build() }}
{%- endif %}
