-- One file of an export as temp table export_<name>: exactly as delivered, every value text,
-- an empty field NULL. Its columns are the file's header (read by the adapter), so a line
-- with more or fewer fields is an error naming the line; typing is the adapter's mapping's.
create or replace temp table export_{{ table }} as
select *
from read_csv(
    $path, header = true, auto_detect = false, columns = $columns, delim = ',', quote = '"',
    escape = '"'
);
