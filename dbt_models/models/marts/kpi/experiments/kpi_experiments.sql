-- A/B tests (catalogue §3), one row per experiment and variant: units (assigned visitors),
-- converters and conversion rate; for each non-control variant against control the absolute
-- and relative lift, the pooled two-proportion z statistic, its two-sided p-value, the 95%
-- confidence interval of the difference (unpooled standard error) and significance at
-- var experiment_alpha (0.05). The sample-ratio-mismatch check (chi-square of the units per
-- variant against the planned split, k − 1 degrees of freedom) is per experiment, repeated on
-- each of its rows; flagged when its p-value < var srm_alpha (0.001) or a variant is unplanned.
-- Statistics: macros/statistics.sql (precision documented there).
with

units as (
    select * from {{ ref('int_experiment_units_converted') }}
),

schedules as (
    select experiment_id, start_date, end_date from {{ ref('stg_experiments') }}
),

variants as (
    select
        experiment_id,
        variant,
        bool_or(is_control) as is_control,
        max(planned_share) as planned_share,
        count(*) as units,
        count(case when has_converted then 1 end) as converters
    from units
    group by experiment_id, variant
),

variants_expected as (
    select
        *,
        planned_share * sum(units) over (partition by experiment_id) as expected_units
    from variants
),

experiments as (
    select
        experiment_id,
        max(case when is_control then units end) as control_units,
        max(case when is_control then converters end) as control_converters,
        count(*) - 1 as srm_degrees_of_freedom,
        bool_or(coalesce(planned_share, 0) <= 0) as has_unplanned_variant,
        sum(
            (units - expected_units) * (units - expected_units) / nullif(expected_units, 0)
        ) as srm_chi_square
    from variants_expected
    group by experiment_id
),

compared as (
    select
        variants.experiment_id,
        variants.variant,
        variants.is_control,
        variants.planned_share,
        variants.units,
        variants.converters,
        experiments.control_units,
        experiments.control_converters,
        experiments.srm_chi_square,
        experiments.srm_degrees_of_freedom,
        experiments.has_unplanned_variant,
        schedules.start_date,
        schedules.end_date,
        case when not variants.is_control then {{ two_proportion_z(
            'variants.converters', 'variants.units',
            'experiments.control_converters', 'experiments.control_units',
        ) }} end as z_statistic,
        case when not variants.is_control then {{ unpooled_standard_error(
            'variants.converters', 'variants.units',
            'experiments.control_converters', 'experiments.control_units',
        ) }} end as unpooled_standard_error
    from variants
    inner join experiments on variants.experiment_id = experiments.experiment_id
    left join schedules on variants.experiment_id = schedules.experiment_id
),

tested as (
    select
        *,
        {{ safe_divide('converters', 'units') }}
        - {{ safe_divide('control_converters', 'control_units') }} as difference,
        {{ two_sided_p_value('z_statistic') }} as p_value,
        {{ chi_square_p_value('srm_chi_square', 'srm_degrees_of_freedom') }} as srm_p_value
    from compared
)

select
    experiment_id,
    variant,
    is_control,
    planned_share,
    units,
    converters,
    {{ ratio('conversion_rate', 'converters', 'units') }},
    {{ safe_divide('control_converters', 'control_units') }} as control_conversion_rate,
    case when not is_control then difference end as absolute_lift,
    case
        when not is_control
            then difference / nullif({{ safe_divide('control_converters', 'control_units') }}, 0)
    end as relative_lift,
    z_statistic,
    p_value,
    case
        when not is_control then difference - 1.959963984540054 * unpooled_standard_error
    end as ci_lower,
    case
        when not is_control then difference + 1.959963984540054 * unpooled_standard_error
    end as ci_upper,
    coalesce(p_value < {{ var('experiment_alpha', 0.05) }}, false) as is_significant,
    srm_chi_square,
    srm_degrees_of_freedom,
    srm_p_value,
    has_unplanned_variant
    or coalesce(srm_p_value < {{ var('srm_alpha', 0.001) }}, false) as has_sample_ratio_mismatch,
    start_date,
    end_date
from tested
