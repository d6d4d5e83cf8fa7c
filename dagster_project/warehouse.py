"""Connections to the build warehouse, configured the same way everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from dagster_project.settings import Settings


@contextmanager
def connect(settings: Settings, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to ``build.duckdb``, closed on exit so no lock outlives its use.

    Timestamps are handled in UTC whatever the machine's zone; business dates are derived
    from them explicitly with the shop time zone.
    """
    if not read_only:
        settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(settings.build_db, read_only=read_only, config=settings.duckdb_config())
    try:
        con.execute("set TimeZone = 'UTC'")
        yield con
    finally:
        con.close()
