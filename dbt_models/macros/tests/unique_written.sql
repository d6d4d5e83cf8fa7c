{#-
    The primary key of an incremental model, checked over what the build wrote: fails with one
    row per key that this dbt invocation wrote (`_dbt_invocation_id`) and that occurs more than
    once in the whole table. Rows a build does not write do not change, so if the table was
    unique before the build it still is; the check joins the new keys to the table instead of
    grouping all of it. Run outside the build that wrote the model (no row of this
    invocation), it checks every key. (NULLs never match: pair it with not_null on each column.)
-#}
{% test unique_written(model, columns) -%}

with

this_build as (
    select count(*) as written
    from {{ model }}
    where _dbt_invocation_id = '{{ invocation_id }}'
),

checked_keys as (
    select distinct
        {{ columns | join(', ') }}
    from {{ model }}
    cross join this_build
    where this_build.written = 0 or _dbt_invocation_id = '{{ invocation_id }}'
)

select
    {%- for column in columns %}
    rows_.{{ column }},
    {%- endfor %}
    count(*) as occurrences
from {{ model }} as rows_
inner join checked_keys
    on
    {%- for column in columns %}
    {% if not loop.first %}and {% endif %}rows_.{{ column }} = checked_keys.{{ column }}
    {%- endfor %}
group by
    {%- for column in columns %}
    rows_.{{ column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
having count(*) > 1

{%- endtest %}
