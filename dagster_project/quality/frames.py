"""What each suite validates: a published table, or a frame of volumes, shifts or totals."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import dagster as dg
import duckdb
import pandas as pd

from dagster_project.core.settings import Settings
from dagster_project.core.sql import SqlTemplates
from dagster_project.ingest import contract
from dagster_project.ingest.landing_days import marked_days

TEMPLATES = SqlTemplates(__package__)
# Volume and shift checks look at the newest days: what a refresh is about to publish.
WINDOW_DAYS = 7
# Below this many rows a day (the trailing median) a ratio to the norm is noise, not a signal.
MIN_ROWS_FOR_RATIO = 50
# ... and where at least this many of the 28 days before it have rows
MIN_DAYS_FOR_NORM = 7
# Facts whose daily volume is audited, with the business date each one counts on.
FACT_DATES = {
    "fct_sessions": "session_date",
    "fct_events": "event_date",
    "fct_orders": "order_date",
    "fct_order_items": "order_date",
    "fct_inventory_daily": "snapshot_date",
    "fct_shipments": "shipped_date",
}

Frame = Callable[[duckdb.DuckDBPyConnection], pd.DataFrame]


@dataclass(frozen=True)
class AuditTarget:
    """One suite applied to one frame, reported as a check on the asset it vouches for."""

    suite: str
    asset: dg.AssetKey
    name: str  # unique across targets: names the validation and its Data Docs page
    frame: Frame

    @property
    def check_name(self) -> str:
        return f"gx_{self.suite}"


def _query(
    template: str, params: dict | Callable[[], dict] | None = None, **context: object
) -> Frame:
    """The frame of a query; ``params`` may be a function, evaluated when the frame is read."""
    sql = TEMPLATES.statement(template, **context)

    def frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        return con.execute(sql, (params() if callable(params) else params) or {}).df()

    return frame


def _marked_days() -> list[date]:
    return sorted(marked_days(Settings.from_env().landing_dir))


def targets(published_tables: list[str]) -> list[AuditTarget]:
    """Every audit target: one per published table, raw table and audited fact, plus the
    shift and reconciliation frames of the long KPI table."""
    daily = [t.name for t in contract.tables().values() if t.is_daily]
    found = [
        AuditTarget(
            table, dg.AssetKey(["marts", table]), table, _query("published_table.sql", table=table)
        )
        for table in published_tables
    ]
    found += [
        AuditTarget(
            "volume_raw",
            dg.AssetKey(["raw", table.name]),
            f"volume_raw_{table.name}",
            _query(
                "volume_raw.sql",
                lambda table=table: {
                    "table_name": table.name,
                    "daily_tables": daily,
                    "is_daily": table.is_daily,
                    "window_days": WINDOW_DAYS,
                    "min_rows": MIN_ROWS_FOR_RATIO,
                    "min_days": MIN_DAYS_FOR_NORM,
                    "marked_days": _marked_days(),
                },
            ),
        )
        for table in contract.tables().values()
    ]
    found += [
        AuditTarget(
            "volume_facts",
            dg.AssetKey(["marts", fact]),
            f"volume_facts_{fact}",
            _query(
                "volume_fact.sql",
                {
                    "window_days": WINDOW_DAYS,
                    "min_rows": MIN_ROWS_FOR_RATIO,
                    "min_days": MIN_DAYS_FOR_NORM,
                },
                fact=fact,
                date_column=date_column,
            ),
        )
        for fact, date_column in FACT_DATES.items()
    ]
    kpi_daily = dg.AssetKey(["marts", "kpi_daily"])
    found += [
        AuditTarget(
            "kpi_shifts",
            kpi_daily,
            "kpi_shifts",
            _query("kpi_shifts.sql", {"window_days": WINDOW_DAYS}),
        ),
        AuditTarget("reconciliation", kpi_daily, "reconciliation", _query("reconciliation.sql")),
    ]
    return found
