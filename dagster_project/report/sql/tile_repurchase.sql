-- The 90-day repurchase rate of the latest complete cohort (all tiers), against the complete
-- cohort before it.
with

complete_cohorts as (
    select
        cohort_month,
        repurchase_rate_90d as value,
        row_number() over (order by cohort_month desc) as recency,
    from kpi_repurchase_cohorts
    where
        member_tier = 'all'
        and is_complete
        and cohort_month <= $as_of
)

select
    'repurchase_rate_90d' as kpi_id,
    case when recency = 1 then 'current' else 'previous' end as period,
    cohort_month as period_start,
    last_day(cohort_month) as period_end,
    true as is_full,
    value,
from complete_cohorts
where recency <= 2
