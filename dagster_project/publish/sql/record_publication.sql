insert into audit.publication_log (
    run_id, as_of_date, started_at, finished_at, checks_passed, checks_failed, failed_checks,
    rows_per_table, absent_sources, outcome, message, warnings, absent_kpis
)
values (
    $run_id, $as_of_date, $started_at, $finished_at, $checks_passed, $checks_failed,
    $failed_checks, $rows_per_table, $absent_sources, $outcome, $message, $warnings, $absent_kpis
);
