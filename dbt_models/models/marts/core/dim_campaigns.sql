-- Marketing campaigns with their budget and targets.
with

campaigns as (
    select * from {{ ref('stg_campaigns') }}
)

select
    campaign_id,
    name,
    channel,
    start_date,
    end_date,
    budget,
    target_revenue,
    target_orders
from campaigns
