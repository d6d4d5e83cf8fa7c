-- One row per experiment and visitor: the variant the visitor saw and when.
with

assignments as (
    select * from {{ ref('stg_experiment_assignments') }}
),

experiments as (
    select * from {{ ref('stg_experiments') }}
)

select
    assignments.experiment_id,
    assignments.visitor_id,
    assignments.variant,
    assignments.variant = experiments.control_variant as is_control,
    assignments.assigned_date,
    assignments.assigned_at,
    experiments.start_date as experiment_start_date,
    experiments.end_date as experiment_end_date
from assignments
inner join experiments on assignments.experiment_id = experiments.experiment_id
