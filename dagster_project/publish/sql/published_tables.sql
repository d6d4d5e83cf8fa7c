-- The tables of the build's marts schema (which of them are published is decided in Python).
select table_name
from duckdb_tables()
where database_name = 'build' and schema_name = 'marts'
order by table_name
