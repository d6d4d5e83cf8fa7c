-- ROAS and ROI per campaign over its whole run (last non-direct touch attribution), campaigns
-- with spend that started by the as-of date, best ROAS first.
with

campaigns as (
    select
        name,
        channel,
        roas,
        campaign_roi,
    from kpi_campaigns
    where
        start_date <= $as_of
        and spend > 0
)

select
    'ROAS' as series,
    'roas' as kpi_id,
    name as x,
    roas as y,
    channel,
    roas as sort_key,
from campaigns
union all
select
    'ROI' as series,
    'campaign_roi' as kpi_id,
    name as x,
    campaign_roi as y,
    channel,
    roas as sort_key,
from campaigns
order by series, sort_key desc nulls last, x
