-- The columns a delivered JSONL or Parquet file carries, with their Parquet types (CSV headers
-- are read in Python).
{%- if format == 'jsonl' %}
select distinct unnest(json_keys(text)) as column_name, null::varchar as column_type,
from (
    select unnest(string_split(content, chr(10))) as text
    from read_text($path)
)
where json_valid(text) and regexp_matches(text, '^\s*\{')
order by column_name
{%- else %}
select column_name, column_type,
from (describe select * from read_parquet($path, hive_partitioning = false))
{%- endif %}
