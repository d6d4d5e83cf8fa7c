"""Partitions, the nightly schedule, the landing sensor's decisions, and Dagster's freshness
checks with the stale-data alert, without running the pipeline."""

import json
import logging
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from dagster_project.core import warehouse
from dagster_project.core.partitions import DAILY, range_tags, run_window
from dagster_project.core.settings import Settings
from dagster_project.definitions import defs
from dagster_project.ingest import contract
from dagster_project.ingest.landing_days import (
    MARKER_DIR,
    LandingDay,
    complete_days,
    delivered_days,
)
from dagster_project.ingest.loader import ensure_tables
from dagster_project.orchestration.automation import (
    alert_on_stale_data,
    already_loaded,
    landing_run_request,
    landing_sensor,
    nightly_refresh,
)
from dagster_project.quality.freshness import (
    FRESHNESS_CHECK_KEYS,
    LAST_UPDATED,
    NEVER,
    freshness_checks,
    last_load_metadata,
)
from demo_shop import generate

DAILY_TABLES = [t.name for t in contract.tables().values() if t.is_daily]


def _deliver(landing, day: date, tables, name="part-0.csv", text="x\n1\n"):
    for table in tables:
        folder = landing / table / f"dt={day}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def test_raw_assets_are_daily_partitions_in_the_shop_time_zone():
    graph = defs.resolve_asset_graph()
    raw = [key for key in graph.get_all_asset_keys() if key.path[0] == "raw"]
    assert len(raw) == len(contract.tables())
    for key in raw:
        partitions = graph.get(key).partitions_def
        assert isinstance(partitions, dg.DailyPartitionsDefinition)
        assert partitions.timezone == Settings.from_env().timezone
    # everything after the raw layer is rebuilt whole by each run
    assert graph.get(dg.AssetKey(["marts", "kpi_daily"])).partitions_def is None


