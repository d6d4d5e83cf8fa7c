{#-
    Rows of kpi_daily from one relation: for each KPI id in `kpis`, one row per row of `relation`
    with numerator, denominator and value. A KPI named in `measures` is a plain sum (value =
    numerator, denominator NULL); any other is a ratio published by the ratio() macro, whose
    <id>_numerator, <id>_denominator and <id> columns it reads.
-#}
{% macro kpi_rows(relation, kpis, dimension='all', dimension_column=none, measures=()) -%}
    {%- for kpi_id in kpis %}
    select
        kpi_date,
        '{{ kpi_id }}' as kpi_id,
        '{{ dimension }}' as dimension,
        {% if dimension_column -%}
        cast({{ dimension_column }} as {{ dbt.type_string() }})
        {%- else %}'all'{% endif %} as dimension_value,
        {%- if kpi_id in measures %}
        cast({{ kpi_id }} as double) as numerator,
        cast(null as double) as denominator,
        cast({{ kpi_id }} as double) as value
        {%- else %}
        cast({{ kpi_id }}_numerator as double) as numerator,
        cast({{ kpi_id }}_denominator as double) as denominator,
        cast({{ kpi_id }} as double) as value
        {%- endif %}
    from {{ relation }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
