-- Traffic channels (from the channels seed), plus `unknown` for orders without a session.
with

channels as (
    select * from {{ ref('channels') }}
)

select
    channel,
    channel_group,
    is_paid,
    description
from channels
