-- The KPI scorecard of the latest month covered completely by the as-of date (or the latest
-- month at all): per owner team and KPI, actual, target, attainment and score, with the team's
-- total score.
with

latest as (
    select
        coalesce(max(month) filter (where last_day(month) <= $as_of), max(month)) as month,
    from kpi_scorecard_monthly
)

select
    scorecard.owner_team,
    scorecard.kpi_id,
    -- a target for part of the shop names its scope: "Session conversion (channel: paid_search)"
    coalesce(kpis.kpi_name, scorecard.kpi_id) || case
        when scorecard.scope = 'all' then ''
        else ' (' || replace(scorecard.scope, ':', ': ') || ')'
    end as kpi_name,
    coalesce(kpis.unit, 'ratio') as unit,
    scorecard.month,
    scorecard.actual,
    scorecard.target,
    scorecard.attainment,
    scorecard.score,
    sum(scorecard.score) over (partition by scorecard.owner_team) as team_score,
from kpi_scorecard_monthly as scorecard
inner join latest on scorecard.month = latest.month
left join dim_kpis as kpis on scorecard.kpi_id = kpis.kpi_id
order by scorecard.owner_team, scorecard.score desc nulls last, scorecard.kpi_id, scorecard.scope
