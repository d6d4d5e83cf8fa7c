{#-
    The number stored under `key` (an expression: a column or a quoted literal) of a flat JSON
    object `json`, as a double; NULL when the key is absent or not numeric.
-#}
{% macro json_number(json, key) -%}
    {{ return(adapter.dispatch('json_number')(json, key)) }}
{%- endmacro %}

{% macro duckdb__json_number(json, key) -%}
    try_cast(json_extract_string({{ json }}, '$."' || {{ key }} || '"') as double)
{%- endmacro %}

{% macro spark__json_number(json, key) -%}
    try_cast(get_json_object(cast({{ json }} as string), concat('$.', {{ key }})) as double)
{%- endmacro %}
