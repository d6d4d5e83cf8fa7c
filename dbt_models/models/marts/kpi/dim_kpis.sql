-- The KPI catalogue as a table: one row per KPI id with its formula, unit, direction and
-- grain. The registry is this model's YAML `meta.kpis` (the one place KPIs are defined);
-- BI tools, kpi_daily and the scorecard read it from here. `sources` are the contract tables a
-- KPI cannot be computed without; a KPI is available unless one of them is absent (never
-- delivered: the environment variable KPI_ABSENT_SOURCES, comma-separated, set by the pipeline),
-- and only available KPIs are published in kpi_daily and the scorecard.
{%- set kpis = config.get('meta')['kpis'] %}
{%- set absent = env_var('KPI_ABSENT_SOURCES', '').split(',') | reject('equalto', '') | list %}
{%- for kpi in kpis %}
select
    '{{ kpi.id }}' as kpi_id,
    '{{ kpi.name | replace("'", "''") }}' as kpi_name,
    {{ kpi.section }} as section,
    '{{ kpi.formula | replace("'", "''") }}' as formula,
    '{{ kpi.unit }}' as unit,
    {{ kpi.higher_is_better }} as higher_is_better,
    '{{ kpi.grain }}' as grain,
    '{{ kpi.mart }}' as mart,
    '{{ kpi.sources | join(', ') }}' as sources,
    {{ 'false' if kpi.sources | select('in', absent) | list else 'true' }} as is_available
{{ 'union all' if not loop.last }}
{%- endfor %}
