-- The targets seed: every weight is positive and the weights of a team sum to 100 in every
-- month (catalogue §9). One row per offending team and month.
with

targets as (
    select * from {{ ref('kpi_targets') }}
)

select
    owner_team,
    month,
    sum(weight) as total_weight,
    min(weight) as smallest_weight
from targets
group by owner_team, month
having abs(sum(weight) - 100) > 1e-9 or min(weight) <= 0
