"""Partitions, the nightly schedule, the landing sensor's decisions and the freshness verdicts,
without running the pipeline."""

import json
import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from dagster_project.automation import landing_run_request, landing_sensor, nightly_refresh
from dagster_project.definitions import defs
from dagster_project.freshness import _verdict
from dagster_project.ingest import contract
from dagster_project.ingest.landing_days import MARKER_DIR, complete_days, delivered_days
from dagster_project.partitions import DAILY, range_tags, run_window
from dagster_project.settings import Settings

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


@pytest.mark.parametrize(("hours", "fresh"), [(1, True), (25.9, True), (26.1, False)])
def test_freshness_fails_after_26_hours_and_alerts(hours, fresh, caplog):
    settings = Settings.from_env()
    newest = datetime.now(UTC) - timedelta(hours=hours)
    with caplog.at_level(logging.ERROR, logger="kpi.alerts"):
        result = _verdict("raw.orders", newest, settings)
    assert result.passed is fresh
    alerts = [json.loads(r.getMessage()) for r in caplog.records if r.name == "kpi.alerts"]
    if fresh:
        assert alerts == []
    else:
        assert alerts[0]["event"] == "stale_data"
        assert "raw.orders" in alerts[0]["message"]


def test_nothing_loaded_yet_is_not_fresh(caplog):
    with caplog.at_level(logging.ERROR, logger="kpi.alerts"):
        assert not _verdict("published/kpi_mart", None, Settings.from_env()).passed
    assert "nothing yet" in caplog.text
