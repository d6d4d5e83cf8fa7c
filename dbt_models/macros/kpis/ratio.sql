{#-
    A ratio KPI's three published columns: <name>_numerator, <name>_denominator and <name>
    (the value, NULL when the denominator is 0). Every ratio of the mart is written with it,
    so numerator and denominator always sit beside the value a BI tool must not average.
-#}
{% macro ratio(name, numerator, denominator) -%}
    {{ numerator }} as {{ name }}_numerator,
    {{ denominator }} as {{ name }}_denominator,
    {{ safe_divide(numerator, denominator) }} as {{ name }}
{%- endmacro %}
