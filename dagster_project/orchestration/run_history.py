"""Dagster's run history under the data directory: its instance configuration and SQLite tuning.

A run over a range of days logs one materialization per day for each of the 17 partitioned raw
tables (~3,100 events for the half-year demo), and by default as many "planned" events before
its first step. Dagster's default SQLite storage commits each event with an fsync in a per-run
file, ~50 ms apiece here. One consolidated file in WAL mode without fsync per commit costs
~8 ms (Dagster opens a new connection for every write). The history is bookkeeping, not the
data: the warehouse is the truth, and a crash of the process loses nothing (only an
operating-system crash could lose the newest history lines).

Dagster's SQLite storage also creates a new engine and connection for every event it writes,
and asks SQLite whether the asset-check table exists before every check result: about half of
the ~9 ms an event costs, ~1,300 events in a refresh of a day (each dbt test is an asset check
with a planned and an evaluated event). ``HistoryEventLogStorage`` keeps one engine per process
whose connections stay open, and remembers the tables it has seen.

Runs over a range log one planned event per asset for the whole range instead of one per day
(Dagster's DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS): 24 s less before the demo's first
step. Dagster's documented cost: the days of a range run that fails are shown as missing, not
failed, in the UI; the run itself shows as failed, and the gate alerts.

A range run's step still logs one materialization per day, each with its own row in the UI.
Dagster hands them over as one batch when DAGSTER_EVENT_BATCH_SIZE is set, but its SQLite
storage writes a batch one event at a time (~3 ms each: 7,700 events, a third of a full refresh
of the Olist export). ``HistoryEventLogStorage.store_event_batch`` writes it in one transaction.
"""

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS, BATCH_WRITABLE_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import (
    ConsolidatedSqliteEventLogStorage,
    SqlEventLogStorageTable,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import event
from sqlalchemy.engine import Engine

from dagster_project.core.settings import Settings

INSTANCE_YAML = """\
# Written by `kpi` on every start (dagster_project/orchestration/run_history.py): edit that.
telemetry:
  enabled: false
event_log_storage:
  module: dagster_project.orchestration.run_history
  class: HistoryEventLogStorage
  config:
    base_dir: {history}
run_queue:
  # one run at a time writes the warehouse (the runs' resource also holds a file lock)
  tag_concurrency_limits:
    - key: kpi/warehouse
      limit: 1
"""


class HistoryEventLogStorage(ConsolidatedSqliteEventLogStorage):
    """Dagster's consolidated SQLite event log, its engine made once per process (a forked
    child makes its own) and its connections kept open between events."""

    _engine: Engine | None = None
    _engine_pid = 0
    _tables: frozenset[str] = frozenset()

    def _pooled_engine(self) -> Engine:
        if self._engine is None or self._engine_pid != os.getpid():
            if self._engine is not None:  # the parent's, in a forked child: leave its connections
                self._engine.dispose(close=False)
            self._engine = sa.create_engine(
                self._conn_string,
                # as many connections as threads ask for; five stay open
                pool_size=5,
                max_overflow=-1,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            self._engine_pid = os.getpid()
        return self._engine

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        with self._pooled_engine().connect() as conn, conn.begin():
            yield conn

    def has_table(self, table_name: str) -> bool:
        if table_name in self._tables:  # Dagster's tables are created, never dropped
            return True
        with self._pooled_engine().connect() as conn:
            found = bool(conn.dialect.has_table(conn, table_name))
        if found:
            self._tables |= {table_name}
        return found

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Store ``events`` as storing them one by one would, in one transaction: one insert
        for the events, each event's asset tags, each asset's index row written once per kind of
        event (the last of its kind: what one-by-one writes leave there), then the asset-check
        rows (written on connections of their own, as Dagster writes them)."""
        if any(entry.dagster_event_type not in BATCH_WRITABLE_EVENTS for entry in events):
            super().store_event_batch(events)  # Dagster batches no other kind: one by one
            return
        insert = self.prepare_insert_event_batch(events).returning(SqlEventLogStorageTable.c.id)
        with self._connect() as conn:
            # SQLite returns the new ids in no set order; they grow in the order of the rows
            ids = sorted(entry_id for (entry_id,) in conn.execute(insert))
            stored = list(zip(events, ids, strict=True))
            assets = [
                (entry, entry_id)
                for entry, entry_id in stored
                if entry.dagster_event_type in ASSET_EVENTS and entry.dagster_event.asset_key
            ]
            if assets:
                self._store_asset_event_tags(conn, *zip(*assets, strict=True))
            last_of_kind = {
                (entry.dagster_event.asset_key, entry.dagster_event_type): position
                for position, (entry, _) in enumerate(assets)
            }
            for position in sorted(last_of_kind.values()):
                self._store_asset_event(conn, *assets[position])
        for entry, entry_id in stored:
            if entry.dagster_event_type in ASSET_CHECK_EVENTS:
                self.store_asset_check_event(entry, entry_id)

    def dispose(self) -> None:
        super().dispose()
        if self._engine is not None and self._engine_pid == os.getpid():
            self._engine.dispose()
        self._engine = None


def write_instance_config(settings: Settings) -> Path:
    """Create or update ``dagster.yaml`` in the data directory's Dagster home."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    text = INSTANCE_YAML.format(history=home / "history")
    if not config.exists() or config.read_text(encoding="utf-8") != text:
        config.write_text(text, encoding="utf-8")
    return config


def _no_fsync_per_commit(dbapi_connection: object, _record: object) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("pragma journal_mode = wal")
        cursor.execute("pragma synchronous = off")
        cursor.close()


def tune() -> None:
    """Tune the history this process and the processes it starts write (``kpi ui`` starts the
    webserver and daemon, which create the runs of schedules, sensors and the UI)."""
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")
    # a range run's materializations of an asset, in batches of up to 500 days (7 columns a
    # row: 3,500 SQL variables an insert, SQLite allows 32,766)
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "500")
    if not event.contains(Engine, "connect", _no_fsync_per_commit):
        event.listen(Engine, "connect", _no_fsync_per_commit)
