-- The tables and views of the report's schema in the opened file.
select table_name,
from information_schema.tables
where
    table_schema = $schema
    and table_catalog = current_database()
