-- Contract tables that never delivered a file (nor tried to): absent, not failing.
select table_name
from (select unnest($tables) as table_name) as contract_tables
where
    not exists (
        select 1 from raw._load_manifest as m where m.table_name = contract_tables.table_name
    )
    and not exists (
        select 1 from raw._load_failures as f where f.table_name = contract_tables.table_name
    )
