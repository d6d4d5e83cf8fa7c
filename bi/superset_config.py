"""Superset's configuration for the KPI mart (SUPERSET_CONFIG_PATH points here).

Everything Superset keeps lives in KPI_BI_HOME (``$KPI_DATA_DIR/bi``, set by ``kpi bi``): its
SQLite metadata and the secret key ``kpi bi`` generated for that home. Nothing here is a
secret.
"""

import os
from pathlib import Path

_HOME = Path(os.environ["KPI_BI_HOME"])

SECRET_KEY = (_HOME / "secret_key").read_text(encoding="utf-8").strip()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME / 'superset.db'}"

# Every chart reads the publication of the moment: no cached query results (a refresh
# replaces the mart), no examples, no background workers.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
FILTER_STATE_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}
EXPLORE_FORM_DATA_CACHE_CONFIG = FILTER_STATE_CACHE_CONFIG
RATELIMIT_STORAGE_URI = "memory://"
THUMBNAILS = False
FEATURE_FLAGS = {"ALERT_REPORTS": False, "THUMBNAILS": False}

# Served on a loopback address over plain HTTP by default (kpi bi): no HTTPS-only cookies.
TALISMAN_ENABLED = False
SESSION_COOKIE_SECURE = False

LOG_LEVEL = os.environ.get("KPI_BI_LOG_LEVEL", "WARNING")


def _retry_the_open_race() -> None:
    """A connect in the microseconds of a publication's rename fails with "Failed to load
    metadata pointer" before reading any data, and the next connect succeeds (docs/bi.md; the
    pipeline's readers do the same, serve/metrics.py): every DuckDB connection Superset opens
    retries that once, and says so in the log."""
    import logging

    import duckdb
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    log = logging.getLogger("kpi_bi")

    @event.listens_for(Engine, "do_connect")
    def connect(dialect, _record, cargs, cparams):
        if dialect.name != "duckdb":
            return None  # SQLAlchemy's own connect
        try:
            return dialect.connect(*cargs, **dict(cparams))  # a copy: it pops what it reads
        except duckdb.Error as error:
            if "Failed to load metadata pointer" not in str(error):
                raise
            log.warning("kpi_bi: a DuckDB connect met a publication's rename: retried once")
            return dialect.connect(*cargs, **dict(cparams))


_retry_the_open_race()
