"""Dagster's run history under the data directory: its instance configuration and SQLite tuning.

A run over a range of days logs one materialization per day for each of the 17 partitioned raw
tables (~3,100 events for the half-year demo), and by default as many "planned" events before
its first step. Dagster's default SQLite storage commits each event with an fsync in a per-run
file, ~50 ms apiece here. One consolidated file in WAL mode without fsync per commit costs
~8 ms (Dagster opens a new connection for every write). The history is bookkeeping, not the
data: the warehouse is the truth, and a crash of the process loses nothing (only an
operating-system crash could lose the newest history lines).

Runs over a range log one planned event per asset for the whole range instead of one per day
(Dagster's DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS): 24 s less before the demo's first
step. Dagster's documented cost: the days of a range run that fails are shown as missing, not
failed, in the UI; the run itself shows as failed, and the gate alerts.
"""

import os
import sqlite3
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from dagster_project.core.settings import Settings

INSTANCE_YAML = """\
# Written by `kpi` (dagster_project/run_history.py) on every start; edit that file instead.
telemetry:
  enabled: false
event_log_storage:
  module: dagster._core.storage.event_log
  class: ConsolidatedSqliteEventLogStorage
  config:
    base_dir: {history}
run_queue:
  # one run at a time writes the warehouse (the runs' resource also holds a file lock)
  tag_concurrency_limits:
    - key: kpi/warehouse
      limit: 1
"""


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
    if not event.contains(Engine, "connect", _no_fsync_per_commit):
        event.listen(Engine, "connect", _no_fsync_per_commit)
