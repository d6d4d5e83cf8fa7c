-- Per campaign and day: ad delivery and cost (spend date) beside the valid orders credited to
-- the campaign (order date), with their net revenue and COGS.
with

spend as (
    select * from {{ ref('fct_ad_spend') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
    where is_valid and attributed_campaign_id is not null
),

delivery as (
    select
        campaign_id,
        spend_date as kpi_date,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend) as spend
    from spend
    group by campaign_id, spend_date
),

results as (
    select
        attributed_campaign_id as campaign_id,
        order_date as kpi_date,
        count(*) as attributed_orders,
        sum(case when is_first_valid_order then 1 else 0 end) as attributed_first_orders,
        sum(net_revenue) as attributed_revenue,
        sum(cogs) as attributed_cogs
    from orders
    group by attributed_campaign_id, order_date
)

select
    coalesce(delivery.campaign_id, results.campaign_id) as campaign_id,
    coalesce(delivery.kpi_date, results.kpi_date) as kpi_date,
    coalesce(delivery.impressions, 0) as impressions,
    coalesce(delivery.clicks, 0) as clicks,
    coalesce(delivery.spend, 0) as spend,
    coalesce(results.attributed_orders, 0) as attributed_orders,
    coalesce(results.attributed_first_orders, 0) as attributed_first_orders,
    coalesce(results.attributed_revenue, 0) as attributed_revenue,
    coalesce(results.attributed_cogs, 0) as attributed_cogs
from delivery
full outer join results
    on delivery.campaign_id = results.campaign_id
    and delivery.kpi_date = results.kpi_date
