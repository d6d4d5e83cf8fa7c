-- 90-day repurchase rate per cohort month and member tier at the first order; cohorts whose
-- window has not closed by the as-of date are flagged partial.
select
    case
        when member_tier = 'all' then 'All customers'
        when member_tier = 'none' then 'Non-members'
        else upper(member_tier[1]) || member_tier[2:]
    end as series,
    'repurchase_rate_90d' as kpi_id,
    cohort_month as x,
    repurchase_rate_90d as y,
    not is_complete as is_partial,
    repurchase_rate_90d_denominator as customers,
from kpi_repurchase_cohorts
where cohort_month <= $as_of
order by
    member_tier != 'all',
    sum(repurchase_rate_90d_denominator) over (partition by member_tier) desc,
    member_tier,
    cohort_month
