-- One row per A/B-test unit (catalogue §3): an experiment and an assigned visitor, with the
-- variant's planned share and whether the visitor converted. Conversion = a purchase event in
-- one of the visitor's sessions at or after the assignment and on or before the experiment's
-- end date (business date), the definition the generator's planted lift is stated in.
-- Incremental: the units of the visitors with an assignment or a session loaded since the
-- last build (or delivered in the build window), and of the experiments loaded since,
-- recomputed over all their rows; a unit whose assignment is gone is deleted. A session's
-- events count as the session's: fct_sessions carries the newest load and delivery of both.
{{ config(
    materialized='incremental',
    unique_key=['experiment_id', 'visitor_id'],
    incremental_strategy='delete+insert',
    post_hook="{{ delete_keys_not_in(
        ref('fct_experiment_assignments'), ['experiment_id', 'visitor_id']
    ) }}",
) }}

with

assignments as (
    select * from {{ ref('fct_experiment_assignments') }}
),

assignment_loads as (
    select * from {{ ref('stg_experiment_assignments') }}
),

experiments as (
    select * from {{ ref('stg_experiments') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

events as (
    select * from {{ ref('fct_events') }}
),
{%- if is_incremental() %}

changed_visitors as (
    select assignment_loads.visitor_id from assignment_loads
    where {{ in_build_window('assignment_loads._delivery_date', 'assignment_loads._loaded_at') }}
    union
    select sessions.visitor_id from sessions
    where {{ in_build_window('sessions._delivery_date', 'sessions._loaded_at') }}
    union
    select assignments.visitor_id from assignments
    inner join experiments on assignments.experiment_id = experiments.experiment_id
    where {{ in_build_window('experiments._delivery_date', 'experiments._loaded_at') }}
),

units as (
    select assignments.* from assignments
    where assignments.visitor_id in (select changed_visitors.visitor_id from changed_visitors)
),

visitor_sessions as (
    select sessions.* from sessions
    where sessions.visitor_id in (select changed_visitors.visitor_id from changed_visitors)
),
{%- else %}

units as (
    select * from assignments
),

visitor_sessions as (
    select * from sessions
),
{%- endif %}

purchases as (
    select
        visitor_sessions.visitor_id,
        events.event_at,
        events.event_date
    from events
    inner join visitor_sessions on events.session_id = visitor_sessions.session_id
    where events.event_type = 'purchase'
),

conversions as (
    select
        units.experiment_id,
        units.visitor_id,
        min(purchases.event_at) as first_converted_at
    from units
    inner join purchases
        on units.visitor_id = purchases.visitor_id
        and purchases.event_at >= units.assigned_at
        and purchases.event_date <= units.experiment_end_date
    group by units.experiment_id, units.visitor_id
),

-- what a unit is computed from was loaded by this time at the latest: the watermark of the
-- next incremental build
visitor_loads as (
    select
        visitor_sessions.visitor_id,
        max(visitor_sessions._loaded_at) as loaded_at
    from visitor_sessions
    group by visitor_sessions.visitor_id
)

select
    units.experiment_id,
    units.visitor_id,
    units.variant,
    units.is_control,
    {{ json_number('experiments.planned_split', 'units.variant') }} as planned_share,
    units.assigned_at,
    conversions.first_converted_at,
    conversions.first_converted_at is not null as has_converted,
    greatest(
        assignment_loads._loaded_at, experiments._loaded_at, visitor_loads.loaded_at
    ) as _loaded_at,
    '{{ invocation_id }}' as _dbt_invocation_id
from units
inner join experiments on units.experiment_id = experiments.experiment_id
left join assignment_loads
    on units.experiment_id = assignment_loads.experiment_id
    and units.visitor_id = assignment_loads.visitor_id
left join conversions
    on units.experiment_id = conversions.experiment_id
    and units.visitor_id = conversions.visitor_id
left join visitor_loads on units.visitor_id = visitor_loads.visitor_id
