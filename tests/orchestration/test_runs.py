"""Runs against one data directory: one writer at a time, and failed runs alert."""

import json
import logging
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.core import warehouse
from dagster_project.core.partitions import range_tags
from dagster_project.core.settings import Settings
from dagster_project.ingest import contract
from dagster_project.orchestration.automation import alert_on_run_failure
from dagster_project.orchestration.jobs import LAUNCHED_BY
from dagster_project.orchestration.run_history import write_instance_config
from demo_shop import generate
from tests.ingest.helpers import raw_row_counts

START = date(2025, 6, 1)
DAYS = 7
LAST = START + timedelta(days=DAYS - 1)
CHILD = Path(__file__).with_name("run_raw_layer.py")


@pytest.fixture
def shop(tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_DATA_DIR", str(tmp_path / "data"))
    settings = Settings.from_env()
    monkeypatch.setenv("DAGSTER_HOME", str(write_instance_config(settings).parent))
    return settings


def _steps(instance: dg.DagsterInstance, run_id: str) -> tuple[float, float]:
    """When the run's first step started and its last step ended."""
    records = [
        r
        for r in instance.all_logs(run_id)
        if r.is_dagster_event
        and r.get_dagster_event().event_type_value in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE")
    ]
    return min(r.timestamp for r in records), max(r.timestamp for r in records)


def test_two_runs_at_once_write_one_after_the_other(shop, tmp_path):
    generate(shop.landing_dir, START, DAYS, 100, seed=11)
    # Output goes to files, not pipes: a child blocked on a full pipe would never reach the lock.
    logs = [tmp_path / f"child{i}.log" for i in range(2)]
    # hold the warehouse so that both runs are certain to start while it is busy
    with warehouse.exclusive(shop, "the test", print):
        children = []
        for log in logs:
            with log.open("w") as out:  # the child keeps its own copy of the descriptor
                children.append(
                    subprocess.Popen(
                        [sys.executable, str(CHILD), str(START), str(LAST)],
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        with dg.DagsterInstance.get() as instance:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                waiting = [
                    run
                    for run in instance.get_runs()
                    if any(
                        "waiting for the warehouse" in (r.user_message or "")
                        for r in instance.all_logs(run.run_id)
                    )
                ]
                if len(waiting) == 2 or any(child.poll() is not None for child in children):
                    break
                time.sleep(1)
            tails = "\n".join(log.read_text()[-2000:] for log in logs)
            assert len(waiting) == 2, f"both runs should wait for the warehouse:\n{tails}"
    for child, log in zip(children, logs, strict=True):
        assert child.wait(timeout=300) == 0, log.read_text()[-3000:]
    run_ids = [log.read_text().strip().splitlines()[-1] for log in logs]
    with dg.DagsterInstance.get() as instance:
        first, second = sorted(_steps(instance, r) for r in run_ids)
        planned = instance.all_logs(
            run_ids[0], of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        )
    # one planned event per raw table for the whole range, not one per day (run_history.tune)
    assert len(planned) == len(contract.tables())
    assert first[1] <= second[0], "the second run's steps began before the first run's ended"
    with duckdb.connect(shop.build_db, read_only=True) as con:
        for table in contract.tables().values():
            rows, distinct, loaded = raw_row_counts(con, table)
            assert rows == distinct == loaded, table.name


def _failed_refresh(settings: Settings, tags: dict[str, str]) -> dg.RunFailureSensorContext:
    from dagster_project.definitions import defs

    generate(settings.landing_dir, START, DAYS, 100, seed=11, defects=["missing_column"])
    raw = {k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == "raw"}
    job = defs.resolve_job_def("refresh").get_subset(asset_selection=raw)
    instance = dg.DagsterInstance.get()
    result = job.execute_in_process(
        instance=instance, tags=tags | range_tags(START, LAST), raise_on_error=False
    )
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    (failure,) = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    return dg.build_run_status_sensor_context(
        sensor_name=alert_on_run_failure.name,
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=failure.get_dagster_event(),
    ).for_run_failure()


def _alerts(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "kpi.alerts"]


def test_a_failed_scheduled_run_sends_the_gates_alert(shop, caplog):
    context = _failed_refresh(shop, {LAUNCHED_BY: "schedule"})
    with caplog.at_level(logging.ERROR, logger="kpi.alerts"):
        alert_on_run_failure(context)
    (alert,) = _alerts(caplog)
    assert alert["event"] == "publication_blocked"
    assert "raw/products:contract" in alert["message"]
    assert alert["run_id"] == context.dagster_run.run_id


def test_the_sensor_leaves_cli_runs_to_the_cli(shop, caplog):
    context = _failed_refresh(shop, {LAUNCHED_BY: "cli"})
    with caplog.at_level(logging.ERROR, logger="kpi.alerts"):
        alert_on_run_failure(context)
    assert _alerts(caplog) == []
