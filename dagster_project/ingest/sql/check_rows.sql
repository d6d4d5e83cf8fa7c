-- Apply the contract to every staged row: `checked` is `incoming` plus the first rule each
-- row breaks (_reason_code / _reason NULL when the row is good). Rows that pass every rule but
-- repeat a key seen earlier in the same file are rejected as duplicates (a key delivered again
-- in another file is not: the newer delivery wins downstream). The columns added
-- here start with `_`, like `_line`, so none collides with a contract column (refunds has a
-- column named `reason`).
create or replace temp table checked as
with
ruled as (
    select
        *,
        case
{%- for column in table.columns if column.name in table.key %}
            when "{{ column.name }}" is null
                then ['null_key', 'key column {{ column.name }} is empty']
{%- endfor %}
{%- for column in table.columns if not column.nullable and column.name not in table.key %}
            when "{{ column.name }}" is null
                then ['null_value', 'column {{ column.name }} is empty but required']
{%- endfor %}
{%- for column in table.columns if column.type != 'VARCHAR' %}
            when "{{ column.name }}" is not null and {{ type_violation(column) }}
                then [
                    'invalid_type',
                    'column {{ column.name }}: ' || '"' || left("{{ column.name }}", 100) || '"'
                    || ' is not a valid {{ column.type }}'
                ]
{%- endfor %}
{%- for column in table.columns if column.is_timestamp %}
            when not regexp_matches("{{ column.name }}", '(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$')
                then [
                    'timestamp_without_zone',
                    'column {{ column.name }}: ' || '"' || left("{{ column.name }}", 100) || '"'
                    || ' has no time zone (expected e.g. 2025-06-01T03:04:05Z)'
                ]
{%- endfor %}
{%- for column in table.columns if column.values %}
            when "{{ column.name }}" not in ({{ column.values | map('sql_string') | join(', ') }})
                then [
                    'not_accepted',
                    'column {{ column.name }}: ' || '"' || left("{{ column.name }}", 100) || '"'
                    || ' is not one of {{ column.values | join(", ") }}'
                ]
{%- endfor %}
{%- for column in table.columns if column.min is not none %}
            when try_cast("{{ column.name }}" as double) < {{ column.min }}
                then [
                    'out_of_range',
                    'column {{ column.name }}: ' || "{{ column.name }}"
                    || ' is below the minimum {{ column.min }}'
                ]
{%- endfor %}
{%- for column in table.columns if column.max is not none %}
            when try_cast("{{ column.name }}" as double) > {{ column.max }}
                then [
                    'out_of_range',
                    'column {{ column.name }}: ' || "{{ column.name }}"
                    || ' is above the maximum {{ column.max }}'
                ]
{%- endfor %}
{%- for column in table.columns if column.not_future %}
            when try_cast("{{ column.name }}" as timestamptz) >= _not_after
                then [
                    'future_timestamp',
                    'column {{ column.name }}: ' || "{{ column.name }}"
                    || ' is after the extract''s business day ' || _business_date
                ]
{%- endfor %}
        end as _violation,
    from incoming
    join (select _source_file, _business_date, _not_after from batch_files) using (_source_file)
),
keyed as (
    select
        *,
        case when _violation is null then row_number() over (
            partition by
                _source_file,
                _violation is null,
{%- for name in table.unique_key %}
                {{ typed(table.column(name)) }}{{ "," if not loop.last }}
{%- endfor %}
            order by _line
        ) end as _key_occurrence,
        case when _violation is null then min(_line) over (
            partition by
                _source_file,
                _violation is null,
{%- for name in table.unique_key %}
                {{ typed(table.column(name)) }}{{ "," if not loop.last }}
{%- endfor %}
        ) end as _key_first_line,
    from ruled
)
select
    * exclude (_violation, _key_occurrence, _key_first_line, _not_after),
    case
        when _violation is not null then _violation[1]
        when _key_occurrence > 1 then 'duplicate_key'
    end as _reason_code,
    case
        when _violation is not null then _violation[2]
        when _key_occurrence > 1
            then 'duplicate key ({{ table.unique_key | join(", ") }}) first seen on line '
            || _key_first_line
    end as _reason,
from keyed;
