-- One row per A/B-test unit (catalogue §3): an experiment and an assigned visitor, with the
-- variant's planned share and whether the visitor converted. Conversion = a purchase event in
-- one of the visitor's sessions at or after the assignment and on or before the experiment's
-- end date (business date), the definition the generator's planted lift is stated in.
with

assignments as (
    select * from {{ ref('fct_experiment_assignments') }}
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

purchases as (
    select
        sessions.visitor_id,
        events.event_at,
        events.event_date
    from events
    inner join sessions on events.session_id = sessions.session_id
    where events.event_type = 'purchase'
),

conversions as (
    select
        assignments.experiment_id,
        assignments.visitor_id,
        min(purchases.event_at) as first_converted_at
    from assignments
    inner join purchases
        on assignments.visitor_id = purchases.visitor_id
        and purchases.event_at >= assignments.assigned_at
        and purchases.event_date <= assignments.experiment_end_date
    group by assignments.experiment_id, assignments.visitor_id
)

select
    assignments.experiment_id,
    assignments.visitor_id,
    assignments.variant,
    assignments.is_control,
    {{ json_number('experiments.planned_split', 'assignments.variant') }} as planned_share,
    assignments.assigned_at,
    conversions.first_converted_at,
    conversions.first_converted_at is not null as has_converted
from assignments
inner join experiments on assignments.experiment_id = experiments.experiment_id
left join conversions
    on assignments.experiment_id = conversions.experiment_id
    and assignments.visitor_id = conversions.visitor_id
