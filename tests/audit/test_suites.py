"""The GX audit: every published table has a suite, and suites block or warn as declared."""

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from dagster_project.audit.frames import targets
from dagster_project.audit.validate import Auditor, suite_names
from dagster_project.definitions import marts
from dagster_project.ingest import contract
from dagster_project.ingest.loader import ensure_tables
from dagster_project.publish.publication import is_published

PUBLISHED = sorted(key.path[-1] for key in marts if is_published(key.path[-1]))


@pytest.fixture(scope="module")
def auditor(tmp_path_factory):
    return Auditor(tmp_path_factory.mktemp("docs"))


def test_every_published_table_has_a_suite_and_every_suite_is_used():
    used = {target.suite for target in targets(PUBLISHED)}
    assert set(PUBLISHED) <= set(suite_names())
    assert used == set(suite_names())


def test_a_critical_expectation_blocks_and_a_warning_only_reports(auditor):
    rates = pd.DataFrame(
        {
            "kpi_date": [date(2025, 6, 1)] * 3,
            "kpi_id": ["session_conversion_rate", "member_revenue_share", "sessions"],
            "dimension": ["all"] * 3,
            "dimension_value": ["all"] * 3,
            "numerator": [1.0, 3.0, 10.0],
            "denominator": [2.0, 2.0, None],
            "value": [0.5, 1.5, 10.0],
            "unit": ["rate", "rate", "count"],
        }
    )
    warned = auditor.validate("kpi_daily", "kpi_daily_warned", rates)
    assert not warned.passed and not warned.blocking
    assert [f.severity for f in warned.failures] == ["warning"]
    broken = rates.assign(value=[1.5, 0.5, 10.0])  # a conversion rate above 1
    blocked = auditor.validate("kpi_daily", "kpi_daily_blocked", broken)
    assert blocked.blocking
    assert any(f.sample == [1.5] for f in blocked.failures)
    assert auditor.validate("kpi_daily", "kpi_daily_ok", rates.iloc[[0, 2]]).passed


def _manifest_days(con, table: str, days: int, rows: int = 100) -> None:
    for n in range(days):
        day = date(2025, 6, 1) + timedelta(days=n)
        con.execute(
            "insert into raw._load_manifest values ($f, $t, $d, 1, 1, 'x', 'loaded', $r, $r, 0,"
            " now(), 'run')",
            {"f": f"{table}/dt={day}/a.csv", "t": table, "d": day, "r": rows},
        )


def test_a_daily_source_that_stops_delivering_blocks(auditor, tmp_path):
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    ensure_tables(con, contract.table("sessions"))
    _manifest_days(con, "sessions", 30)
    _manifest_days(con, "events", 28)  # delivered before, then stopped two days ago
    _manifest_days(con, "campaigns", 3)  # not a daily source: may pause
    by_name = {target.name: target for target in targets(PUBLISHED)}
    events = auditor.validate(
        "volume_raw", "stopped_events", by_name["volume_raw_events"].frame(con)
    )
    sessions = auditor.validate(
        "volume_raw", "running_sessions", by_name["volume_raw_sessions"].frame(con)
    )
    campaigns = auditor.validate(
        "volume_raw", "paused_campaigns", by_name["volume_raw_campaigns"].frame(con)
    )
    assert events.blocking
    assert [f.kwargs["column"] for f in events.failures] == ["days_behind"]
    assert sessions.passed and campaigns.passed


def test_a_collapsed_day_blocks_but_small_counts_are_not_judged(auditor, tmp_path):
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    ensure_tables(con, contract.table("sessions"))
    _manifest_days(con, "sessions", 29)
    _manifest_days(con, "orders", 29, rows=8)  # a small shop: 8 orders a day, then 1
    con.execute(
        "insert into raw._load_manifest values ('orders/dt=2025-06-30/a.csv', 'orders',"
        " date '2025-06-30', 1, 1, 'x', 'loaded', 1, 1, 0, now(), 'run')"
    )
    con.execute(
        "insert into raw._load_manifest values ('sessions/dt=2025-06-30/a.csv', 'sessions',"
        " date '2025-06-30', 1, 1, 'x', 'loaded', 5, 5, 0, now(), 'run')"
    )
    frame = {t.name: t for t in targets(PUBLISHED)}["volume_raw_sessions"].frame(con)
    outcome = auditor.validate("volume_raw", "collapsed_sessions", frame)
    assert outcome.blocking
    assert {f.kwargs["column"] for f in outcome.failures} >= {"ratio_to_median"}
    small = {t.name: t for t in targets(PUBLISHED)}["volume_raw_orders"].frame(con)
    assert auditor.validate("volume_raw", "small_orders", small).passed
