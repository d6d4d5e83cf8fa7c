-- Daily delivery and cost per campaign.
with

ad_spend as (
    select * from {{ ref('stg_ad_spend') }}
)

select
    campaign_id,
    spend_date,
    impressions,
    clicks,
    spend
from ad_spend
