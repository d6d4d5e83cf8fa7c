"""Configuration from environment variables, and every path the project writes.

Settings are read when asked for (never at import time), so tests and the CLI can point
``KPI_DATA_DIR`` somewhere else. Every file the pipeline writes lives under the data
directory; the paths are computed here and nowhere else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_models"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"

DEFAULTS = {
    "KPI_DATA_DIR": "./data",
    "KPI_TIMEZONE": "Asia/Shanghai",
    "KPI_CURRENCY": "CNY",
    "KPI_DUCKDB_MEMORY_LIMIT": "4GB",
    "KPI_DUCKDB_THREADS": "2",
    "KPI_MAX_REJECTED_SHARE": "0.01",
    "KPI_MAX_REDELIVERY_DROP": "0.5",
    "KPI_FIRST_BUSINESS_DATE": "2024-01-01",
    "KPI_NIGHTLY_AT": "02:00",
    "KPI_FRESHNESS_HOURS": "26",
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    timezone: str
    currency: str
    duckdb_memory_limit: str
    duckdb_threads: int
    max_rejected_share: float  # above this share of rejected rows a raw table blocks publication
    # a re-delivered file that drops more than this share of its earlier rows fails (unconfirmed)
    max_redelivery_drop: float
    first_business_date: date  # the first daily partition
    nightly_at: time  # when the nightly refresh starts, shop time
    freshness_hours: float  # older data (raw loads, the publication) fails its freshness check

    @classmethod
    def from_env(cls) -> Settings:
        def env(name: str) -> str:
            return os.environ.get(name) or DEFAULTS[name]

        timezone = env("KPI_TIMEZONE")
        ZoneInfo(timezone)  # fail early on an unknown zone name
        threads = int(env("KPI_DUCKDB_THREADS"))
        if threads < 1:
            raise ValueError(f"KPI_DUCKDB_THREADS must be >= 1, got {threads}")
        max_drop = float(env("KPI_MAX_REDELIVERY_DROP"))
        if not 0 <= max_drop <= 1:
            raise ValueError(f"KPI_MAX_REDELIVERY_DROP must be between 0 and 1, got {max_drop}")
        return cls(
            data_dir=Path(env("KPI_DATA_DIR")).expanduser().resolve(),
            timezone=timezone,
            currency=env("KPI_CURRENCY"),
            duckdb_memory_limit=env("KPI_DUCKDB_MEMORY_LIMIT"),
            duckdb_threads=threads,
            max_rejected_share=float(env("KPI_MAX_REJECTED_SHARE")),
            max_redelivery_drop=max_drop,
            first_business_date=date.fromisoformat(env("KPI_FIRST_BUSINESS_DATE")),
            nightly_at=time.fromisoformat(env("KPI_NIGHTLY_AT")),
            freshness_hours=float(env("KPI_FRESHNESS_HOURS")),
        )

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def warehouse_dir(self) -> Path:
        return self.data_dir / "warehouse"

    @property
    def build_db(self) -> Path:
        return self.warehouse_dir / "build.duckdb"

    @property
    def warehouse_lock(self) -> Path:
        """Held by the one run that may write the build warehouse."""
        return self.warehouse_dir / "build.lock"

    @property
    def published_dir(self) -> Path:
        return self.data_dir / "published"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def report_file(self) -> Path:
        return self.reports_dir / "kpi_report.html"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"

    def data_docs_dir(self, run_id: str) -> Path:
        """Great Expectations Data Docs of one run's audit."""
        return self.data_dir / "audit" / "data_docs" / run_id

    @property
    def dbt_target_dir(self) -> Path:
        return self.data_dir / "dbt" / "target"

    @property
    def dbt_build_target_dir(self) -> Path:
        """Artefacts of the last ``dbt build`` (run_results.json, manifest.json)."""
        return self.dbt_target_dir / "build"

    def duckdb_config(self) -> dict[str, str | int]:
        """Connection settings for every DuckDB connection the pipeline opens."""
        return {
            "memory_limit": self.duckdb_memory_limit,
            "threads": self.duckdb_threads,
            "temp_directory": str(self.warehouse_dir / "tmp"),
        }
