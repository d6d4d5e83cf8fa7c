-- The publication carries the whole log, its own entry included.
create table publication.main.publication_log as
select * from build.audit.publication_log;

insert into publication.main.publication_log (
    run_id, as_of_date, started_at, finished_at, checks_passed, checks_failed, failed_checks,
    rows_per_table, absent_sources, outcome, message, warnings, absent_kpis
)
values (
    $run_id, $as_of_date, $started_at, $finished_at, $checks_passed, $checks_failed,
    $failed_checks, $rows_per_table, $absent_sources, $outcome, $message, $warnings, $absent_kpis
);

copy publication.main.publication_log to $path (format parquet)
