-- Campaign totals over the whole campaign, with target completion: attributed net revenue ÷
-- target revenue and attributed orders ÷ target orders (catalogue §7). A campaign without ad
-- spend or attributed orders keeps its row: its ratios over spend are NULL, its attainment 0.
with

totals as (
    {{ campaign_kpis(['campaign_id']) }}
),

campaigns as (
    select * from {{ ref('dim_campaigns') }}
)

select
    campaigns.campaign_id,
    campaigns.name,
    campaigns.channel,
    campaigns.start_date,
    campaigns.end_date,
    campaigns.budget,
    campaigns.target_revenue,
    campaigns.target_orders,
    totals.impressions,
    totals.clicks,
    totals.spend,
    totals.attributed_orders,
    totals.attributed_first_orders,
    totals.attributed_revenue,
    totals.attributed_cogs,
    totals.ctr_numerator,
    totals.ctr_denominator,
    totals.ctr,
    totals.cpc_numerator,
    totals.cpc_denominator,
    totals.cpc,
    totals.roas_numerator,
    totals.roas_denominator,
    totals.roas,
    totals.campaign_roi_numerator,
    totals.campaign_roi_denominator,
    totals.campaign_roi,
    totals.cac_numerator,
    totals.cac_denominator,
    totals.cac,
    -- a campaign nothing was attributed to has attained none of its target (0, not unknown)
    {{ ratio(
        'goal_attainment',
        'coalesce(totals.attributed_revenue, 0)',
        'campaigns.target_revenue',
    ) }},
    {{ ratio(
        'goal_attainment_orders',
        'coalesce(totals.attributed_orders, 0)',
        'campaigns.target_orders',
    ) }}
from campaigns
left join totals on campaigns.campaign_id = totals.campaign_id
