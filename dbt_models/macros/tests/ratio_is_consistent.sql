{#-
    A ratio KPI's value agrees with the numerator and denominator published beside it (the
    ratio() macro writes <name>_numerator, <name>_denominator and <name>). It is the
    catalogue's division-by-zero rule and the formula in one test; it fails with one row per
    violation of:
      - the value is NULL exactly when the denominator is 0 or NULL: never 0, ±infinity or NaN
        for a division by zero, and never NULL where the ratio can be computed (a NULL
        numerator leaking through, or a wrong guard such as nullif on the numerator);
      - otherwise value = numerator ÷ denominator within 1e-9, relative to the larger of 1 and
        the expected value (a NaN or ±infinity value never satisfies this).
    A NULL whose denominator is 0 is what the rule asks for: an empty group is legitimate (a
    day without add-to-carts has no checkout rate).
    `numerator` and `denominator` default to <column>_numerator and <column>_denominator.
    ratios_are_consistent checks a model's ratios (its argument `ratios`, a list of value
    columns) in one test, each failing row naming its ratio: one dbt node instead of one per
    ratio, which a nightly refresh pays for in start-up and logging, not in data.
    With `measures_have_null_denominator` (kpi_daily, the scorecard), a row whose denominator
    is NULL is a plain measure and its value must equal its numerator.
-#}
{% test ratio_is_consistent(
    model, column_name, numerator=none, denominator=none, measures_have_null_denominator=false
) -%}
{{ ratio_violations(model, column_name, numerator, denominator, measures_have_null_denominator) }}
{%- endtest %}

{% test ratios_are_consistent(model, ratios) -%}
{%- for ratio in ratios %}
{{ ratio_violations(model, ratio) }}
{{ 'union all' if not loop.last }}
{%- endfor %}
{%- endtest %}

{% macro ratio_violations(
    model, column_name, numerator=none, denominator=none, measures_have_null_denominator=false
) -%}
{%- set numerator = numerator or column_name ~ '_numerator' -%}
{%- set denominator = denominator or column_name ~ '_denominator' -%}
select
    '{{ column_name }}' as ratio,
    numerator,
    denominator,
    value
from (
    select
        cast({{ numerator }} as double) as numerator,
        cast({{ denominator }} as double) as denominator,
        cast({{ column_name }} as double) as value
    from {{ model }}
) as ratios
where not coalesce(
    case
        {%- if measures_have_null_denominator %}
        when denominator is null
            then
                (value is null and numerator is null)
                or abs(value - numerator) <= 1e-9 * greatest(abs(numerator), 1)
        {%- endif %}
        when denominator is null or denominator = 0 then value is null
        when numerator is null then false
        else
            abs(value - numerator / denominator)
            <= 1e-9 * greatest(abs(numerator / denominator), 1)
    end,
    false
)
{%- endmacro %}
