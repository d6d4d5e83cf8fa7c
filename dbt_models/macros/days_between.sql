{#- One row per date from `first_day` to `last_day` (inclusive), as column `date_day`: the rows
    of a select. The bounds may be SQL expressions over other relations. -#}
{% macro days_between(first_day, last_day) -%}
    {{ return(adapter.dispatch('days_between')(first_day, last_day)) }}
{%- endmacro %}

{% macro duckdb__days_between(first_day, last_day) -%}
    select cast(unnest(generate_series(
        cast({{ first_day }} as timestamp), cast({{ last_day }} as timestamp), interval 1 day
    )) as date) as date_day
{%- endmacro %}

{% macro spark__days_between(first_day, last_day) -%}
    select explode(sequence(
        cast({{ first_day }} as date), cast({{ last_day }} as date), interval 1 day
    )) as date_day
{%- endmacro %}
