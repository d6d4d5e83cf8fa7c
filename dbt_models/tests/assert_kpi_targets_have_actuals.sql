-- Every target can be scored: the KPI has a monthly actual in that month and scope (a KPI
-- whose monthly value cannot be derived, e.g. a median or distinct visitors, must not be in
-- the seed; nor may a scope that names no row). A warning, not an error: a month can also
-- lack an actual because the data is thin (no survey answered yet in a young shop), and that
-- must not hold back the other KPIs (that the seed names catalogue KPIs is an error test).
{{ config(severity='warn') }}
with

scorecard as (
    select * from {{ ref('kpi_scorecard_monthly') }}
)

select
    month,
    owner_team,
    kpi_id,
    scope
from scorecard
where actual is null
