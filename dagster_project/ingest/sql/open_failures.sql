-- Files that need attention, for one table or (table_name NULL) all of them.
select source_file, problem, message
from raw._open_failures
where $table_name is null or table_name = $table_name
order by source_file
