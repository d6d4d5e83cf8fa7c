-- Rejected rows of one table, optionally of one business day, in file and line order.
select source_file, line, reason_code, reason, record,
from raw._rejected_rows
where table_name = $table_name and ($business_date is null or business_date = $business_date)
order by source_file, line
limit $limit
