-- One row per tracked interaction.
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
from events
