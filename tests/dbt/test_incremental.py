"""Building the incremental facts delivery by delivery gives exactly the full refresh.

A day's build (the vars ``window_start`` / ``window_end``, as the daily partitions pass them)
rewrites exactly the rows whose newest delivery is in the window, each marked with the dbt
invocation that wrote it, and re-running a window rebuilds its rows without changing them.
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from dagster_project import warehouse
from dagster_project.generator import generate
from dagster_project.ingest import contract
from dagster_project.ingest.loader import TableLoader
from dagster_project.settings import DBT_PROJECT_DIR, Settings

INCREMENTAL_FACTS = [
    "fct_sessions",
    "fct_events",
    "fct_orders",
    "fct_order_items",
    "fct_inventory_daily",
]
START = date(2025, 10, 7)
DAYS = 30
LAST_DAY = START + timedelta(days=DAYS - 1)
# The first deliveries are built in one go, the last ones one day at a time.
DAY_BY_DAY = 5
# Lineage columns that differ between two builds of the same data: when the rows were loaded
# (separate warehouses load at different times) and which dbt invocation wrote them.
LOADED_AT = "_loaded_at"
INVOCATION = "_dbt_invocation_id"


def ingest(settings: Settings) -> int:
    """Load the landing files not loaded yet; the number of files loaded."""
    loaded = 0
    with warehouse.connect(settings) as con:
        for table in contract.tables().values():
            loaded += TableLoader(con, settings.landing_dir, table).load().files_loaded
    return loaded


def dbt(settings: Settings, command: str, *flags: str) -> subprocess.CompletedProcess:
    """dbt in its own process, as the pipeline runs it: no connection outlives the build."""
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            command,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(settings.data_dir / "dbt-target"),
            "--log-path",
            str(settings.data_dir / "dbt-logs"),
            "--quiet",
            *flags,
        ],
        env=os.environ | {"KPI_DATA_DIR": str(settings.data_dir)},
        capture_output=True,
        text=True,
        timeout=600,
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
        "--vars",
        json.dumps(window_vars(first, last)),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return invocation_id(settings)


def window_vars(first: date, last: date) -> dict[str, str]:
    return {"window_start": first.isoformat(), "window_end": last.isoformat()}


def invocation_id(settings: Settings) -> str:
    results = json.loads((settings.data_dir / "dbt-target" / "run_results.json").read_text())
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


def attach(**databases: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, path in databases.items():
        con.execute(f"attach '{path}' as {name} (read_only)")
    return con


def columns(con: duckdb.DuckDBPyConnection, database: str, fact: str, *excluded: str) -> str:
    names = [
        name
        for (name,) in con.execute(
            "select column_name from duckdb_columns() where database_name = $d"
            " and table_name = $t order by column_index",
            {"d": database, "t": fact},
        ).fetchall()
        if name not in excluded
    ]
    assert names, f"{database}.marts.{fact} not found"
    return ", ".join(names)


def differences(
    con: duckdb.DuckDBPyConnection, left: str, right: str, fact: str, *excluded: str
) -> tuple[int, int]:
    """(rows only in left, rows only in right) of `fact`, as multisets, without `excluded`."""
    select = columns(con, left, fact, *excluded)
    only = [
        con.execute(
            f"select count(*) from (select {select} from {a}.marts.{fact}"
            f" except all select {select} from {b}.marts.{fact})"
        ).fetchall()[0][0]
        for a, b in ((left, right), (right, left))
    ]
    return only[0], only[1]


def assert_equals_full_refresh(built: Settings, full: Settings) -> None:
    """Row for row the full refresh, lineage of the loads and invocations aside."""
    con = attach(full_db=full.build_db, built_db=built.build_db)
    for fact in INCREMENTAL_FACTS:
        rows = con.execute(f"select count(*) from full_db.marts.{fact}").fetchall()[0][0]
        only_full, only_built = differences(con, "full_db", "built_db", fact, LOADED_AT, INVOCATION)
        assert rows > 0, fact
        assert (only_full, only_built) == (0, 0), (
            f"{fact}: {only_full} rows only in the full refresh, "
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


@pytest.fixture(scope="module")
def full_refresh(delivered, tmp_path_factory) -> Settings:
    """Every delivery, built in one go: what any incremental build must equal."""
    full = settings_at(tmp_path_factory.mktemp("full") / "data")
    deliver(delivered, full, through=LAST_DAY)
    ingest(full)
    dbt_build(full, "--full-refresh")
    return full


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


def test_day_by_day_equals_full_refresh(delivered, full_refresh, tmp_path):
    daily = settings_at(tmp_path / "daily")
    for day in (START + timedelta(days=n) for n in range(DAYS - DAY_BY_DAY - 1, DAYS)):
        deliver(delivered, daily, through=day)
        ingest(daily)
        dbt_build(daily)

    assert_equals_full_refresh(daily, full_refresh)


def test_a_days_build_rewrites_exactly_that_days_rows(windowed, full_refresh):
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

    assert_equals_full_refresh(windowed.settings, full_refresh)


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
        assert differences(con, "before", "built", fact, INVOCATION) == (0, 0), (
            f"{fact}: the rerun changed values"
        )
    con.close()


def test_a_window_needs_both_vars(windowed, tmp_path):
    settings = settings_at(tmp_path / "data")
    shutil.copytree(windowed.settings.data_dir, settings.data_dir)
    result = dbt(
        settings,
        "compile",
        "--select",
        "fct_events",
        "--vars",
        json.dumps({"window_start": LAST_DAY.isoformat()}),
    )
    assert result.returncode != 0
    assert "set both vars window_start and window_end" in result.stdout + result.stderr
