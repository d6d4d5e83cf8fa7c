"""A dbt-duckdb plugin (named in dbt_models/profiles.yml) that points dbt at the data
directory's warehouse when dbt connects, with the settings of every pipeline connection.

Why not in the profile: dbt keeps a saved parse only for the connection settings it was made
with (it hashes ``path`` and ``config_options``), so a profile naming ``$KPI_DATA_DIR`` made
every new data directory -- a second shop, a benchmark run, each test's -- parse the whole
project again (about 8 s). The profile names no directory; this resolves it at connect time.
"""

import os
from typing import Any

from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.plugins import BasePlugin

from dagster_project.core.settings import PROJECT_ROOT, Settings


def warehouse_settings() -> Settings:
    """The settings dbt runs with: the pipeline hands dbt ``KPI_DATA_DIR``; without it (dbt by
    hand, in dbt_models/), the project's ``./data``, as ``make run`` uses."""
    if not os.environ.get("KPI_DATA_DIR"):
        os.environ["KPI_DATA_DIR"] = str(PROJECT_ROOT / "data")
    return Settings.from_env()


class Plugin(BasePlugin):
    def update_connection_config(self, creds: DuckDBCredentials, config: dict[str, Any]) -> None:
        settings = warehouse_settings()
        # read when dbt opens the database, after dbt hashed the profile for its saved parse
        creds.path = str(settings.build_db)
        # DuckDB's settings, given once when dbt opens the database, not per cursor: once a
        # build has spilled, DuckDB refuses to set temp_directory again
        config.update(settings.duckdb_config())
