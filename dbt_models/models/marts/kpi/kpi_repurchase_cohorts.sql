-- 90-day repurchase rate per monthly cohort of first valid orders (catalogue §4), for all
-- customers and per member tier at the first order. A cohort is complete only when its month's
-- end plus the window lies on or before the as-of date (the last business date with orders).
with

cohorts as (
    select * from {{ ref('int_customer_cohorts') }}
),

as_of as (
    select max(order_date) as as_of_date from {{ ref('fct_orders') }}
),

by_tier as (
    select cohort_month, member_tier_at_first_order as member_tier, has_repurchased_in_window
    from cohorts
    union all
    select cohort_month, 'all' as member_tier, has_repurchased_in_window
    from cohorts
)

select
    by_tier.cohort_month,
    by_tier.member_tier,
    {{ ratio(
        'repurchase_rate_90d',
        'sum(case when by_tier.has_repurchased_in_window then 1 else 0 end)',
        'count(*)',
    ) }},
    {{ dbt.dateadd(
        'day', var('repurchase_window_days'), dbt.last_day('by_tier.cohort_month', 'month')
    ) }} <= max(as_of.as_of_date) as is_complete,
    max(as_of.as_of_date) as as_of_date
from by_tier
cross join as_of
group by by_tier.cohort_month, by_tier.member_tier