def test_the_nightly_schedule_refreshes_yesterday_at_two_shop_time():
    nightly = defs.resolve_schedule_def(nightly_refresh.name)
    assert nightly.cron_schedule == "0 2 * * *"
    assert nightly.execution_timezone == "Asia/Shanghai"
    assert nightly.default_status == dg.DefaultScheduleStatus.RUNNING
    at = datetime(2025, 6, 8, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    context = dg.build_schedule_context(scheduled_execution_time=at)
    requests = nightly.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == ["2025-06-07"]


def test_complete_days_need_every_daily_source_or_a_marker(tmp_path):
    landing = tmp_path / "landing"
    _deliver(landing, date(2025, 6, 1), DAILY_TABLES)
    _deliver(landing, date(2025, 6, 2), DAILY_TABLES[:-1])  # one daily source missing
    _deliver(landing, date(2025, 6, 3), ["products"])  # not a daily source
    assert delivered_days(landing) == [date(2025, 6, d) for d in (1, 2, 3)]
    assert list(complete_days(landing)) == [date(2025, 6, 1)]
    (landing / MARKER_DIR).mkdir()
    (landing / MARKER_DIR / "dt=2025-06-02").touch()
    assert list(complete_days(landing)) == [date(2025, 6, 1), date(2025, 6, 2)]


def test_a_late_file_changes_its_days_fingerprint_only(tmp_path):
    landing = tmp_path / "landing"
    for day in (1, 2):
        _deliver(landing, date(2025, 6, day), DAILY_TABLES)
    before = complete_days(landing)
    _deliver(landing, date(2025, 6, 1), ["orders"], name="late.csv")
    after = complete_days(landing)
    assert after[date(2025, 6, 1)] != before[date(2025, 6, 1)]
    assert after[date(2025, 6, 2)] == before[date(2025, 6, 2)]


def test_the_sensor_requests_new_and_changed_days_once():
    first, last = date(2025, 1, 1), date(2025, 6, 30)
    days = {date(2025, 6, 1): "a", date(2025, 6, 2): "b"}
    request, seen = landing_run_request(days, {}, last, first)
    assert request.partition_key is None
    assert request.tags | range_tags(date(2025, 6, 1), date(2025, 6, 2)) == request.tags
    # nothing new: no run
    assert landing_run_request(days, seen, last, first)[0] is None
    # one day changed (a late file): a run for that day alone
    request, seen = landing_run_request(days | {date(2025, 6, 1): "a2"}, seen, last, first)
    assert request.partition_key == "2025-06-01"
    # a day that is not over yet waits
    request, _ = landing_run_request({date(2025, 7, 1): "c"}, seen, last, first)
    assert request is None


def test_the_sensor_reads_the_landing_zone_and_keeps_a_cursor(tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_DATA_DIR", str(tmp_path))
    _deliver(tmp_path / "landing", date(2025, 6, 1), DAILY_TABLES)
    context = dg.build_sensor_context()
    result = landing_sensor(context)
    assert [r.partition_key for r in result.run_requests] == ["2025-06-01"]
    context = dg.build_sensor_context(cursor=result.cursor)
    assert isinstance(landing_sensor(context), dg.SkipReason)
    assert json.loads(result.cursor) == {
        "2025-06-01": complete_days(tmp_path / "landing")[date(2025, 6, 1)]
    }


FIRST, LAST = date(2025, 1, 1), date(2025, 6, 30)
JUNE_1, JUNE_2 = date(2025, 6, 1), date(2025, 6, 2)


def _two_days() -> dict[date, LandingDay]:
    """Two complete days of two files each; a symbolic link's file has two stats."""
    return {
        JUNE_1: LandingDay(
            "fp1",
            {
                "orders/dt=2025-06-01/a.csv": frozenset({(10, 100)}),
                "events/dt=2025-06-01/a.csv": frozenset({(20, 200)}),
            },
        ),
        JUNE_2: LandingDay(
            "fp2",
            {
                "orders/dt=2025-06-02/a.csv": frozenset({(30, 300)}),
                "events/dt=2025-06-02/link.csv": frozenset({(9, 400), (40, 401)}),
            },
        ),
    }


# as recorded_files.sql returns them: loaded files, and the latest failure of a failed one
RECORDED = {
    "orders/dt=2025-06-01/a.csv": {(10, 100)},
    "events/dt=2025-06-01/a.csv": {(20, 200)},
    "orders/dt=2025-06-02/a.csv": {(30, 300), (31, 299)},  # loaded, then a change that failed
    "events/dt=2025-06-02/link.csv": {(40, 401)},  # the link's target, as the loader saw it
}


def _first_request(days: dict[date, LandingDay], recorded) -> dg.RunRequest | None:
    """The run request of a first evaluation (no cursor yet)."""
    fingerprints = {day: d.fingerprint for day, d in days.items()}
    return landing_run_request(fingerprints, already_loaded(days, recorded), LAST, FIRST)[0]


def test_days_already_loaded_unchanged_do_not_run_again():
    assert already_loaded(_two_days(), RECORDED) == {"2025-06-01": "fp1", "2025-06-02": "fp2"}
    assert _first_request(_two_days(), RECORDED) is None


@pytest.mark.parametrize(
    "recorded",
    [
        RECORDED | {"orders/dt=2025-06-02/a.csv": {(30, 299)}},  # touched since it loaded
        RECORDED | {"orders/dt=2025-06-02/a.csv": {(29, 300)}},  # another size
        {k: v for k, v in RECORDED.items() if k != "orders/dt=2025-06-02/a.csv"},  # new file
    ],
    ids=["changed_mtime", "changed_size", "new_file"],
)
def test_a_new_or_changed_file_runs_its_day_only(recorded):
    request = _first_request(_two_days(), recorded)
    assert request.partition_key == "2025-06-02"


def test_without_a_build_warehouse_every_complete_day_runs():
    request = _first_request(_two_days(), {})
    assert request.partition_key is None
    assert request.tags | range_tags(JUNE_1, JUNE_2) == request.tags


@pytest.fixture
def refreshed_shop(isolated_data_dir) -> Settings:
    """A week of a small shop through a real `refresh` run. One events file is a truncated
    gzip: it fails to load, so the gate refuses the build before dbt (which keeps this fast)."""
    settings = Settings.from_env()
    first, last = date(2025, 6, 1), date(2025, 6, 7)
    generate(settings.landing_dir, first, 7, 50, seed=11, defects=["truncated_gzip"])
    result = defs.resolve_job_def("refresh").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), tags=range_tags(first, last), raise_on_error=False
    )
    assert not result.success
    return settings


