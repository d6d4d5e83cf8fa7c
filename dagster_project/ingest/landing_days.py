"""The landing zone by business day: which days were delivered, and which are complete.

A day is complete when every source with ``cadence: daily`` has a file in its
``dt=<day>/`` folder, or when the producer says so with an empty marker file
``landing/_SUCCESS/dt=<day>`` (for a day on which a daily source had nothing to deliver).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from dagster_project.ingest import contract
from dagster_project.ingest.loader import day_of_folder

MARKER_DIR = "_SUCCESS"


def _data_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if not p.name.startswith((".", "_")) and not p.is_dir()
    )


def deliveries(landing_dir: Path) -> dict[date, dict[str, list[Path]]]:
    """Per business day, per contract table, the data files delivered for it."""
    days: dict[date, dict[str, list[Path]]] = defaultdict(dict)
    for table in contract.tables():
        table_dir = landing_dir / table
        if not table_dir.is_dir():
            continue
        for folder in table_dir.iterdir():
            day = day_of_folder(folder.name)
            if day is not None and folder.is_dir() and (files := _data_files(folder)):
                days[day][table] = files
    return dict(days)


def delivered_days(landing_dir: Path) -> list[date]:
    return sorted(deliveries(landing_dir))


def marked_days(landing_dir: Path) -> set[date]:
    """Days the producer declared complete with ``landing/_SUCCESS/dt=<day>``."""
    markers = landing_dir / MARKER_DIR
    return {day_of_folder(p.name) for p in markers.iterdir()} if markers.is_dir() else set()


def missing_days(landing_dir: Path, table: str, first: date, last: date) -> list[date]:
    """Days of ``first`` .. ``last`` on which a daily source that has started delivering (a
    file on an earlier or the same day) has no file, and no ``_SUCCESS`` marker says the day
    had nothing: a missing extract, not a quiet day. A source that never delivered is absent,
    not missing."""
    if not contract.table(table).is_daily:
        return []
    table_dir = landing_dir / table
    folders = [
        (day, folder)
        for folder in (table_dir.iterdir() if table_dir.is_dir() else [])
        if folder.is_dir() and (day := day_of_folder(folder.name)) is not None
    ]
    delivered = {day for day, folder in folders if _data_files(folder)}
    if not delivered:
        return []
    covered = delivered | marked_days(landing_dir)
    start = max(first, min(delivered))
    days = (start + timedelta(days=n) for n in range((last - start).days + 1))
    return [day for day in days if day not in covered]


def complete_days(landing_dir: Path) -> dict[date, str]:
    """Each complete day with a fingerprint of its files (names, sizes, modification times):
    a late or re-delivered file for a day changes the day's fingerprint."""
    daily = [t.name for t in contract.tables().values() if t.is_daily]
    marked = marked_days(landing_dir)
    complete = {}
    for day, tables in deliveries(landing_dir).items():
        if day in marked or all(table in tables for table in daily):
            digest = hashlib.sha256()
            for files in tables.values():
                for path in files:
                    stat = path.lstat()
                    digest.update(f"{path.relative_to(landing_dir)}|{stat.st_size}|".encode())
                    digest.update(f"{stat.st_mtime_ns}\n".encode())
            complete[day] = digest.hexdigest()[:16]
    return dict(sorted(complete.items()))
