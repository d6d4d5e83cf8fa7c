-- Replace what earlier deliveries of the batch's files loaded with their checked rows. Only a
-- batch with a file delivered before can have any: a batch of new files skips the deletes,
-- which scan whole tables (a full refresh would otherwise grow with the square of its size).
{%- if delivered_before %}
delete from raw.{{ table.name }}
where _source_file in (select _source_file from batch_files);

delete from raw._rejected_rows
where source_file in (select _source_file from batch_files);
{%- endif %}

insert into raw.{{ table.name }}
select
{%- for column in table.columns %}
    {{ typed(column) }} as {{ column.name }},
{%- endfor %}
    _source_file,
    _line as _source_line,
    _business_date,
    $loaded_at as _loaded_at,
from checked
where _reason_code is null
order by _source_file, _line;

insert into raw._rejected_rows
select
    '{{ table.name }}' as table_name,
    errors._source_file as source_file,
    errors.line,
    'malformed_line' as reason_code,
    errors.reason,
    errors.record,
    files._business_date as business_date,
    $loaded_at as rejected_at,
from parse_errors as errors
join batch_files as files using (_source_file)
union all
select
    '{{ table.name }}' as table_name,
    _source_file as source_file,
    _line as line,
    _reason_code as reason_code,
    _reason as reason,
    left(json_object(
{%- for column in table.columns %}
        '{{ column.name }}', "{{ column.name }}"{{ "," if not loop.last }}
{%- endfor %}
    ), 4000) as record,
    _business_date as business_date,
    $loaded_at as rejected_at,
from checked
where _reason_code is not null;
