"""Configuration from environment variables and the shop's own settings, and every path the
project writes.

Settings are read when asked for (never at import time), so tests and the CLI can point
``KPI_DATA_DIR`` somewhere else. What describes the shop -- its name, time zone and currency --
comes from an environment variable when one is set, else from the shop settings file its
export delivers (``landing/_shop.yml``, written by ``kpi import`` and ``kpi-demo``), else
from the defaults below. The first business day comes from the data: the earliest ``dt=`` day
in the landing zone, unless ``KPI_FIRST_BUSINESS_DATE`` says otherwise. Every file the
pipeline writes lives under the data directory; the paths are computed here and nowhere else.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, time
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

# dagster_project/core/settings.py: the repository is two folders up
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_models"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
# The BI tool's own project (`make bi`): Superset in bi/.venv, never imported by the pipeline.
BI_PROJECT_DIR = PROJECT_ROOT / "bi"
BI_PYTHON = BI_PROJECT_DIR / ".venv" / "bin" / "python"

# The shop settings file, in the landing zone beside the tables it describes.
SHOP_FILE = "_shop.yml"
# Keys of the shop settings file, and the variable that overrides each.
SHOP_KEYS = {"name": "KPI_SHOP_NAME", "timezone": "KPI_TIMEZONE", "currency": "KPI_CURRENCY"}

DEFAULTS = {
    "KPI_DATA_DIR": "./data",
    "KPI_SHOP_NAME": "Demo shop",
    "KPI_TIMEZONE": "Asia/Shanghai",
    "KPI_CURRENCY": "CNY",
    "KPI_DUCKDB_MEMORY_LIMIT": "4GB",
    "KPI_DUCKDB_THREADS": "2",
    "KPI_MAX_REJECTED_SHARE": "0.01",
    "KPI_MAX_REDELIVERY_DROP": "0.5",
    # only when neither the variable nor the landing zone gives one (an empty landing zone)
    "KPI_FIRST_BUSINESS_DATE": "2024-01-01",
    "KPI_NIGHTLY_AT": "02:00",
    "KPI_FRESHNESS_HOURS": "26",
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    shop_name: str
    timezone: str
    currency: str
    duckdb_memory_limit: str
    duckdb_threads: int
    max_rejected_share: float  # above this share of rejected rows a raw table blocks publication
    # a re-delivered file that drops more than this share of its earlier rows fails (unconfirmed)
    max_redelivery_drop: float
    first_business_date_override: date | None  # KPI_FIRST_BUSINESS_DATE, when set
    nightly_at: time  # when the nightly refresh starts, shop time
    freshness_hours: float  # older data (raw loads, the publication) fails its freshness check
    # KPI_DBT_PARSE_CACHE: a folder where data directories share dbt's parse of the project
    # (transform/project.py); None: each parses on its own
    dbt_parse_cache: Path | None = None

    @classmethod
    def from_env(cls) -> Settings:
        def env(name: str) -> str:
            return os.environ.get(name) or DEFAULTS[name]

        data_dir = Path(env("KPI_DATA_DIR")).expanduser().resolve()
        shop = _read_shop_file(data_dir / "landing" / SHOP_FILE)

        def shop_env(key: str) -> str:
            name = SHOP_KEYS[key]
            return os.environ.get(name) or shop.get(key) or DEFAULTS[name]

        timezone = shop_env("timezone")
        try:
            ZoneInfo(timezone)  # fail early on an unknown zone name
        except (ValueError, KeyError) as error:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"unknown time zone {timezone!r}") from error
        threads = int(env("KPI_DUCKDB_THREADS"))
        if threads < 1:
            raise ValueError(f"KPI_DUCKDB_THREADS must be >= 1, got {threads}")
        max_drop = float(env("KPI_MAX_REDELIVERY_DROP"))
        if not 0 <= max_drop <= 1:
            raise ValueError(f"KPI_MAX_REDELIVERY_DROP must be between 0 and 1, got {max_drop}")
        currency = shop_env("currency")
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise ValueError(
                f"currency must be an ISO 4217 code such as CNY or BRL, got {currency!r}"
            )
        first_day = os.environ.get("KPI_FIRST_BUSINESS_DATE")
        cache = os.environ.get("KPI_DBT_PARSE_CACHE")
        return cls(
            data_dir=data_dir,
            shop_name=shop_env("name"),
            timezone=timezone,
            currency=currency,
            duckdb_memory_limit=env("KPI_DUCKDB_MEMORY_LIMIT"),
            duckdb_threads=threads,
            max_rejected_share=float(env("KPI_MAX_REJECTED_SHARE")),
            max_redelivery_drop=max_drop,
            first_business_date_override=date.fromisoformat(first_day) if first_day else None,
            nightly_at=time.fromisoformat(env("KPI_NIGHTLY_AT")),
            freshness_hours=float(env("KPI_FRESHNESS_HOURS")),
            dbt_parse_cache=Path(cache).expanduser().resolve() if cache else None,
        )

    @cached_property
    def first_business_date(self) -> date:
        """The first daily partition: KPI_FIRST_BUSINESS_DATE, else the earliest day the
        landing zone holds (a history of any age loads without configuration)."""
        if self.first_business_date_override:
            return self.first_business_date_override
        days = [
            day
            for folder in self.landing_dir.glob("*/dt=*")
            if not folder.parent.name.startswith("_")
            and (day := _day_of(folder.name.removeprefix("dt=")))
        ]
        return min(days, default=date.fromisoformat(DEFAULTS["KPI_FIRST_BUSINESS_DATE"]))

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def shop_file(self) -> Path:
        return self.landing_dir / SHOP_FILE

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
    def bi_home(self) -> Path:
        """Superset's state (``kpi bi``): its metadata, secret key, admin password, bundle."""
        return self.data_dir / "bi"

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


def _day_of(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _read_shop_file(path: Path) -> dict[str, str]:
    """The shop settings file's values (missing file: none), checked for unknown keys."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):  # the data directory says what is wrong
        return {}
    try:
        values = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "cannot be parsed"
        raise ValueError(f"{path} is not valid YAML{where}: {problem}") from error
    if not isinstance(values, dict):
        raise ValueError(f"{path} must hold a mapping of {', '.join(SHOP_KEYS)}")
    unknown = sorted(set(values) - set(SHOP_KEYS))
    if unknown:
        raise ValueError(
            f"{path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(SHOP_KEYS)})"
        )
    return {key: str(value) for key, value in values.items() if value is not None}
