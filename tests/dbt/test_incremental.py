"""How the incremental models pick up what a delivery brings, on the facts alone (dbt, no
Dagster run).

A day's build (``KPI_WINDOW_START`` / ``KPI_WINDOW_END``, as a partitioned run passes them)
rewrites exactly the fact rows whose newest delivery is in the window, each marked with the
dbt invocation that wrote it, and re-running a window rebuilds its rows without changing them.
A file delivered again that changes, drops or gives up keys is rebuilt into staging and the
events fact as a full refresh would build them; a late session earlier than a visitor's first
makes that first day's session a returning one, as a full refresh would.

That nights of runs build and publish what one full build of the same files does (every model,
with late files, a re-delivery, a product change dated back and a customer's new tier) is
tests/orchestration/test_nightly.py's proof, through the pipeline itself.
"""

import csv
import gzip
import json
import shutil
import subprocess
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from dagster_project.core import warehouse
from dagster_project.core.settings import Settings
from dagster_project.ingest import contract
from dagster_project.ingest.loader import TableLoader
from demo_shop import generate
from tests.dbt.tables import INVOCATION, LINEAGE, attach, differences
from tests.dbt_cli import run_dbt

INCREMENTAL_FACTS = [
    "fct_sessions",
    "fct_events",
    "fct_orders",
    "fct_order_items",
    "fct_inventory_daily",
]
START = date(2025, 10, 7)
DAYS = 10
LAST_DAY = START + timedelta(days=DAYS - 1)


def ingest(settings: Settings) -> int:
    """Load the landing files not loaded yet; the number of files loaded."""
    loaded = 0
    with warehouse.connect(settings) as con:
        for table in contract.tables().values():
            loaded += TableLoader(con, settings.landing_dir, table).load().files_loaded
    return loaded


