-- Each visitor's first-ever session: the day a visitor counts as new.
with

sessions as (
    select * from {{ ref('stg_sessions') }}
)

select
    visitor_id,
    min(started_at) as first_session_at,
    min(session_date) as first_session_date
from sessions
group by visitor_id
