-- Last non-direct touch, 7-day lookback (KPI catalogue §7), as truths.CampaignReturn states:
-- each valid order is credited to the campaign of its customer's visitor's latest campaign
-- session that started within the 7 days before the order (ties: the later session).
-- Times are epoch seconds; 604800 s = 7 days.
with candidate_touches as (
    select
        orders.order_no,
        orders.net,
        touches.campaign,
        row_number() over (
            partition by orders.order_no
            order by touches.started_at desc, touches.session_no desc
        ) as touch_rank,
    from orders
    inner join touches
        on touches.visitor = orders.visitor
        and touches.started_at between orders.ordered_at - 604800 and orders.ordered_at
)

select
    campaign,
    sum(net) as net,
from candidate_touches
where touch_rank = 1
group by campaign
order by campaign
