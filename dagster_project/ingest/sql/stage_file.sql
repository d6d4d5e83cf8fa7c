-- Read one landing file into temp table `incoming`: every contract column as text, with the
-- file's line number, plus `parse_errors` for lines the reader itself could not parse.
-- Lines count records as DuckDB's CSV reader does: the header is line 1, and a quoted field
-- spanning several physical lines still counts as one.
{%- if format == 'csv' %}
drop table if exists reject_errors;

drop table if exists reject_scans;

create or replace temp table parsed as
select
{%- for column in table.columns %}
    "{{ column.name }}",
{%- endfor %}
from read_csv(
    $path, header = true, auto_detect = false, columns = $columns, delim = ',', quote = '"',
    escape = '"', hive_partitioning = false, store_rejects = true, rejects_table = 'reject_errors', rejects_scan = 'reject_scans'
);

create or replace temp table parse_errors as
select
    line,
    min(error_type) || ': ' || min(error_message) as reason,
    min(csv_line) as record,
from reject_errors
group by line;

-- The k-th parsed record sits at line k + 1 plus the rejected lines before it.
create or replace temp table incoming as
with
numbered as (
    -- rows of one insert get consecutive row ids in file order
    select *, rowid - min(rowid) over () + 1 as ordinal from parsed
),
rejects_ranked as (
    select
        line - row_number() over (order by line) as parsed_before,
        row_number() over (order by line) as rejects_so_far,
    from parse_errors
),
reject_offsets as (
    select parsed_before, max(rejects_so_far) as rejects_so_far,
    from rejects_ranked
    group by parsed_before
)
select
    numbered.* exclude (ordinal),
    numbered.ordinal + 1 + coalesce(reject_offsets.rejects_so_far, 0) as _line,
from numbered
asof left join reject_offsets
    on numbered.ordinal >= reject_offsets.parsed_before;
{%- elif format == 'jsonl' %}
create or replace temp table lines as
select
    generate_subscripts(lines, 1) as line,
    unnest(lines) as text,
from (select string_split(content, chr(10)) as lines from read_text($path));

create or replace temp table parse_errors as
select
    line,
    'MALFORMED JSON: the line is not a JSON object' as reason,
    text as record,
from lines
where trim(text) <> '' and not (json_valid(text) and regexp_matches(text, '^\s*\{'));

create or replace temp table incoming as
select
{%- for column in table.columns %}
    text ->> '{{ column.name }}' as "{{ column.name }}",
{%- endfor %}
    line as _line,
from lines
where trim(text) <> '' and json_valid(text) and regexp_matches(text, '^\s*\{');
{%- else %}
create or replace temp table parse_errors as
select 0::bigint as line, ''::varchar as reason, ''::varchar as record
where false;

create or replace temp table incoming as
select
{%- for column in table.columns %}
    cast("{{ column.name }}" as varchar) as "{{ column.name }}",
{%- endfor %}
    file_row_number + 1 as _line,
from read_parquet($path, file_row_number = true, hive_partitioning = false);
{%- endif %}
