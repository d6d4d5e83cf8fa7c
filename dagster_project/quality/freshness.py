"""Freshness: the daily sources and the published mart must be younger than KPI_FRESHNESS_HOURS.

Checked hourly by the ``freshness`` job (and whenever these assets are materialized from the
UI). A stale source or publication fails its check (WARN: it never blocks a publication, old
data is still the truth until new data arrives) and sends an alert.
"""

from datetime import UTC, datetime

import dagster as dg
import duckdb

from dagster_project.core import warehouse as build_warehouse
from dagster_project.core.alerts import send_alert
from dagster_project.core.resources import WarehouseResource
from dagster_project.core.settings import Settings
from dagster_project.ingest import contract
from dagster_project.ingest.assets import raw_key
from dagster_project.ingest.contract import Table
from dagster_project.publish.publication import published_path
from dagster_project.quality.gate import PUBLISHED_KEY


def _verdict(what: str, newest: datetime | None, settings: Settings) -> dg.AssetCheckResult:
    limit = settings.freshness_hours
    age_hours = (datetime.now(UTC) - newest).total_seconds() / 3600 if newest else None
    fresh = age_hours is not None and age_hours <= limit
    if not fresh:
        message = (
            f"{what}: nothing yet"
            if newest is None
            else f"{what}: last at {newest:%Y-%m-%d %H:%M} UTC, {age_hours:.1f} h ago "
            f"(limit {limit:g} h)"
        )
        send_alert("stale_data", message, limit_hours=limit)
    return dg.AssetCheckResult(
        passed=fresh,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "newest": str(newest) if newest else "none",
            "age_hours": round(age_hours, 2) if age_hours is not None else -1.0,
            "limit_hours": limit,
        },
    )


def newest_load(settings: Settings, table: str) -> datetime | None:
    """When the newest file with rows of ``table`` was loaded."""
    if not settings.build_db.exists():
        return None
    with build_warehouse.connect(settings, read_only=True) as con:
        if not con.execute(
            "select 1 from information_schema.tables"
            " where table_schema = 'raw' and table_name = '_load_manifest'"
        ).fetchall():
            return None
        ((newest,),) = con.execute(
            "select max(loaded_at) from raw._load_manifest"
            " where table_name = $t and rows_loaded > 0",
            {"t": table},
        ).fetchall()
    return newest


def newest_publication(settings: Settings) -> datetime | None:
    """When the mart readers see was published."""
    path = published_path(settings)
    if not path.exists():
        return None
    with duckdb.connect(path, read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        ((newest,),) = con.execute(
            "select max(finished_at) from publication_log where outcome = 'published'"
        ).fetchall()
    return newest


def _raw_freshness(table: Table) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_key(table.name),
        name="freshness",
        description=f"{table.name} delivers daily: its newest rows were loaded less than "
        "KPI_FRESHNESS_HOURS (26) hours ago; alerts otherwise.",
    )
    def freshness(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        settings = warehouse.settings()
        return _verdict(f"raw.{table.name}", newest_load(settings, table.name), settings)

    return freshness


@dg.asset_check(
    asset=PUBLISHED_KEY,
    name="freshness",
    description="The publication readers see is less than KPI_FRESHNESS_HOURS (26) hours "
    "old; alerts otherwise.",
)
def published_freshness(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    settings = warehouse.settings()
    return _verdict("published/kpi_mart", newest_publication(settings), settings)


freshness_checks = [
    *(_raw_freshness(table) for table in contract.tables().values() if table.is_daily),
    published_freshness,
]
