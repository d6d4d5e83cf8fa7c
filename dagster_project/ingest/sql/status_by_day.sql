-- One line per business day of one table.
select
    business_date,
    count(*) as files,
    sum(rows_loaded) as rows_loaded,
    sum(rows_rejected) as rows_rejected,
    max(loaded_at) as last_loaded_at,
from raw._load_manifest
where table_name = $table_name
group by business_date
order by business_date
