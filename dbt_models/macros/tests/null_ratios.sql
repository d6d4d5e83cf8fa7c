{#-
    The catalogue's division-by-zero rule on a ratio KPI: its value is NULL exactly when its
    denominator is 0 (NULL, never 0 or infinity). Fails (error) with one row per violation:
      - a NULL value whose denominator is not 0: a ratio lost where it could be computed (a
        NULL numerator leaking through, or a wrong guard such as nullif on the numerator);
      - a value (0, ±infinity, NaN, anything) whose denominator is 0: a division by zero that
        was not turned into NULL.
    A NULL whose denominator is 0 is what the rule asks for, so it is not flagged: an empty
    group is legitimate (a day without add-to-carts has no checkout rate). A row whose
    denominator is NULL is left to ratio_is_consistent (in kpi_daily it is a plain measure).
    `denominator` defaults to <column>_denominator.
-#}
{% test null_ratios(model, column_name, denominator=none) -%}
{%- set denominator = denominator or column_name ~ '_denominator' -%}

select *
from {{ model }}
where
    ({{ column_name }} is null and {{ denominator }} <> 0)
    or ({{ column_name }} is not null and {{ denominator }} = 0)

{%- endtest %}