def test_the_first_evaluation_after_a_refresh_skips_and_keeps_the_days(refreshed_shop):
    days = complete_days(refreshed_shop.landing_dir)
    with warehouse.connect(refreshed_shop, read_only=True) as con:
        (failed,) = con.execute("select source_file from raw._load_failures").fetchall()
    # a day with a file that failed to load: unchanged, the loader would not retry it
    assert failed[0] == "events/dt=2025-06-04/defect-truncated_gzip.csv.gz"
    assert date(2025, 6, 4) in days
    result = landing_sensor(dg.build_sensor_context())
    assert not result.run_requests
    assert result.skip_reason is not None
    assert json.loads(result.cursor) == {day.isoformat(): fp for day, fp in days.items()}
    # a file changed since it loaded: its day runs, alone
    (orders,) = (refreshed_shop.landing_dir / "orders" / "dt=2025-06-03").iterdir()
    os.utime(orders, ns=(orders.stat().st_atime_ns, orders.stat().st_mtime_ns + 1))
    result = landing_sensor(dg.build_sensor_context())
    assert [r.partition_key for r in result.run_requests] == ["2025-06-03"]


def _warehouse_with_a_complete_day() -> Settings:
    settings = Settings.from_env()
    _deliver(settings.landing_dir, JUNE_1, DAILY_TABLES)
    with warehouse.connect(settings):
        pass  # an empty build warehouse: nothing loaded
    return settings


def test_the_first_evaluation_waits_while_a_run_writes_the_warehouse():
    settings = _warehouse_with_a_complete_day()
    with warehouse.exclusive(settings, "run-1234", print):
        result = landing_sensor(dg.build_sensor_context())
    assert isinstance(result, dg.SkipReason)
    assert "run-1234 is writing it" in result.skip_message
    # once the run is over, the same first evaluation goes ahead
    result = landing_sensor(dg.build_sensor_context())
    assert [r.partition_key for r in result.run_requests] == ["2025-06-01"]


def test_the_first_evaluation_waits_while_another_process_writes_the_warehouse():
    settings = _warehouse_with_a_complete_day()
    holder = subprocess.Popen(  # a writer outside the lock: the duckdb CLI, a notebook...
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('open', flush=True);"
            " sys.stdin.read()",
            str(settings.build_db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "open\n"
        result = landing_sensor(dg.build_sensor_context())
    finally:
        holder.communicate(timeout=30)
    assert isinstance(result, dg.SkipReason)
    assert "Could not set lock" in result.skip_message


def test_run_window_reads_a_partition_or_a_range():
    assert run_window({"dagster/partition": "2025-06-03"}) == (date(2025, 6, 3),) * 2
    assert run_window(range_tags(date(2025, 6, 1), date(2025, 6, 9))) == (
        date(2025, 6, 1),
        date(2025, 6, 9),
    )
    assert run_window({}) is None


def test_the_newest_partition_is_yesterday_in_the_shop_time_zone():
    yesterday = datetime.now(ZoneInfo(Settings.from_env().timezone)).date() - timedelta(days=1)
    assert DAILY.get_last_partition_key() == yesterday.isoformat()


def _freshness(instance: dg.DagsterInstance, caplog) -> tuple[dict, list[dict]]:
    """Run the `freshness` job as its schedule does, then the stale-data sensor on that run:
    each check's evaluation by its asset, and the alerts sent."""
    result = defs.resolve_job_def("freshness").execute_in_process(instance=instance)
    assert result.success  # a stale check warns: the run succeeds
    (success,) = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)
    context = dg.build_run_status_sensor_context(
        sensor_name=alert_on_stale_data.name,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
        dagster_event=success.get_dagster_event(),
    )
    with caplog.at_level(logging.ERROR, logger="kpi.alerts"):
        alert_on_stale_data(context)
    alerts = [json.loads(r.getMessage()) for r in caplog.records if r.name == "kpi.alerts"]
    evaluations = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}
    return evaluations, alerts


