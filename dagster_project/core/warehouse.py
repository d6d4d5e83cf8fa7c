"""Connections to the build warehouse, configured the same way everywhere."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import duckdb

from dagster_project.core.settings import Settings


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


class WarehouseBusy(Exception):
    """A run is writing the build warehouse right now."""


@contextmanager
def read_when_idle(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to an existing ``build.duckdb`` for a reader that would rather
    come back later than wait or get in a run's way: raises ``WarehouseBusy`` while a run
    holds the write lock, or while a process outside the lock has the file open for writing.

    The lock is held (shared) while reading because DuckDB refuses a writer while any other
    process has the file open, even read-only: a run that starts meanwhile waits for the read
    to end instead of failing to open the warehouse.
    """
    with settings.warehouse_lock.open("a+", encoding="utf-8") as lock, ExitStack() as stack:
        try:
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            raise WarehouseBusy(
                f"run {lock.read().strip() or '?'} is writing it ({settings.warehouse_lock})"
            ) from None
        stack.callback(fcntl.flock, lock, fcntl.LOCK_UN)
        try:
            con = stack.enter_context(connect(settings, read_only=True))
        except duckdb.IOException as error:
            if "Could not set lock" not in str(error):
                raise
            raise WarehouseBusy(str(error).strip().splitlines()[0]) from error
        yield con


@contextmanager
def exclusive(settings: Settings, holder: str, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the warehouse's write lock: one run at a time builds, the next one waits.

    An OS file lock (``flock``): the kernel releases it when its process ends, however it
    ends, so a killed run never leaves a stale lock behind. ``holder`` (the run id) is written
    into the lock file so that a waiting run can say whom it waits for.
    """
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with settings.warehouse_lock.open("a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            on_wait(
                f"waiting for the warehouse: run {lock.read().strip() or '?'} is writing it "
                f"({settings.warehouse_lock})"
            )
            fcntl.flock(lock, fcntl.LOCK_EX)
        lock.seek(0)
        lock.truncate()
        lock.write(holder)
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
