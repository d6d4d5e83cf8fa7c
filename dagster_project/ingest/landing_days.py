"""The landing zone by business day: which days were delivered, and which are complete.

A day is complete when every source with ``cadence: daily`` has a file in its
``dt=<day>/`` folder, or when the producer says so with an empty marker file
``landing/_SUCCESS/dt=<day>`` (for a day on which a daily source had nothing to deliver).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from datetime import date
from pathlib import Path

from dagster_project.ingest import contract

_DAY_FOLDER = re.compile(r"dt=(\d{4}-\d{2}-\d{2})")
MARKER_DIR = "_SUCCESS"


def _day(name: str) -> date | None:
    match = _DAY_FOLDER.fullmatch(name)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


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
            day = _day(folder.name)
            if day is not None and folder.is_dir() and (files := _data_files(folder)):
                days[day][table] = files
    return dict(days)


def delivered_days(landing_dir: Path) -> list[date]:
    return sorted(deliveries(landing_dir))


def complete_days(landing_dir: Path) -> dict[date, str]:
    """Each complete day with a fingerprint of its files (names, sizes, modification times):
    a late or re-delivered file for a day changes the day's fingerprint."""
    daily = [t.name for t in contract.tables().values() if t.is_daily]
    markers = landing_dir / MARKER_DIR
    marked = {_day(p.name) for p in markers.iterdir()} if markers.is_dir() else set()
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
