"""The GX audit: every published table has a suite, and suites block or warn as the policy says."""

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from dagster_project.ingest import contract
from dagster_project.ingest.loader import ensure_tables
from dagster_project.publish.publication import is_published
from dagster_project.quality.frames import targets
from dagster_project.quality.validate import Auditor, suite_names
from dagster_project.transform.definitions import marts

PUBLISHED = sorted(key.path[-1] for key in marts if is_published(key.path[-1]))


@pytest.fixture(scope="module")
def auditor(tmp_path_factory):
    return Auditor(tmp_path_factory.mktemp("docs"))


def test_every_published_table_has_a_suite_and_every_suite_is_used():
    used = {target.suite for target in targets(PUBLISHED)}
    assert set(PUBLISHED) <= set(suite_names())
    assert used == set(suite_names())


def test_a_critical_expectation_blocks_and_a_warning_only_reports(auditor):
    volumes = pd.DataFrame(
        {
            "business_date": [date(2025, 6, 29), date(2025, 6, 30)],
            "row_count": [100.0, 160.0],
            "trailing_median": [100.0, 100.0],
            "ratio_to_median": [1.0, 1.6],
            "z_score": [0.5, 6.0],  # a surge beyond 4 standard deviations: a warning
            "days_behind": [0, 0],
        }
    )
    warned = auditor.validate("volume_raw", "volume_raw_warned", volumes)
    assert not warned.passed and not warned.blocking
    assert [f.severity for f in warned.failures] == ["warning"]
    collapsed = volumes.assign(ratio_to_median=[1.0, 0.1])  # a day at a tenth of its norm
    blocked = auditor.validate("volume_raw", "volume_raw_blocked", collapsed)
    assert blocked.blocking
    assert any(f.sample == [0.1] for f in blocked.failures)
    ok = auditor.validate("volume_raw", "volume_raw_ok", volumes.assign(z_score=[0.5, 1.0]))
    assert ok.passed


def _kpi_daily(kpi_id: str, numerator: float, denominator: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kpi_date": [date(2025, 6, 1)] * 2,
            "kpi_id": ["session_conversion_rate", kpi_id],
            "dimension": ["all", "channel"],
            "dimension_value": ["all", "social"],
            "numerator": [1.0, numerator],
            "denominator": [2.0, denominator],
            "value": [0.5, numerator / denominator],
            "unit": ["rate", "rate"],
        }
    )


def test_a_member_revenue_share_outside_0_1_blocks(auditor):
    """It divides the orders' net revenue after all their refunds: its parts are never
    negative, so a share outside [0, 1] is a defect (as it was of the formula that counted
    refunds on their own date: 268.00 of -12.00 in the demo)."""
    assert auditor.validate(
        "kpi_daily", "share_ok", _kpi_daily("member_revenue_share", 1, 4)
    ).passed
    for name, (numerator, denominator) in {
        "share_above_1": (3.0, 2.0),
        "share_of_a_negative_whole": (268.0, -12.0),
        "share_of_a_negative_part": (-845.0, 121.0),
    }.items():
        outcome = auditor.validate(
            "kpi_daily", name, _kpi_daily("member_revenue_share", numerator, denominator)
        )
        assert outcome.blocking, name


def _campaign_day(**columns: float) -> pd.DataFrame:
    # CMP-05 on 2025-06-25 in the demo: 5 attributed orders, one of them (1,286.50) refunded
    day = {
        "campaign_id": "CMP-05",
        "kpi_date": date(2025, 6, 25),
        "ctr": 0.02,
        "cpc": 1.5,
        "roas": 813.00 / 191.17,
        "cac": 40.0,
        "spend": 191.17,
        "attributed_revenue": 813.00,
        "attributed_cogs": 1243.43,
        "campaign_roi": (813.00 - 1243.43 - 191.17) / 191.17,
    }
    return pd.DataFrame([day | columns])


def test_a_campaign_day_below_roi_minus_1_passes_but_negative_revenue_blocks(auditor):
    refunded = _campaign_day()
    assert refunded["campaign_roi"].iloc[0] < -3  # the refunded order keeps its COGS
    assert auditor.validate("kpi_campaigns_daily", "refunded_day", refunded).passed
    # below -1 - COGS / spend the attributed net revenue would have to be negative
    negative = _campaign_day(attributed_revenue=-50.0, roas=-50.0 / 191.17, campaign_roi=-8.8)
    outcome = auditor.validate("kpi_campaigns_daily", "negative_revenue", negative)
    assert outcome.blocking
    assert {f.kwargs["column"] for f in outcome.failures} == {"attributed_revenue", "roas"}
    # ROAS >= 0 says the same on a day with spend; on a day without, only this does
    unpaid = _campaign_day(spend=0.0, cpc=None, roas=None, cac=None, campaign_roi=None)
    assert auditor.validate("kpi_campaigns_daily", "unpaid_day", unpaid).passed
    negative_unpaid = unpaid.assign(attributed_revenue=-50.0)
    outcome = auditor.validate("kpi_campaigns_daily", "negative_unpaid", negative_unpaid)
    assert outcome.blocking
    assert [f.kwargs["column"] for f in outcome.failures] == ["attributed_revenue"]


def _manifest_days(con, table: str, days: int, rows: int = 100) -> None:
    _deliveries(con, table, [rows] * days)


def _deliveries(con, table: str, rows_per_day: list[int]) -> None:
    """One loaded file per day from 2025-06-01, with these rows."""
    for n, rows in enumerate(rows_per_day):
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


def test_a_paused_source_is_not_judged_again_on_its_old_days(auditor, tmp_path):
    """An experiment's assignments follow its traffic, surge with it, and stop on its end date:
    that surge was judged when it was delivered, not on every later refresh."""
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    ensure_tables(con, contract.table("sessions"))
    _manifest_days(con, "sessions", 60)
    norm = [90, 110] * 20  # 40 ordinary days
    surge = [300, 300]  # then two days three times the norm, and no more delivery
    by_name = {target.name: target for target in targets(PUBLISHED)}
    assignments = by_name["volume_raw_experiment_assignments"]
    _deliveries(con, "experiment_assignments", norm + surge)
    paused = auditor.validate("volume_raw", "paused_assignments", assignments.frame(con))
    assert paused.passed
    # the same surge in the newest days, while it still delivers, warns
    con.execute("delete from raw._load_manifest where table_name = 'experiment_assignments'")
    _deliveries(con, "experiment_assignments", [100] * 18 + norm + surge)
    running = auditor.validate("volume_raw", "running_assignments", assignments.frame(con))
    assert not running.passed and not running.blocking
    assert [f.kwargs["column"] for f in running.failures] == ["z_score"]
