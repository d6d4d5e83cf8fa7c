-- The KPI catalogue as a table: one row per KPI id with its names, formula, unit, direction
-- and grain. A KPI is defined once: as a metric of the semantic layer (its name is the KPI's
-- id, its config.meta.kpi the catalogue's fields; the _*__semantic.yml files beside the
-- marts), or, for the three KPIs per product that are not metrics, in this model's YAML
-- `meta.kpis`. BI tools, kpi_daily and the scorecard read it from here. `sources` are the
-- contract tables a KPI cannot be computed without; a KPI is available unless one of them is
-- absent (never delivered: the environment variable KPI_ABSENT_SOURCES, comma-separated, set
-- by the pipeline), and only available KPIs are published in kpi_daily and the scorecard.
-- dbt's graph (the metrics) is there when the model runs, not while the project parses.
{%- set kpis = [] %}
{%- if execute %}
{%- for metric in graph.metrics.values() if metric.config.meta.kpi %}
{%- do kpis.append(dict(metric.config.meta.kpi, id=metric.name)) %}
{%- endfor %}
{%- endif %}
{%- do kpis.extend(config.get('meta')['kpis']) %}
{%- set absent = env_var('KPI_ABSENT_SOURCES', '').split(',') | reject('equalto', '') | list %}
{%- for kpi in kpis | sort(attribute='id') | sort(attribute='section') %}
select
    '{{ kpi.id }}' as kpi_id,
    '{{ kpi.name | replace("'", "''") }}' as kpi_name,
    '{{ kpi.name_zh | replace("'", "''") }}' as kpi_name_zh,
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
