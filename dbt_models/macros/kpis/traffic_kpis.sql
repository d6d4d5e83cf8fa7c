{#-
    Traffic (catalogue §1) and conversion (§2) KPIs of fct_sessions grouped by day and `dims`.
    Visitors are distinct counts, not additive: every grouping recomputes them from sessions,
    which is why this is a macro and not a sum over the finest grain.
-#}
{% macro traffic_kpis(dims) -%}
select
    session_date as kpi_date,
    {%- for dim in dims %}
    {{ dim }},
    {%- endfor %}
    count(*) as sessions,
    count(distinct visitor_id) as visitors,
    {{ ratio(
        'new_visitor_share',
        'count(distinct case when is_new_visitor then visitor_id end)',
        'count(distinct visitor_id)',
    ) }},
    {{ ratio(
        'session_conversion_rate',
        'sum(case when has_purchase then 1 else 0 end)',
        'count(*)',
    ) }},
    {{ ratio(
        'user_conversion_rate',
        'count(distinct case when has_purchase then visitor_id end)',
        'count(distinct visitor_id)',
    ) }},
from {{ ref('fct_sessions') }}
group by session_date{% for dim in dims %}, {{ dim }}{% endfor %}
{%- endmacro %}
