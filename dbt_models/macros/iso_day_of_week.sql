{#- ISO day of week, Monday = 1 ... Sunday = 7 (engines disagree on dayofweek()). -#}
{% macro iso_day_of_week(column) -%}
    {{ return(adapter.dispatch('iso_day_of_week')(column)) }}
{%- endmacro %}

{% macro duckdb__iso_day_of_week(column) -%}
    isodow({{ column }})
{%- endmacro %}

{% macro spark__iso_day_of_week(column) -%}
    (weekday({{ column }}) + 1)
{%- endmacro %}
