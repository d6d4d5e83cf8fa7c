"""Source adapters: a shop's own export mapped into the landing contract (``kpi import <name>``).

An adapter reads an export with DuckDB SQL (its templates live in ``sql/``, rendered by the
project's ``SqlTemplates``), produces one CSV file per contract table and local business day,
and hands every file to ``write_landing``. What this module gives every adapter:

- ``read_export``: the export folder, its files and their columns checked up front, then every
  file read as text into ``export_<name>``; each problem one ``ExportError`` line naming the
  file (and the column or line);
- ``day_files``: a query's rows (a ``dt`` column, then the contract columns in contract
  order) as ``<table>/dt=<day>/<table>.csv`` files, with the demo generator's CSV writer;
- ``write_landing``: deterministic, idempotent writes: a file is written only when its bytes
  differ from what the landing zone holds (so an unchanged import changes no byte and no
  modification time, and the landing sensor sees nothing), through a temporary folder inside
  the landing zone and ``os.replace``; nothing is written before every file is ready.
"""

from __future__ import annotations

import csv
import gzip
import itertools
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from dagster_project.core.sql import SqlTemplates
from dagster_project.ingest import contract
from dagster_project.ingest.landing_csv import csv_bytes
from dagster_project.ingest.landing_days import MARKER_DIR

TEMPLATES = SqlTemplates(__package__)
SHOP_FILE = "_shop.yml"  # name, timezone, currency of the shop the landing zone belongs to


class ExportError(Exception):
    """An export that cannot be mapped; the message is one line naming the file."""


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose results never depend on thread scheduling."""
    con = duckdb.connect()
    con.execute("set threads = 1")
    con.execute("set preserve_insertion_order = true")
    con.execute("set TimeZone = 'UTC'")
    return con


def read_export(
    con: duckdb.DuckDBPyConnection, src: Path, files: Mapping[str, tuple[str, Sequence[str]]]
) -> None:
    """Read every export file into a temp table ``export_<name>`` of text columns (``files``:
    name -> (file name, the columns the mapping needs)), once the folder, each file and each
    needed column are found. Every problem is one ``ExportError`` line naming the file."""
    if not src.is_dir():
        raise ExportError(f"{src}: no such export folder")
    headers = {}
    for name, (file_name, columns) in files.items():
        path = src / file_name
        if not path.is_file():
            raise ExportError(f"{src}: missing export file {file_name}")
        header = headers[name] = _csv_header(path)
        if len(set(header)) < len(header):
            raise ExportError(f"{path}: a column name appears twice in its header")
        missing = [column for column in columns if column not in header]
        if missing:
            raise ExportError(f"{path}: missing column(s) {', '.join(missing)}")
    for name, (file_name, _) in files.items():
        path = src / file_name
        params = {"path": str(path), "columns": dict.fromkeys(headers[name], "VARCHAR")}
        try:
            TEMPLATES.execute(con, "read_export.sql", params, table=name)
        except duckdb.Error as error:
            raise ExportError(f"{path}: cannot read: {_reason(error)}") from error


def _reason(error: duckdb.Error) -> str:
    """DuckDB's first line, and the line saying what it expected if it has one."""
    lines = str(error).strip().splitlines()
    reason = lines[0].removeprefix("Invalid Input Error: ")
    expected = next((line for line in lines if line.startswith("Expected")), None)
    return f"{reason}: {expected}" if expected else reason


def _csv_header(path: Path) -> list[str]:
    """The column names on the first line of a CSV file (gzip or not)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as error:
        raise ExportError(f"{path}: cannot read its header: {error}") from error
    if not header:
        raise ExportError(f"{path}: empty file (expected a header line)")
    return header


@dataclass(frozen=True)
class TableFiles:
    """One contract table's landing files: relative path -> bytes, and its row count."""

    table: str
    files: dict[str, bytes]
    rows: int


