-- Manifest rows whose counts disagree with the rows actually loaded and rejected.
select m.source_file
from raw._load_manifest as m
left join (
    select _source_file, count(*) as n from raw.{{ table.name }} group by all
) as loaded on m.source_file = loaded._source_file
left join (
    select source_file, count(*) as n from raw._rejected_rows group by all
) as rejected on m.source_file = rejected.source_file
where
    m.table_name = $table_name
    and (
        m.rows_loaded <> coalesce(loaded.n, 0)
        or m.rows_rejected <> coalesce(rejected.n, 0)
        or m.rows_read <> m.rows_loaded + m.rows_rejected
    )
