-- Last non-direct touch, 7-day lookback (KPI catalogue §7), as truths.CampaignReturn states:
-- each order is credited to the campaign of its visitor's latest campaign session that
-- started within the 7 days before the order (ties: the later session). One row per credited
-- order: its own columns, with the session and campaign credited.
-- orders: order_no, visitor, ordered_at, ...; touches: visitor, started_at, session_no,
-- campaign. Times are epoch seconds; 604800 s = 7 days.
select
    orders.*,
    touches.session_no,
    touches.campaign
from orders
inner join touches
    on touches.visitor = orders.visitor
    and touches.started_at between orders.ordered_at - 604800 and orders.ordered_at
qualify row_number() over (
    partition by orders.order_no
    order by touches.started_at desc, touches.session_no desc
) = 1
order by orders.order_no
