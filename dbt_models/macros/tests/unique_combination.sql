{#-
    A composite primary key: fails with one row per combination of `columns` that occurs more
    than once. (NULLs group together, so pair it with not_null on each column.)
-#}
{% test unique_combination(model, columns) -%}

select
    {%- for column in columns %}
    {{ column }},
    {%- endfor %}
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{%- endtest %}
