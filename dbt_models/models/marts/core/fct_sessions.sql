-- One row per visit: where it came from, whether the visitor was new that day, and how far
-- down the closed funnel it went.
with

sessions as (
    select * from {{ ref('stg_sessions') }}
),

first_seen as (
    select * from {{ ref('int_visitors_first_seen') }}
),

funnel as (
    select * from {{ ref('int_sessions_funnel') }}
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
from sessions
inner join first_seen on sessions.visitor_id = first_seen.visitor_id
left join funnel on sessions.session_id = funnel.session_id