def dbt(
    settings: Settings, command: str, *flags: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return run_dbt(
        settings.data_dir / "dbt", command, "--quiet", *flags, data_dir=settings.data_dir, env=env
    )


def dbt_build(settings: Settings, *flags: str) -> str:
    """Build the incremental facts and what they read; the dbt invocation id."""
    selection = " ".join(f"+{fact}" for fact in INCREMENTAL_FACTS)
    result = dbt(settings, "run", "--select", selection, *flags)
    assert result.returncode == 0, result.stdout + result.stderr
    return invocation_id(settings)


def dbt_build_window(settings: Settings, first: date, last: date) -> str:
    """`dbt build` of the facts for the days of delivery first..last, as a partitioned run
    does; the dbt invocation id. Tests of models outside the selection (the dimensions) are
    left out: this warehouse has only the facts and what they read."""
    selection = " ".join(f"+{fact}" for fact in INCREMENTAL_FACTS)
    result = dbt(
        settings,
        "build",
        "--select",
        selection,
        "--exclude-resource-type",
        "unit_test",
        "--indirect-selection",
        "cautious",
        env={"KPI_WINDOW_START": first.isoformat(), "KPI_WINDOW_END": last.isoformat()},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return invocation_id(settings)


def invocation_id(settings: Settings) -> str:
    results = json.loads((settings.data_dir / "dbt" / "target" / "run_results.json").read_text())
    return results["metadata"]["invocation_id"]


def settings_at(data_dir: Path) -> Settings:
    return replace(Settings.from_env(), data_dir=data_dir.resolve())


def deliver(delivered: Path, settings: Settings, through: date) -> None:
    """Copy the landing folders of the days of delivery up to `through` (those not there yet)."""
    for folder in sorted(delivered.glob("*/dt=*"), key=lambda p: p.name):
        if folder.name <= f"dt={through.isoformat()}":
            target = settings.landing_dir / folder.relative_to(delivered)
            if not target.exists():
                shutil.copytree(folder, target)


def copy_warehouse(settings: Settings, target: Path) -> None:
    """A copy of the build warehouse as it is now (with its write-ahead log, if any)."""
    shutil.copyfile(settings.build_db, target)
    wal = settings.build_db.with_name(settings.build_db.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))


def assert_equals_full_refresh(built: Settings, full: Settings, models: list[str]) -> None:
    """Row for row the full refresh, lineage of the loads and invocations aside."""
    con = attach(full_db=full.build_db, built_db=built.build_db)
    for model in models:
        rows = con.execute(f"select count(*) from full_db.{model}").fetchall()[0][0]
        only_full, only_built = differences(con, "full_db", "built_db", model, *LINEAGE)
        assert rows > 0, model
        assert (only_full, only_built) == (0, 0), (
            f"{model}: {only_full} rows only in the full refresh, "
            f"{only_built} only in the incremental build"
        )
    con.close()


def written_by(con: duckdb.DuckDBPyConnection, database: str, fact: str) -> dict:
    """{(invocation id, day of delivery): rows} of a fact."""
    return {
        (invocation, delivered): rows
        for invocation, delivered, rows in con.execute(
            f"select {INVOCATION}, _delivery_date, count(*) from {database}.marts.{fact}"
            " group by all"
        ).fetchall()
    }


@pytest.fixture(scope="module")
def delivered(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("generated") / "landing"
    generate(landing, START, DAYS, sessions_per_day=300, seed=7)
    return landing


@dataclass(frozen=True)
class WindowedBuild:
    settings: Settings
    earlier_invocation: str  # the build of every day before LAST_DAY
    window_invocation: str  # the build of LAST_DAY's window
    before_window: Path  # a copy of the warehouse before LAST_DAY was loaded


@pytest.fixture(scope="module")
def windowed(delivered, tmp_path_factory) -> WindowedBuild:
    """Days 1..N-1 built, then day N's files loaded and built with the window N..N."""
    root = tmp_path_factory.mktemp("windowed")
    settings = settings_at(root / "data")
    deliver(delivered, settings, through=LAST_DAY - timedelta(days=1))
    ingest(settings)
    earlier = dbt_build(settings)
    before = root / "before.duckdb"
    copy_warehouse(settings, before)

    deliver(delivered, settings, through=LAST_DAY)
    assert ingest(settings) > 0, "day N delivered no file"
    window = dbt_build_window(settings, LAST_DAY, LAST_DAY)
    assert window != earlier
    return WindowedBuild(settings, earlier, window, before)


def test_a_days_build_rewrites_exactly_that_days_rows(windowed):
    con = attach(built=windowed.settings.build_db, before=windowed.before_window)
    for fact in INCREMENTAL_FACTS:
        written = written_by(con, "built", fact)
        by_window = {day for (inv, day) in written if inv == windowed.window_invocation}
        of_the_day = {inv for (inv, day) in written if day == LAST_DAY}
        of_earlier_days = {inv for (inv, day) in written if day < LAST_DAY}
        assert by_window == {LAST_DAY}, f"{fact}: the day's build wrote deliveries {by_window}"
        assert of_the_day == {windowed.window_invocation}, fact
        assert of_earlier_days == {windowed.earlier_invocation}, fact
        assert max(day for (_, day) in written) == LAST_DAY, fact
        # the rows of earlier deliveries are the earlier build's, untouched
        rewritten = con.execute(
            f"select count(*) from (select * from built.marts.{fact} where _delivery_date < $day"
            f" except all select * from before.marts.{fact})",
            {"day": LAST_DAY},
        ).fetchall()[0][0]
        assert rewritten == 0, f"{fact}: {rewritten} rows of earlier deliveries changed"
    con.close()


def test_rerunning_a_window_rebuilds_its_rows_and_changes_nothing(windowed, tmp_path):
    # on a copy: the rerun must not disturb the build the other tests read
    settings = settings_at(tmp_path / "data")
    shutil.copytree(windowed.settings.data_dir, settings.data_dir)
    before = tmp_path / "before.duckdb"
    copy_warehouse(settings, before)
    assert ingest(settings) == 0, "no file is new or changed"
    first, last = LAST_DAY - timedelta(days=1), LAST_DAY

    rerun = dbt_build_window(settings, first, last)

    con = attach(built=settings.build_db, before=before)
    for fact in INCREMENTAL_FACTS:
        written = written_by(con, "built", fact)
        in_window = {inv for (inv, day) in written if first <= day <= last}
        assert in_window == {rerun}, f"{fact}: the window's rows were written by {in_window}"
        # every other row kept its invocation id, and no value changed
        outside = {
            database: {
                key: rows
                for key, rows in written_by(con, database, fact).items()
                if not first <= key[1] <= last
            }
            for database in ("before", "built")
        }
        assert outside["built"] == outside["before"], f"{fact}: rows outside the window rewritten"
        assert differences(con, "before", "built", f"marts.{fact}", INVOCATION) == (0, 0), (
            f"{fact}: the rerun changed values"
        )
    con.close()


def test_a_window_needs_both_vars(windowed, tmp_path):
    settings = settings_at(tmp_path / "data")
    shutil.copytree(windowed.settings.data_dir, settings.data_dir)
    # as the pipeline passes the window (dbt's --vars would parse the whole project again)
    result = dbt(
        settings,
        "compile",
        "--select",
        "fct_events",
        env={"KPI_WINDOW_START": LAST_DAY.isoformat(), "KPI_WINDOW_END": ""},
    )
    assert result.returncode != 0
    assert "set both vars window_start and window_end" in result.stdout + result.stderr


def read_csv_gz(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with gzip.open(path, "rt", newline="") as file:
        reader = csv.DictReader(file)
        return list(reader.fieldnames or []), list(reader)


def redeliver_csv_gz(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    """Deliver `path` again with `rows` (a new file: new content, new mtime)."""
    with gzip.open(path, "wt", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def staged_event(settings: Settings, event_id: str) -> tuple | None:
    """(event_type, _source_file) of an event in stg_events, or None."""
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        return con.execute(
            "select event_type, _source_file from staging.stg_events where event_id = $id",
            {"id": event_id},
        ).fetchone()


# Models a re-delivered file that drops a key, or hands a key back to an earlier delivery,
# leaves exactly as a full refresh builds them. int_sessions_funnel and fct_sessions (like the
# other facts) only rebuild what a newer load touches (docs/mart.md).
REDELIVERY_EXACT = ["staging.stg_sessions", "staging.stg_events", "marts.fct_events"]


def test_a_redelivered_file_that_changes_drops_and_gives_back_keys(windowed, tmp_path):
    settings = settings_at(tmp_path / "data")
    shutil.copytree(windowed.settings.data_dir, settings.data_dir)
    early, late = START + timedelta(days=2), START + timedelta(days=6)
    early_file = settings.landing_dir / f"events/dt={early}/events.csv.gz"
    late_file = settings.landing_dir / f"events/dt={late}/events.csv.gz"
    sessions_file = settings.landing_dir / f"sessions/dt={late}/sessions.csv.gz"
    header, early_rows = read_csv_gz(early_file)
    _, late_rows = read_csv_gz(late_file)
    session_header, session_rows = read_csv_gz(sessions_file)

    # 1. the late file is delivered again with a newer version of an early event
    given_back = next(row for row in early_rows if row["event_type"] == "page_view")
    redeliver_csv_gz(late_file, header, [*late_rows, given_back | {"event_type": "sign_up"}])
    assert ingest(settings) == 1
    dbt_build(settings)
    late_source = str(late_file.relative_to(settings.landing_dir))
    assert staged_event(settings, given_back["event_id"]) == ("sign_up", late_source)

    # 2. and again: without that event (the early version counts again), without one of its
    # own events, with another one changed; the day's sessions file drops a session
    dropped, changed = late_rows[0], late_rows[1]
    new_type = "sign_up" if changed["event_type"] != "sign_up" else "page_view"
    redeliver_csv_gz(late_file, header, [changed | {"event_type": new_type}, *late_rows[2:]])
    dropped_session = session_rows[0]
    redeliver_csv_gz(sessions_file, session_header, session_rows[1:])
    assert ingest(settings) == 2
    dbt_build(settings)

    early_source = str(early_file.relative_to(settings.landing_dir))
    assert staged_event(settings, given_back["event_id"]) == ("page_view", early_source)
    assert staged_event(settings, dropped["event_id"]) is None
    assert staged_event(settings, changed["event_id"]) == (new_type, late_source)
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        sessions = con.execute(
            "select count(*) from staging.stg_sessions where session_id = $id",
            {"id": dropped_session["session_id"]},
        ).fetchone()[0]
    assert sessions == 0

    full = settings_at(tmp_path / "full")
    shutil.copytree(settings.landing_dir, full.landing_dir)
    ingest(full)
    dbt_build(full, "--full-refresh")
    assert_equals_full_refresh(settings, full, REDELIVERY_EXACT)


def first_session_flags(settings: Settings, visitor_id: str) -> dict[str, bool]:
    """{session_id: is_new_visitor} of a visitor's sessions in fct_sessions."""
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        return dict(
            con.execute(
                "select session_id, is_new_visitor from marts.fct_sessions"
                " where visitor_id = $visitor",
                {"visitor": visitor_id},
            ).fetchall()
        )


def test_a_late_earlier_session_makes_the_visitors_first_day_returning(windowed, tmp_path):
    settings = settings_at(tmp_path / "data")
    shutil.copytree(windowed.settings.data_dir, settings.data_dir)
    first_day_file = settings.landing_dir / f"sessions/dt={START}/sessions.csv.gz"
    header, rows = read_csv_gz(first_day_file)
    first = rows[0]
    before = first_session_flags(settings, first["visitor_id"])
    assert before[first["session_id"]] is True

    # the last day brings a second file: a session of that visitor two days before its first
    earlier = datetime.fromisoformat(first["started_at"]) - timedelta(days=2)
    late = first | {"session_id": "late-session", "started_at": earlier.isoformat()}
    late_file = settings.landing_dir / f"sessions/dt={LAST_DAY}/late.csv.gz"
    redeliver_csv_gz(late_file, header, [late])
    assert ingest(settings) == 1
    dbt_build(settings)

    after = first_session_flags(settings, first["visitor_id"])
    assert after == {session: False for session in before} | {"late-session": True}

    full = settings_at(tmp_path / "full")
    shutil.copytree(settings.landing_dir, full.landing_dir)
    ingest(full)
    dbt_build(full, "--full-refresh")
    assert_equals_full_refresh(settings, full, ["marts.fct_sessions"])
