-- The column names a delivered JSONL or Parquet file carries (CSV headers are read in Python).
{%- if format == 'jsonl' %}
select distinct unnest(json_keys(text)) as column_name
from (
    select unnest(string_split(content, chr(10))) as text
    from read_text($path)
)
where json_valid(text) and regexp_matches(text, '^\s*\{')
{%- else %}
select column_name
from (describe select * from read_parquet($path, hive_partitioning = false))
{%- endif %}
