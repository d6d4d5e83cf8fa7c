{#- numerator ÷ denominator as a double; NULL (never 0 or infinity) when the denominator is 0. -#}
{% macro safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0)
{%- endmacro %}