def day_files(table: str, rows: pa.Table) -> TableFiles:
    """``rows`` (sorted by ``dt``; a ``dt`` column and then the contract columns in contract
    order) as one CSV file per day: ``<table>/dt=<dt>/<table>.csv``."""
    expected = ["dt", *contract.table(table).column_names]
    if rows.column_names != expected:
        raise ValueError(f"{table}: the query gives {rows.column_names}, expected {expected}")
    days = rows.column("dt").to_pylist()
    if days != sorted(days):
        raise ValueError(f"{table}: rows are not sorted by dt")
    body = rows.drop_columns(["dt"])
    files, start = {}, 0
    for day, group in itertools.groupby(days):
        count = len(list(group))
        files[f"{table}/dt={day}/{table}.csv"] = csv_bytes(body.slice(start, count))
        start += count
    return TableFiles(table, files, rows.num_rows)


def marker_files(days: Sequence[str]) -> dict[str, bytes]:
    """An empty ``_SUCCESS/dt=<day>`` for every day from the first to the last of ``days``
    (``YYYY-MM-DD``): the export is complete for each, so a day on which a daily source has
    no row is a quiet day, not a missing extract."""
    if not days:
        return {}
    first, last = date.fromisoformat(min(days)), date.fromisoformat(max(days))
    return {
        f"{MARKER_DIR}/dt={first + timedelta(days=n)}": b"" for n in range((last - first).days + 1)
    }


def shop_file(adapter: str, name: str, timezone: str, currency: str) -> dict[str, bytes]:
    """``_shop.yml``: the shop's name, time zone and currency (env vars override them)."""
    text = (
        f"# Written by `kpi import {adapter}`: the shop this landing zone belongs to.\n"
        f"name: {name}\ntimezone: {timezone}\ncurrency: {currency}\n"
    )
    return {SHOP_FILE: text.encode()}


def write_landing(landing: Path, files: Mapping[str, bytes]) -> set[str]:
    """Write the ``files`` (relative path -> bytes) whose bytes differ from the landing
    zone's; the paths written. Every file is staged in a temporary folder in the landing zone
    (removed afterwards) before the first one moves into place; each lands whole
    (``os.replace``), in ``_write_order``."""
    changed = sorted(
        (rel for rel, data in files.items() if _differs(landing / rel, data)), key=_write_order
    )
    if not changed:
        return set()
    landing.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=landing))
    try:
        for rel in changed:
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(files[rel])
        for rel in changed:
            (landing / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, landing / rel)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return set(changed)


def _write_order(rel: str) -> tuple[int, str]:
    """The shop settings first (they say how to read the rest), the day files, the
    ``_SUCCESS`` markers last: a day is never marked complete before its files are in place."""
    return (0 if rel == SHOP_FILE else 2 if rel.startswith(f"{MARKER_DIR}/") else 1, rel)


def _differs(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size != len(data) or path.read_bytes() != data
    except FileNotFoundError:
        return True


@dataclass
class ImportSummary:
    """What an import wrote, for the CLI's summary lines."""

    landing: Path
    tables: list[TableFiles]
    changed: set[str]
    markers: int
    shop_file: Path
    stale: list[str] = field(default_factory=list)  # earlier imports' files no longer produced

    def lines(self) -> list[str]:
        width = max(len(t.table) for t in [*self.tables, TableFiles(MARKER_DIR, {}, 0)])
        lines = [
            f"{t.table:{width}}  {t.rows:>7,} rows in {len(t.files):>4} days, "
            f"{sum(path in self.changed for path in t.files):>4} files changed"
            for t in self.tables
        ]
        markers = sum(path.startswith(f"{MARKER_DIR}/") for path in self.changed)
        lines.append(
            f"{MARKER_DIR:{width}}  {self.markers:>7,} days marked complete, "
            f"{markers:>4} markers written"
        )
        if self.stale:
            lines.append(
                f"warning: {len(self.stale)} file(s) of an earlier import are no longer "
                f"produced by this export and were left in place (first: {self.stale[0]})"
            )
        state = "written" if SHOP_FILE in self.changed else "unchanged"
        lines.append(f"landing zone {self.landing}; shop settings {self.shop_file} ({state})")
        return lines


def stale_files(landing: Path, tables: Sequence[str], produced: Mapping[str, bytes]) -> list[str]:
    """Day files of ``tables`` in the landing zone that this import does not produce."""
    return sorted(
        rel
        for table in tables
        for path in (landing / table).glob(f"dt=*/{table}.csv")
        if (rel := path.relative_to(landing).as_posix()) not in produced
    )
