-- Target attainment per KPI in the latest month the scorecard covers completely by the as-of
-- date (one row per KPI: its shop-wide target, else the first scope; the first owner team when
-- several own it).
select
    kpi_id,
    month,
    actual,
    target,
    attainment,
from kpi_scorecard_monthly
where last_day(month) <= $as_of
qualify row_number() over (
    partition by kpi_id order by month desc, scope <> 'all', scope, owner_team
) = 1
