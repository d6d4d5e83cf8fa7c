-- The closed in-session funnel over the latest $window_days days: sessions reaching each step,
-- the step rate (÷ the previous step) and the cumulative rate (÷ sessions), from summed parts.
with

recent as (
    select *
    from kpi_funnel_daily
    where
        kpi_date > $as_of - cast($window_days as integer)
        and kpi_date <= $as_of
),

steps as (
    select
        0 as step_number,
        'sessions' as funnel_step,
        sum(sessions) as step_sessions,
        sum(sessions) as previous_step_sessions,
        sum(sessions) as sessions,
    from recent
    where step_number = 1
    union all
    select
        step_number,
        funnel_step,
        sum(step_sessions) as step_sessions,
        sum(previous_step_sessions) as previous_step_sessions,
        sum(sessions) as sessions,
    from recent
    group by step_number, funnel_step
)

select
    'Sessions reaching the step' as series,
    'funnel_step_rate' as kpi_id,
    'count' as unit,
    funnel_step as x,
    step_sessions as y,
    safe_divide(step_sessions, previous_step_sessions) as step_rate,
    safe_divide(step_sessions, sessions) as cumulative_rate,
from steps
where sessions > 0
order by step_number
