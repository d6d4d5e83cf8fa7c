"""The landing zone by business day: which days were delivered, and which are complete.

A day is complete when every source with ``cadence: daily`` has a file in its
``dt=<day>/`` folder, or when the producer says so with an empty marker file
``landing/_SUCCESS/dt=<day>`` (for a day on which a daily source had nothing to deliver).
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from stat import S_ISLNK

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


# A file's (size in bytes, modification time in ns), the two things the loader compares.
FileStat = tuple[int, int]


@dataclass(frozen=True)
class LandingDay:
    """A complete day: the fingerprint of its files, and each file's current stats."""

    fingerprint: str
    # source_file (relative to the landing dir, forward slashes, as raw._load_manifest names
    # it) -> the file's stats as the loader may have recorded them: the link's target for a
    # file it loads, the link itself for one it refuses (the same for a regular file).
    files: dict[str, frozenset[FileStat]]


def complete_landing_days(landing_dir: Path) -> dict[date, LandingDay]:
    """Each complete day with a fingerprint of its files (names, sizes, modification times):
    a late or re-delivered file for a day changes the day's fingerprint."""
    daily = [t.name for t in contract.tables().values() if t.is_daily]
    marked = marked_days(landing_dir)
    complete = {}
    for day, tables in deliveries(landing_dir).items():
        if day in marked or all(table in tables for table in daily):
            digest = hashlib.sha256()
            files = {}
            for paths in tables.values():
                for path in paths:
                    stat = path.lstat()
                    digest.update(f"{path.relative_to(landing_dir)}|{stat.st_size}|".encode())
                    digest.update(f"{stat.st_mtime_ns}\n".encode())
                    files[path.relative_to(landing_dir).as_posix()] = _stats(path, stat)
            complete[day] = LandingDay(digest.hexdigest()[:16], files)
    return dict(sorted(complete.items()))


def complete_days(landing_dir: Path) -> dict[date, str]:
    """Each complete day with its fingerprint (see ``complete_landing_days``)."""
    return {day: d.fingerprint for day, d in complete_landing_days(landing_dir).items()}


def _stats(path: Path, lstat: os.stat_result) -> frozenset[FileStat]:
    stats = {(lstat.st_size, lstat.st_mtime_ns)}
    if S_ISLNK(lstat.st_mode):
        try:
            target = path.stat()
        except OSError:  # a dangling link: the loader refuses it by its own stats
            pass
        else:
            stats.add((target.st_size, target.st_mtime_ns))
    return frozenset(stats)
