-- The targets seed names only KPIs of the catalogue (the registry, dim_kpis). A check on the
-- seed: the test reads two relations, so dagster-dbt is told which asset it vouches for
-- (without meta.dagster.ref it logs the result as an observation, not an asset check).
{{ config(meta={'dagster': {'ref': {'name': 'kpi_targets'}}}) }}
with

targets as (
    select * from {{ ref('kpi_targets') }}
),

kpis as (
    select * from {{ ref('dim_kpis') }}
)

select
    targets.kpi_id,
    targets.month,
    targets.scope,
    targets.owner_team
from targets
left join kpis on targets.kpi_id = kpis.kpi_id
where kpis.kpi_id is null
