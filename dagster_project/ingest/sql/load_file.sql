-- Replace what an earlier delivery of this file loaded with the checked rows of this one.
delete from raw.{{ table.name }} where _source_file = $source_file;

delete from raw._rejected_rows where source_file = $source_file;

insert into raw.{{ table.name }}
select
{%- for column in table.columns %}
    {{ typed(column) }} as {{ column.name }},
{%- endfor %}
    $source_file as _source_file,
    _line as _source_line,
    $business_date as _business_date,
    $loaded_at as _loaded_at,
from checked
where _reason_code is null
order by _line;

insert into raw._rejected_rows
select
    '{{ table.name }}' as table_name,
    $source_file as source_file,
    line,
    'malformed_line' as reason_code,
    reason,
    record,
    $business_date as business_date,
    $loaded_at as rejected_at,
from parse_errors
union all
select
    '{{ table.name }}' as table_name,
    $source_file as source_file,
    _line as line,
    _reason_code as reason_code,
    _reason as reason,
    left(json_object(
{%- for column in table.columns %}
        '{{ column.name }}', "{{ column.name }}"{{ "," if not loop.last }}
{%- endfor %}
    ), 4000) as record,
    $business_date as business_date,
    $loaded_at as rejected_at,
from checked
where _reason_code is not null;
