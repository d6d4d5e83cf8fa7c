{#-
    Sums that come out the same in every build. A sum of doubles depends on the order of its
    terms, and DuckDB's threads add them in a different order from build to build (the last
    digits change); a sum of DECIMALs is exact, whatever the order. Two builds over the same
    rows must publish the same values, so nothing sums doubles:
    - exact(expression): a per-row amount or duration that is summed later, stored as a
      DECIMAL(18, 6) (rounded to 6 decimal places, the same in every build);
    - exact_sum(expression, over): the sum of a double column (e.g. a ratio's numerator) as a
      double, added up as DECIMAL(38, 12); `over` makes it a window sum (`partition by ...`).
-#}
{% macro exact(expression) -%}
    cast({{ expression }} as decimal(18, 6))
{%- endmacro %}

{% macro exact_sum(expression, over=none) -%}
    cast(
        sum(cast({{ expression }} as decimal(38, 12))){% if over %} over ({{ over }}){% endif %}
        as double
    )
{%- endmacro %}