def _loaded(instance: dg.DagsterInstance, table: str, at: float) -> None:
    """A materialization of raw/<table> as the raw asset reports it: when rows last loaded."""
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key=dg.AssetKey(["raw", table]),
            metadata={LAST_UPDATED: dg.MetadataValue.timestamp(at)},
        )
    )


def test_the_freshness_job_runs_dagsters_freshness_checks_of_the_daily_sources_and_mart():
    assert {key.name for key in FRESHNESS_CHECK_KEYS} == {"freshness_check"}
    assert {key.asset_key.to_user_string() for key in FRESHNESS_CHECK_KEYS} == {
        *(f"raw/{table}" for table in DAILY_TABLES),
        "published/kpi_mart",
    }
    steps = {checks.node_def.name for checks in freshness_checks}

    def nodes(job: str) -> set[str]:
        return {node.name for node in defs.resolve_job_def(job).graph.node_defs}

    assert nodes("freshness") == steps
    assert not nodes("refresh") & steps
    assert defs.resolve_schedule_def("freshness_schedule").job_name == "freshness"


@pytest.mark.parametrize(("hours", "fresh"), [(1, True), (25.9, True), (26.1, False)])
def test_freshness_fails_after_26_hours_at_warn_and_alerts(hours, fresh, caplog):
    instance = dg.DagsterInstance.ephemeral()
    newest = datetime.now(UTC) - timedelta(hours=hours)
    _loaded(instance, "orders", newest.timestamp())
    evaluations, alerts = _freshness(instance, caplog)
    orders = evaluations["raw/orders"]
    assert (orders.passed, orders.severity) == (fresh, dg.AssetCheckSeverity.WARN)
    stale = [a for a in alerts if a["check"] == "raw/orders:freshness_check"]
    if fresh:
        assert stale == []
    else:
        (alert,) = stale
        assert alert["event"] == "stale_data"
        assert alert["message"] == (
            f"raw.orders: last at {newest:%Y-%m-%d %H:%M} UTC, 26.1 h ago (limit 26 h)"
        )
        assert alert["limit_hours"] == 26


def test_nothing_loaded_yet_is_not_fresh(caplog):
    """Never published, or materialized without a row ever loaded (the raw asset then reports
    NEVER): stale, `nothing yet`."""
    instance = dg.DagsterInstance.ephemeral()
    _loaded(instance, "orders", NEVER)
    evaluations, alerts = _freshness(instance, caplog)
    assert not evaluations["raw/orders"].passed
    assert not evaluations["published/kpi_mart"].passed
    messages = {alert["message"] for alert in alerts}
    assert {"raw.orders: nothing yet", "published/kpi_mart: nothing yet"} <= messages
    assert len(alerts) == len(DAILY_TABLES) + 1  # nothing else was ever loaded either


def test_the_raw_asset_reports_when_its_newest_rows_were_loaded(tmp_path):
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    ensure_tables(con, contract.table("orders"))
    assert last_load_metadata(con, "orders")[LAST_UPDATED].value == NEVER
    rows = {
        "2025-06-01": (5, "2025-06-02 01:00:00+00"),
        "2025-06-02": (0, "2025-06-03 01:00:00+00"),
    }
    for day, (count, loaded_at) in rows.items():
        con.execute(
            "insert into raw._load_manifest values ($f, 'orders', $d, 1, 1, 'x', 'loaded', $r, $r,"
            " 0, $at, 'run')",
            {"f": f"orders/dt={day}/a.csv", "d": day, "r": count, "at": loaded_at},
        )
    # an empty file later does not make the table fresh
    newest = last_load_metadata(con, "orders")[LAST_UPDATED].value
    assert newest == datetime(2025, 6, 2, 1, tzinfo=UTC).timestamp()
