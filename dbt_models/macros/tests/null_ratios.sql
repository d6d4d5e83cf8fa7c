{#-
    Counts the ratio values that are NULL because their denominator is 0 (the catalogue's
    division by zero: NULL, never 0 or infinity). A warning, not an error: an empty group is
    legitimate (a day without add-to-carts has no checkout rate), but the count is worth
    seeing. One row per such value, so the warning reports how many there are.
-#}
{% test null_ratios(model, column_name, denominator=none) -%}
{{ config(severity='warn') }}
{%- set denominator = denominator or column_name ~ '_denominator' -%}

select *
from {{ model }}
where {{ column_name }} is null and {{ denominator }} = 0

{%- endtest %}
