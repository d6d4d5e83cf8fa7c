{#-
    Slowly changing history (SCD2) of a versioned raw table: one row per distinct version of a
    key, valid from its `version_column` until the next version (valid_to NULL = current).
    Portable: built from the versions the raw layer keeps, so it needs no dbt snapshots and a
    full rebuild reproduces the same history.
-#}
{% macro history(source_table, key_column, version_column, columns) -%}
with

versions as (
    select
        {{ key_column }},
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        {{ version_column }} as valid_from
    from {{ source('raw', source_table) }}
    qualify row_number() over (
        partition by {{ key_column }}, {{ version_column }}
        order by _loaded_at desc, _source_file desc, _source_line desc
    ) = 1
)

select
    *,
    lead(valid_from) over (partition by {{ key_column }} order by valid_from) as valid_to,
    lead(valid_from) over (partition by {{ key_column }} order by valid_from) is null
        as is_current
from versions
{%- endmacro %}
