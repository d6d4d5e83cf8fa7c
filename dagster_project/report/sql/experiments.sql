-- A/B tests: each non-control variant's absolute conversion lift against control with its 95%
-- confidence interval (unpooled standard error), p-value and sample-ratio-mismatch flag, as
-- kpi_experiments publishes them.
select
    'Absolute lift vs control' as series,
    'rate' as unit,
    experiment_id || ' · ' || variant as x,
    absolute_lift as y,
    ci_lower as y_low,
    ci_upper as y_high,
    p_value,
    is_significant,
    has_sample_ratio_mismatch,
    units,
    conversion_rate,
from kpi_experiments
where not is_control
order by experiment_id, variant
