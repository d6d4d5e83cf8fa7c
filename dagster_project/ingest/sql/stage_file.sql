-- Read the batch's landing files (`batch_files`, all of one format and header) into temp table
-- `incoming`: every contract column as text, with each row's file and line number, plus
-- `parse_errors` for lines the reader itself could not parse.
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
    _path,
from read_csv(
    $paths, header = true, auto_detect = false, columns = $columns, delim = ',', quote = '"',
    escape = '"', hive_partitioning = false, filename = '_path',
    store_rejects = true, rejects_table = 'reject_errors', rejects_scan = 'reject_scans'
);

create or replace temp table parse_errors as
select
    files._source_file,
    errors.line,
    min(errors.error_type) || ': ' || min(errors.error_message) as reason,
    min(errors.csv_line) as record,
from reject_errors as errors
join reject_scans as scans using (scan_id, file_id)
join batch_files as files on files._path = scans.file_path
group by all;

-- Rows of one insert get row ids in the order read (DuckDB preserves insertion order): file
-- after file, each in its order. So a file's k-th record is its k-th row id from its first,
-- without sorting the batch; checked, not assumed.
create or replace temp table file_rows as
select _path, min(rowid) as first_rowid, max(rowid) - min(rowid) + 1 = count(*) as contiguous,
from parsed
group by _path;

select error('the rows of ' || _path || ' were not read in one run: cannot number its lines')
from file_rows
where not contiguous;

-- The k-th parsed record of a file sits at line k + 1 plus its rejected lines before it.
create or replace temp table incoming as
with
numbered as (
    select
        parsed.* exclude (_path),
        files._source_file,
        parsed.rowid - file_rows.first_rowid + 1 as ordinal,
    from parsed
    join file_rows on file_rows._path = parsed._path
    join batch_files as files on files._path = parsed._path
),
rejects_ranked as (
    select
        _source_file,
        line - row_number() over (partition by _source_file order by line) as parsed_before,
        row_number() over (partition by _source_file order by line) as rejects_so_far,
    from parse_errors
),
reject_offsets as (
    select _source_file, parsed_before, max(rejects_so_far) as rejects_so_far,
    from rejects_ranked
    group by all
)
select
    numbered.* exclude (ordinal),
    numbered.ordinal + 1 + coalesce(reject_offsets.rejects_so_far, 0) as _line,
from numbered
asof left join reject_offsets
    on numbered._source_file = reject_offsets._source_file
    and numbered.ordinal >= reject_offsets.parsed_before;
{%- elif format == 'jsonl' %}
create or replace temp table lines as
select files._source_file, texts.line, texts.text,
from (
    select
        filename,
        generate_subscripts(lines, 1) as line,
        unnest(lines) as text,
    from (select filename, string_split(content, chr(10)) as lines from read_text($paths))
) as texts
join batch_files as files on files._path = texts.filename;

create or replace temp table parse_errors as
select
    _source_file,
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
    _source_file,
    line as _line,
from lines
where trim(text) <> '' and json_valid(text) and regexp_matches(text, '^\s*\{');
{%- else %}
create or replace temp table parse_errors as
select ''::varchar as _source_file, 0::bigint as line, ''::varchar as reason, ''::varchar as record
where false;

create or replace temp table incoming as
select
{%- for column in table.columns %}
    cast("{{ column.name }}" as varchar) as "{{ column.name }}",
{%- endfor %}
    files._source_file,
    file_row_number + 1 as _line,
from read_parquet(
    $paths, file_row_number = true, hive_partitioning = false, filename = '_path'
) as parquet
join batch_files as files on files._path = parquet._path;
{%- endif %}
