-- How many rows of one table (optionally of one business day) were rejected, per reason.
select reason_code, count(*) as rows_rejected, count(distinct source_file) as files,
from raw._rejected_rows
where table_name = $table_name and ($business_date is null or business_date = $business_date)
group by reason_code
order by rows_rejected desc, reason_code
