"""Dagster resources: the one way assets reach the build warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from dagster_project import warehouse
from dagster_project.settings import Settings


class WarehouseResource(dg.ConfigurableResource):
    """The build warehouse, ``$KPI_DATA_DIR/warehouse/build.duckdb``.

    Settings are read from the environment when a run uses the resource, not at import.
    """

    def settings(self) -> Settings:
        return Settings.from_env()

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect(self.settings(), read_only=read_only) as con:
            yield con
