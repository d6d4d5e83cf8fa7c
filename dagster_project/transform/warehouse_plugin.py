"""A dbt-duckdb plugin (named in dbt_models/profiles.yml) that points dbt at the data
directory's warehouse when dbt connects, with the settings of every pipeline connection, and
spares dbt the formatting of log lines that no log keeps.

Why not in the profile: dbt keeps a saved parse only for the connection settings it was made
with (it hashes ``path`` and ``config_options``), so a profile naming ``$KPI_DATA_DIR`` made
every new data directory -- a second shop, a benchmark run, each test's -- parse the whole
project again (about 8 s). The profile names no directory; this resolves it at connect time.
"""

import logging
import os
from typing import Any

from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.events.base_types import EventMsg
from dbt_common.events.event_manager import EventManager
from dbt_common.events.event_manager_client import get_event_manager
from dbt_common.events.logger import PRINT_EVENT_NAMES

from dagster_project.core.settings import PROJECT_ROOT, Settings


def warehouse_settings() -> Settings:
    """The settings dbt runs with: the pipeline hands dbt ``KPI_DATA_DIR``; without it (dbt by
    hand, in dbt_models/), the project's ``./data``, as ``make run`` uses."""
    if not os.environ.get("KPI_DATA_DIR"):
        os.environ["KPI_DATA_DIR"] = str(PROJECT_ROOT / "data")
    return Settings.from_env()


# dbt's event levels as its loggers rank them (dbt_common.events.logger sends them to Python's)
_LEVELS = {
    "debug": logging.DEBUG,
    "test": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}


def skip_events_below_level(manager: EventManager) -> None:
    """Let each of dbt's loggers format only the events its level keeps.

    dbt formats every event as a JSON line for each logger (the console's, which dagster-dbt
    reads, and dbt.log's) and only then lets Python's logging drop those below the logger's
    level: the debug events, two per query, cost a build about 3 s of its ~25 s of CPU. The
    lines written are the same; print events, which dbt writes at any level, pass as before.
    """
    for logger in manager.loggers:
        floor, kept = _LEVELS[logger.level], logger.filter

        def keeps(msg: EventMsg, floor: int = floor, kept=kept) -> bool:
            at_level = _LEVELS[msg.info.level] >= floor or msg.info.name in PRINT_EVENT_NAMES
            return at_level and kept(msg)

        logger.filter = keeps


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        # dbt has set up its loggers by the time it loads the adapter's plugins
        skip_events_below_level(get_event_manager())

    def update_connection_config(self, creds: DuckDBCredentials, config: dict[str, Any]) -> None:
        settings = warehouse_settings()
        # read when dbt opens the database, after dbt hashed the profile for its saved parse
        creds.path = str(settings.build_db)
        # DuckDB's settings, given once when dbt opens the database, not per cursor: once a
        # build has spilled, DuckDB refuses to set temp_directory again
        config.update(settings.duckdb_config())
