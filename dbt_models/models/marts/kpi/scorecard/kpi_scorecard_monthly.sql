-- The SMART KPI scorecard (catalogue §9), one row per month × owner team × KPI × scope of the
-- targets seed: the month's actual, re-aggregated from numerators and denominators (never an
-- average of ratios), the target, attainment (actual ÷ target when higher is better, target ÷
-- actual when lower is better; NULL on a zero divisor), score = min(attainment, cap) × weight
-- (cap: var scorecard_attainment_cap, 1.2) and the team's total score of the month.
-- Scope 'all' is the whole shop; '<dimension>:<value>' reads that dimension's row of kpi_daily
-- (e.g. 'channel:paid_search') or of the monthly marts (e.g. 'category:home').
-- Daily KPIs come from kpi_daily's rows; non-additive ones (distinct visitors, medians and
-- p90s, stock counts such as overdue open shipments) have no monthly value there and must not
-- be targeted (tests/assert_kpi_targets_have_actuals.sql fails if one is). Scored are the
-- targets of available KPIs (dim_kpis: no absent source) in the months the data covers: a
-- target for a month without data, or for a KPI the shop cannot compute, is not scored.
{%- set inventory = ['inventory_turnover', 'inventory_turnover_days', 'sell_through_rate'] %}
{%- set cap = var('scorecard_attainment_cap', 1.2) %}
with

targets as (
    select * from {{ ref('kpi_targets') }}
),

kpis as (
    select * from {{ ref('dim_kpis') }}
),

kpi_daily as (
    select * from {{ ref('kpi_daily') }}
),

orders_monthly as (
    select * from {{ ref('kpi_orders_monthly') }}
),

inventory_monthly as (
    select * from {{ ref('kpi_inventory_monthly') }}
),

daily_parts as (
    select
        cast({{ dbt.date_trunc('month', 'kpi_date') }} as date) as month,
        kpi_id,
        case
            when dimension = 'all' then 'all'
            else {{ dbt.concat(['dimension', "':'", 'dimension_value']) }}
        end as scope,
        numerator,
        denominator
    from kpi_daily
    -- not additive over days: distinct visitors, medians and p90s, stock counts
    where
        kpi_id not in (
            'visitors',
            'overdue_open_shipments',
            'first_response_minutes',
            'first_response_minutes_p90',
            'resolution_hours',
            'resolution_hours_p90'
        )
),

monthly_parts as (
    select
        kpi_month as month,
        'repeat_customer_rate' as kpi_id,
        'all' as scope,
        cast(repeat_customer_rate_numerator as double) as numerator,
        cast(repeat_customer_rate_denominator as double) as denominator
    from orders_monthly
    {%- for kpi_id in inventory %}
    union all
    select
        kpi_month as month,
        '{{ kpi_id }}' as kpi_id,
        case
            when category = 'all' then 'all'
            else {{ dbt.concat(["'category:'", 'category']) }}
        end as scope,
        cast({{ kpi_id }}_numerator as double) as numerator,
        cast({{ kpi_id }}_denominator as double) as denominator
    from inventory_monthly
    {%- endfor %}
),

data_months as (
    select
        cast({{ dbt.date_trunc('month', 'min(kpi_date)') }} as date) as first_month,
        cast({{ dbt.date_trunc('month', 'max(kpi_date)') }} as date) as last_month
    from kpi_daily
),

parts as (
    select * from daily_parts
    union all
    select * from monthly_parts
),

actuals as (
    select
        month,
        kpi_id,
        scope,
        {{ exact_sum('numerator') }} as actual_numerator,
        {{ exact_sum('denominator') }} as actual_denominator,
        case
            when count(denominator) = 0 then {{ exact_sum('numerator') }}
            else {{ safe_divide(exact_sum('numerator'), exact_sum('denominator')) }}
        end as actual
    from parts
    group by month, kpi_id, scope
),

attained as (
    select
        targets.month,
        targets.owner_team,
        targets.kpi_id,
        targets.scope,
        kpis.higher_is_better,
        cast(targets.weight as double) as weight,
        cast(targets.target_value as double) as target,  -- noqa: RF04
        actuals.actual_numerator,
        actuals.actual_denominator,
        actuals.actual,
        case
            when kpis.higher_is_better
                then {{ safe_divide('actuals.actual', 'targets.target_value') }}
            else {{ safe_divide('targets.target_value', 'actuals.actual') }}
        end as attainment
    from targets
    inner join kpis on targets.kpi_id = kpis.kpi_id and kpis.is_available
    inner join data_months
        on targets.month between data_months.first_month and data_months.last_month
    left join actuals
        on targets.month = actuals.month
        and targets.kpi_id = actuals.kpi_id
        and targets.scope = actuals.scope
),

scored as (
    select
        *,
        case when attainment > {{ cap }} then {{ cap }} else attainment end * weight as score
    from attained
)

select
    month,
    owner_team,
    kpi_id,
    scope,
    higher_is_better,
    weight,
    target,
    actual_numerator,
    actual_denominator,
    actual,
    attainment,
    score,
    {{ exact_sum('score', over='partition by month, owner_team') }} as team_score
from scored
