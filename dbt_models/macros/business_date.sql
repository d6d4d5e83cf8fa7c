{#- The business date (shop time zone, var `shop_timezone`) of a UTC timestamp. -#}
{% macro business_date(column) -%}
    {{ return(adapter.dispatch('business_date')(column)) }}
{%- endmacro %}

{% macro duckdb__business_date(column) -%}
    cast(timezone('{{ var("shop_timezone") }}', {{ column }}) as date)
{%- endmacro %}

{% macro spark__business_date(column) -%}
    to_date(from_utc_timestamp({{ column }}, '{{ var("shop_timezone") }}'))
{%- endmacro %}
