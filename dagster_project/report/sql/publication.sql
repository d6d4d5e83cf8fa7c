-- The latest publication attempt recorded in the published file. Every column: a publication
-- written before a column existed (warnings) still renders.
select *
from publication_log
order by finished_at desc nulls last, started_at desc
limit 1
