-- The latest publication attempt recorded in the published file.
select
    run_id,
    as_of_date,
    started_at,
    finished_at,
    checks_passed,
    checks_failed,
    outcome,
from publication_log
order by finished_at desc nulls last, started_at desc
limit 1
