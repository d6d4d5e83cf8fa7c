"""The run history's event log: Dagster's SQLite storage, one engine per process."""

import os
import sqlite3
from dataclasses import replace
from datetime import date, timedelta

import dagster as dg
from sqlalchemy import event

from dagster_project.core.partitions import DAILY, SINGLE_RUN, range_tags
from dagster_project.core.settings import Settings
from dagster_project.orchestration.run_history import (
    HistoryEventLogStorage,
    tune,
    write_instance_config,
)


@dg.asset
def counted() -> None:
    """An asset whose runs write a dozen events each."""


def _instance(settings: Settings) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(write_instance_config(settings).parent))


def test_a_run_writes_its_events_over_a_few_kept_connections(isolated_data_dir):
    settings = Settings.from_env()
    with _instance(settings) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, HistoryEventLogStorage)
        connects = []
        event.listen(storage._pooled_engine(), "connect", lambda *_: connects.append(1))
        runs = [
            dg.materialize([counted], instance=instance).run_id,
            dg.materialize([counted], instance=instance).run_id,
        ]
        written = [len(instance.all_logs(run_id)) for run_id in runs]
        assert min(written) >= 10
        # Dagster's own SQLite storage opens one connection per event
        assert len(connects) <= 5, (len(connects), written)
    # what it wrote is Dagster's history, as any instance reads it
    with _instance(settings) as instance:
        assert [len(instance.all_logs(run_id)) for run_id in runs] == written
        assert instance.get_latest_materialization_event(dg.AssetKey("counted")) is not None


def test_a_forked_child_writes_over_its_own_engine(isolated_data_dir):
    settings = Settings.from_env()
    with _instance(settings) as instance:
        dg.materialize([counted], instance=instance)  # the parent's engine and connections
        parent_engine = instance.event_log_storage._pooled_engine()
        pid = os.fork()
        if pid == 0:  # the child: a run of its own, then the answer in its exit status
            code = 1
            try:
                storage = instance.event_log_storage
                result = dg.materialize([counted], instance=instance)
                code = 0 if result.success and storage._pooled_engine() is not parent_engine else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        # the parent's connections still work after the child's writes
        dg.materialize([counted], instance=instance)
        assert instance.event_log_storage._pooled_engine() is parent_engine
        runs = instance.get_runs()
        assert len(runs) == 3
        assert all(len(instance.all_logs(run.run_id)) >= 10 for run in runs)


@dg.asset(partitions_def=DAILY, backfill_policy=SINGLE_RUN)
def daily() -> dg.MaterializeResult:
    """A daily asset loaded a range at a time, as the raw tables are."""
    return dg.MaterializeResult(metadata={"rows": 1})


@dg.asset_check(asset=daily, blocking=True)
def daily_is_fine() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def _range_run(settings: Settings) -> tuple[list[tuple], dict, list[tuple], int]:
    """A run of ``daily`` over 40 days: its events (kind, asset, day), what the instance answers
    about the asset, the history's asset and check rows, and how many inserts into the event log
    it ran."""
    inserts = []
    with _instance(settings) as instance:
        event.listen(
            instance.event_log_storage._pooled_engine(),
            "before_cursor_execute",
            lambda _c, _cur, sql, *_: (
                inserts.append(1) if sql.startswith("INSERT INTO event_logs") else None
            ),
        )
        defs = dg.Definitions(
            assets=[daily],
            asset_checks=[daily_is_fine],
            jobs=[dg.define_asset_job("range", [daily])],
        )
        first = date(2025, 6, 1)
        result = defs.resolve_job_def("range").execute_in_process(
            instance=instance, tags=range_tags(first, first + timedelta(days=39))
        )
        assert result.success
        events = [
            (e.dagster_event_type.value, str(e.dagster_event.asset_key), e.dagster_event.partition)
            for e in instance.all_logs(result.run_id)
            if e.is_dagster_event
        ]
        key = daily.key
        latest = instance.get_latest_materialization_event(key)
        answers = {
            "days": sorted(instance.get_materialized_partitions(key)),
            "latest": latest.dagster_event.partition,
            "last run": latest.run_id == result.run_id,
            "checks": instance.event_log_storage.get_asset_check_execution_history(
                dg.AssetCheckKey(key, "daily_is_fine"), limit=10
            )[0].status.value,
        }
    with sqlite3.connect(settings.dagster_home / "history" / "event_log.db") as con:
        rows = (
            con.execute(
                "select asset_key, last_run_id is not null, last_materialization is not null, "
                "last_materialization_timestamp is not null from asset_keys order by asset_key"
            ).fetchall()
            + con.execute(
                "select check_name, execution_status, evaluation_event_storage_id is not null "
                "from asset_check_executions order by id"
            ).fetchall()
        )
    return events, answers, rows, len(inserts)


def test_a_range_runs_days_are_stored_in_one_batch_as_one_by_one_would(
    isolated_data_dir, monkeypatch
):
    """The 40 materializations of a range run, batched (tune()'s DAGSTER_EVENT_BATCH_SIZE), leave
    the history Dagster's one-by-one writes leave: the same events in the same order, the same
    days materialized, latest day and check result, the same asset and check rows."""
    tune()
    settings = Settings.from_env()
    batched = _range_run(settings)
    with monkeypatch.context() as env:
        env.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")  # Dagster's default: no batches
        one_by_one = _range_run(replace(settings, data_dir=isolated_data_dir.with_name("one")))
    assert batched[:3] == one_by_one[:3]
    assert len(batched[1]["days"]) == 40 and batched[1]["latest"] == batched[1]["days"][-1]
    assert sum(kind == "ASSET_MATERIALIZATION" for kind, _, _ in batched[0]) == 40
    # one insert for the 40 days instead of one each
    assert one_by_one[3] - batched[3] >= 39, (one_by_one[3], batched[3])
