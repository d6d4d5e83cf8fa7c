"""Building the incremental facts delivery by delivery gives exactly the full refresh."""

import os
import shutil
import subprocess
import sys
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
# The first deliveries are built in one go, the last ones one day at a time.
DAY_BY_DAY = 5


def ingest(settings: Settings) -> None:
    with warehouse.connect(settings) as con:
        for table in contract.tables().values():
            TableLoader(con, settings.landing_dir, table).load()


def dbt_build(settings: Settings, *flags: str) -> None:
    """dbt in its own process, as the pipeline runs it: no connection outlives the build."""
    selection = " ".join(f"+{fact}" for fact in INCREMENTAL_FACTS)
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "run",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(settings.data_dir / "dbt-target"),
            "--log-path",
            str(settings.data_dir / "dbt-logs"),
            "--quiet",
            "--select",
            selection,
            *flags,
        ],
        env=os.environ | {"KPI_DATA_DIR": str(settings.data_dir)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def settings_for(data_dir: Path, monkeypatch) -> Settings:
    monkeypatch.setenv("KPI_DATA_DIR", str(data_dir))
    return Settings.from_env()


@pytest.fixture(scope="module")
def delivered(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("generated") / "landing"
    generate(landing, START, DAYS, sessions_per_day=300, seed=7)
    return landing


def test_day_by_day_equals_full_refresh(delivered, tmp_path, monkeypatch):
    full = settings_for(tmp_path / "full", monkeypatch)
    shutil.copytree(delivered, full.landing_dir)
    ingest(full)
    dbt_build(full, "--full-refresh")

    daily = settings_for(tmp_path / "daily", monkeypatch)
    folders = sorted(delivered.glob("*/dt=*"), key=lambda p: p.name)
    for day in (START + timedelta(days=n) for n in range(DAYS - DAY_BY_DAY - 1, DAYS)):
        for folder in folders:
            if folder.name <= f"dt={day.isoformat()}":
                target = daily.landing_dir / folder.relative_to(delivered)
                if not target.exists():
                    shutil.copytree(folder, target)
        ingest(daily)
        dbt_build(daily)

    con = duckdb.connect()
    con.execute(f"attach '{full.build_db}' as full_db (read_only)")
    con.execute(f"attach '{daily.build_db}' as daily_db (read_only)")
    for fact in INCREMENTAL_FACTS:
        columns = [
            name
            for (name,) in con.execute(
                "select column_name from duckdb_columns() where database_name = 'full_db'"
                " and table_name = $t and column_name <> '_loaded_at' order by column_index",
                {"t": fact},
            ).fetchall()
        ]
        select = ", ".join(columns)
        rows = con.execute(f"select count(*) from full_db.marts.{fact}").fetchall()[0][0]
        only_full = con.execute(
            f"select count(*) from (select {select} from full_db.marts.{fact}"
            f" except all select {select} from daily_db.marts.{fact})"
        ).fetchall()[0][0]
        only_daily = con.execute(
            f"select count(*) from (select {select} from daily_db.marts.{fact}"
            f" except all select {select} from full_db.marts.{fact})"
        ).fetchall()[0][0]
        assert rows > 0, fact
        assert (only_full, only_daily) == (0, 0), (
            f"{fact}: {only_full} rows only in the full refresh, "
            f"{only_daily} only in the daily build"
        )
