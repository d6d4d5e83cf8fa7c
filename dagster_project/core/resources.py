"""Dagster resources: the one way assets reach the build warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

import dagster as dg
import duckdb

from dagster_project.core import warehouse
from dagster_project.core.settings import Settings


class WarehouseResource(dg.ConfigurableResource):
    """The build warehouse, ``$KPI_DATA_DIR/warehouse/build.duckdb``.

    Settings are read from the environment when a run uses the resource, not at import.
    A run that uses it holds the warehouse's write lock from start to end (runs execute in
    one process): two runs never interleave their steps, the second waits for the first.
    """

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Self]:
        holder = context.run.run_id if context.run else "?"
        with warehouse.exclusive(self.settings(), holder, context.log.warning):
            yield self

    def settings(self) -> Settings:
        return Settings.from_env()

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect(self.settings(), read_only=read_only) as con:
            yield con
