"""Issue 8 §1, the bad-input matrix: every raw table x every kind of bad delivery.

A small clean base delivery (the generator, 7 days) is loaded once into a base warehouse. Each
case copies that warehouse, plants ONE bad file (or link, or folder) in the landing zone, loads
the case's table with ``TableLoader`` and checks what the contract promises:

- the outcome: the rows loaded, or each bad row rejected on its line with its reason code, or
  the whole file failed with its problem -- never a row dropped without a trace;
- the manifest balances: rows read = rows loaded + rows rejected, and raw.<table> and
  raw._rejected_rows hold exactly that many rows of the file; the contract check finds no
  unbalanced file, one open failure exactly when the file failed, and orphans exactly where
  the case planted them;
- the failure message names the file and the problem (a reject's reason names the column);
- loaded text is the text delivered;
- nothing else changed: the rows and bookkeeping of every other file and table are identical
  to the base, and no other file was reloaded.

The rows of a case file are written from the contract (valid values of each column's type,
foreign keys that exist in the base), then broken in one place. A defect that needs a kind of
column a table lacks (a bound, a foreign key, a timestamp...) is not generated for it and is
counted as not applicable. The generator's own defects run on the table they are made for,
with the outcome their registry declares. The tally is listed at the end of the run
(tests/conftest.py, record_tally).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.ingest import contract
from dagster_project.ingest.assets import evaluate_contract
from dagster_project.ingest.contract import Column, Table
from dagster_project.ingest.loader import TableLoader
from dagster_project.ingest.reasons import FileProblem, Flag, RowReason
from demo_shop import generate
from demo_shop.defects import DEFECTS, folder_day
from demo_shop.timeline import Timeline

START, DAYS, SESSIONS_PER_DAY, SEED, TIMEZONE = date(2025, 6, 1), 7, 100, 5, "Asia/Shanghai"
DAY = START + timedelta(days=3)  # the business day whose folder receives the case files
GOOD_ROWS = 3  # rows of a case file; the defect, when it is one row, is row 2 (CSV line 3)
NUMERIC = ("INTEGER", "BIGINT")
RUN_ID = "matrix"


# --- valid rows of a table, from its contract -------------------------------------------


class Sample:
    """Valid rows of one table: the contract's types and values, foreign keys from the base."""

    def __init__(self, table: Table, parents: dict[str, list[str]]):
        self.table = table
        self.parents = parents

    def rows(self, count: int = GOOD_ROWS) -> list[dict[str, str | None]]:
        return [{c.name: self.value(c, i) for c in self.table.columns} for i in range(count)]

    def value(self, column: Column, i: int) -> str | None:
        key = column.name in self.table.key
        if column.references:
            found = self.parents[column.references]
            return found[i % len(found)] if found else None
        if column.values:
            return column.values[0]
        if column.type == "VARCHAR":
            return f"{self.table.name}-{column.name}-{i}"
        if column.type == "TIMESTAMPTZ":
            return f"{DAY}T{10 + i % 10:02d}:{i // 10 % 60:02d}:{i // 600 % 60:02d}Z"
        if column.type == "DATE":
            return (DAY - timedelta(days=i)).isoformat()
        if column.type in NUMERIC:
            return str(900 + i) if key else str(self.clamp(column, 3))
        if column.type.startswith("DECIMAL"):
            return "12.34"
        if column.type == "BOOLEAN":
            return "false"
        if column.type == "JSON":
            return '{"control": 0.5, "treatment": 0.5}'
        raise AssertionError(f"no sample value for type {column.type}")

    @staticmethod
    def clamp(column: Column, value: int) -> int:
        low = -(10**9) if column.min is None else column.min
        high = 10**9 if column.max is None else column.max
        return int(min(max(value, low), high))

    def columns(self, test: Callable[[Column], bool]) -> list[Column]:
        return [c for c in self.table.columns if test(c)]

    def text_column(self) -> str:
        """A free-text column (no key, no accepted values, no reference), else any VARCHAR."""
        free = self.columns(
            lambda c: (
                c.type == "VARCHAR"
                and c.name not in self.table.key
                and not c.values
                and not c.references
            )
        )
        return (free or self.columns(lambda c: c.type == "VARCHAR"))[0].name

    def non_key_column(self) -> str:
        """The last column outside the key: the one a missing/renamed-column case removes."""
        return self.columns(lambda c: c.name not in self.table.key)[-1].name

    def changed(self, row: dict[str, str | None]) -> dict[str, str | None]:
        """The row with one column outside the unique key changed to another valid value."""
        outside = [c for c in self.table.columns if c.name not in self.table.unique_key]
        for column in outside:
            old = row[column.name]
            if column.type == "VARCHAR" and not column.values and not column.references:
                new = f"{old}-changed"
            elif column.type in NUMERIC or column.type.startswith("DECIMAL"):
                new = str(self.clamp(column, 4)) if column.type in NUMERIC else "43.21"
            elif column.values and len(column.values) > 1:
                new = column.values[1]
            elif column.type == "BOOLEAN":
                new = "true"
            else:
                continue
            if new != old:
                return row | {column.name: new}
        raise AssertionError(f"{self.table.name}: no column outside the key to change")


# --- rendering ------------------------------------------------------------------------------


def csv_bytes(
    columns: list[str],
    rows: list[dict[str, str | None]],
    delimiter: str = ",",
    line_end: str = "\n",
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return out.getvalue().encode("utf-8")


def jsonl_bytes(rows: list[dict[str, str | None]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode("utf-8")


def parquet_bytes(columns: list[str], rows: list[dict[str, str | None]]) -> bytes:
    table = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in columns})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


# --- what a case plants and expects -----------------------------------------------------


@dataclass
class Planted:
    """One case's file and the outcome the contract promises for it.

    ``rows`` are the planted rows by line; ``rejected`` the lines that must be rejected and
    their reason code; ``either`` lines that may load verbatim or be rejected (any reason).
    """

    source_file: str
    status: str  # loaded | empty | failed
    rows: dict[int, dict[str, str | None]] = field(default_factory=dict)
    rejected: dict[int, str] = field(default_factory=dict)
    either: frozenset[int] = frozenset()
    problem: FileProblem | None = None
    says: tuple[str, ...] = ()  # in the failure message / in each reject's reason
    orphans: dict[str, int] = field(default_factory=dict)  # planted orphans per column
    # registry defects declare counts, not lines
    counts: tuple[int, int, int] | None = None  # rows read, loaded, rejected
    reason: str | None = None  # the reason code of every rejected row
    orphans_per_column: int | None = None  # rows orphaned in each column that has any


class Site:
    """The landing zone of the matrix: plants a case's files and removes them afterwards."""

    def __init__(self, landing: Path, outside: Path):
        self.landing = landing
        self.outside_dir = outside
        self.created: list[Path] = []
        self.table = ""

    def _parent(self, path: Path) -> None:
        missing = []
        for parent in path.parents:
            if parent.exists() or parent == self.landing:
                break
            missing.append(parent)
        for parent in reversed(missing):
            parent.mkdir()
            self.created.append(parent)

    def path(self, name: str, folder: str | None = None) -> Path:
        folder = f"dt={DAY}" if folder is None else folder
        return self.landing / self.table / folder / name

    def source(self, path: Path) -> str:
        return path.relative_to(self.landing).as_posix()

    def put(self, name: str, content: bytes, folder: str | None = None) -> str:
        path = self.path(name, folder)
        self._parent(path)
        path.write_bytes(content)
        self.created.append(path)
        return self.source(path)

    def link(self, name: str, target: Path | str, folder: str | None = None) -> str:
        path = self.path(name, folder)
        self._parent(path)
        path.symlink_to(target)
        self.created.append(path)
        return self.source(path)

    def fifo(self, name: str) -> str:
        path = self.path(name)
        self._parent(path)
        os.mkfifo(path)
        self.created.append(path)
        return self.source(path)

    def outside(self, name: str, content: bytes) -> Path:
        """A file outside the landing zone (what a link might point at)."""
        path = self.outside_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    def clean_up(self) -> None:
        for path in reversed(self.created):
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink()
        self.created.clear()
        shutil.rmtree(self.outside_dir, ignore_errors=True)


def loaded_csv(
    site: Site,
    columns: list[str],
    rows: list[dict[str, str | None]],
    name: str = "case.csv",
    **expected,
) -> Planted:
    source = site.put(name, csv_bytes(columns, rows))
    return Planted(source, "loaded", {i + 2: r for i, r in enumerate(rows)}, **expected)


def failed(source: str, problem: FileProblem, *says: str) -> Planted:
    return Planted(source, "failed", problem=problem, says=says)


# --- the defects: each returns the planted case, or None when it does not apply -----------

Builder = Callable[[Sample, Site], Planted | None]
DEFECT_BUILDERS: dict[str, tuple[Builder, str]] = {}  # name -> (builder, when not applicable)


def defect(not_applicable: str = "") -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        DEFECT_BUILDERS[builder.__name__] = (builder, not_applicable)
        return builder

    return register


def one_bad_value(
    s: Sample, site: Site, column: str, value: str, reason: RowReason, *says: str
) -> Planted:
    rows = s.rows()
    rows[1][column] = value
    names = list(s.table.column_names)
    return loaded_csv(site, names, rows, rejected={3: reason}, says=(column, *says))


@defect()
def clean_csv(s, site):
    return loaded_csv(site, list(s.table.column_names), s.rows())


@defect()
def clean_jsonl(s, site):
    rows = s.rows()
    source = site.put("case.jsonl", jsonl_bytes(rows))
    return Planted(source, "loaded", {i + 1: r for i, r in enumerate(rows)})


@defect()
def clean_parquet(s, site):
    rows = s.rows()
    source = site.put("case.parquet", parquet_bytes(list(s.table.column_names), rows))
    return Planted(source, "loaded", {i + 1: r for i, r in enumerate(rows)})


@defect()
def null_key(s, site):
    rows = s.rows()
    rows[1][s.table.key[0]] = None
    names = list(s.table.column_names)
    return loaded_csv(site, names, rows, rejected={3: RowReason.NULL_KEY}, says=(s.table.key[0],))


@defect("no required column outside the key")
def null_required(s, site):
    required = s.columns(lambda c: not c.nullable and c.name not in s.table.key)
    if not required:
        return None
    rows = s.rows()
    rows[1][required[0].name] = None
    names = list(s.table.column_names)
    return loaded_csv(
        site, names, rows, rejected={3: RowReason.NULL_VALUE}, says=(required[0].name,)
    )


@defect()
def wrong_type(s, site):
    (column, *_) = s.columns(lambda c: c.type != "VARCHAR")
    return one_bad_value(s, site, column.name, "not-a-value", RowReason.INVALID_TYPE)


@defect("no integer column")
def integer_overflow(s, site):
    integers = s.columns(lambda c: c.type in NUMERIC)
    if not integers:
        return None
    return one_bad_value(s, site, integers[-1].name, "9" * 25, RowReason.INVALID_TYPE)


@defect("no column with accepted values")
def not_accepted_value(s, site):
    listed = s.columns(lambda c: bool(c.values))
    if not listed:
        return None
    return one_bad_value(s, site, listed[0].name, "bogus", RowReason.NOT_ACCEPTED)


def _bounded(s: Sample, test: Callable[[Column], bool]) -> Column | None:
    found = s.columns(lambda c: test(c) and c.name not in s.table.key) or s.columns(test)
    return found[0] if found else None


@defect("no column with a lower bound")
def negative_amount(s, site):
    column = _bounded(s, lambda c: c.min is not None)
    if column is None:
        return None
    value = "-1" if column.type in NUMERIC else "-1.00"
    return one_bad_value(s, site, column.name, value, RowReason.OUT_OF_RANGE, "minimum")


@defect("no column whose lower bound excludes zero")
def zero_quantity(s, site):
    column = _bounded(s, lambda c: c.min is not None and c.min > 0)
    if column is None:
        return None
    value = "0" if column.type in NUMERIC else "0.00"
    return one_bad_value(s, site, column.name, value, RowReason.OUT_OF_RANGE, "minimum")


@defect("no column with an upper bound")
def above_maximum(s, site):
    column = _bounded(s, lambda c: c.max is not None)
    if column is None:
        return None
    return one_bad_value(
        s, site, column.name, str(int(column.max) + 1), RowReason.OUT_OF_RANGE, "maximum"
    )


@defect("no not_future timestamp")
def future_timestamp(s, site):
    column = _bounded(s, lambda c: c.not_future)
    if column is None:
        return None
    value = f"{DAY + timedelta(days=40)}T12:00:00Z"
    return one_bad_value(s, site, column.name, value, RowReason.FUTURE_TIMESTAMP)


@defect("no timestamp column")
def timestamp_without_zone(s, site):
    column = _bounded(s, lambda c: c.is_timestamp)
    if column is None:
        return None
    value = f"{DAY}T10:00:00"
    return one_bad_value(s, site, column.name, value, RowReason.TIMESTAMP_WITHOUT_ZONE)


@defect()
def duplicate_key_other_content(s, site):
    rows = s.rows()
    rows[1] = s.changed(rows[0])
    names = list(s.table.column_names)
    return loaded_csv(
        site, names, rows, rejected={3: RowReason.DUPLICATE_KEY}, says=("first seen on line 2",)
    )


@defect("no foreign key")
def orphan_foreign_key(s, site):
    references = s.columns(lambda c: bool(c.references))
    if not references:
        return None
    column = references[0].name
    rows = s.rows()
    for i, row in enumerate(rows):
        row[column] = f"ORPHAN-{i}"
    return loaded_csv(site, list(s.table.column_names), rows, orphans={column: len(rows)})


@defect()
def oversized_field(s, site):
    rows = s.rows()
    rows[1][s.text_column()] = "x" * 3_000_000  # beyond any line buffer's default
    names = list(s.table.column_names)
    return loaded_csv(site, names, rows, either=frozenset({3}))


def _foreign_bytes(s: Sample, site: Site, raw: bytes) -> Planted:
    """Row 2 carries text in another encoding than UTF-8."""
    rows = s.rows()
    rows[1][s.text_column()] = "@@FOREIGN@@"
    content = csv_bytes(list(s.table.column_names), rows).replace(b"@@FOREIGN@@", raw)
    source = site.put("case.csv", content)
    return Planted(
        source,
        "loaded",
        {i + 2: r for i, r in enumerate(rows)},
        rejected={3: RowReason.MALFORMED_LINE},
        says=("utf-8",),
    )


@defect()
def gbk_bytes(s, site):
    return _foreign_bytes(s, site, "上海市浦东新区".encode("gbk"))


@defect()
def latin1_bytes(s, site):
    return _foreign_bytes(s, site, "Café Müller".encode("latin-1"))


@defect()
def utf8_bom(s, site):
    rows = s.rows()
    source = site.put("case.csv", b"\xef\xbb\xbf" + csv_bytes(list(s.table.column_names), rows))
    return Planted(source, "loaded", {i + 2: r for i, r in enumerate(rows)})


@defect()
def crlf_line_ends(s, site):
    rows = s.rows()
    source = site.put("case.csv", csv_bytes(list(s.table.column_names), rows, line_end="\r\n"))
    return Planted(source, "loaded", {i + 2: r for i, r in enumerate(rows)})


@defect()
def extra_column(s, site):
    rows = [r | {"unexpected_extra": "surplus, value"} for r in s.rows()]
    return loaded_csv(site, [*s.table.column_names, "unexpected_extra"], rows)


@defect()
def reordered_columns(s, site):
    return loaded_csv(site, list(reversed(s.table.column_names)), s.rows())


@defect()
def missing_column(s, site):
    gone = s.non_key_column()
    columns = [c for c in s.table.column_names if c != gone]
    source = site.put("case.csv", csv_bytes(columns, s.rows()))
    return failed(source, FileProblem.MISSING_COLUMN, gone)


@defect()
def renamed_column(s, site):
    old = s.non_key_column()
    rows = [r | {f"{old}_renamed": r[old]} for r in s.rows()]
    columns = [f"{old}_renamed" if c == old else c for c in s.table.column_names]
    source = site.put("case.csv", csv_bytes(columns, rows))
    return failed(source, FileProblem.MISSING_COLUMN, old, f"{old}_renamed")


@defect()
def wrong_delimiter(s, site):
    source = site.put("case.csv", csv_bytes(list(s.table.column_names), s.rows(), delimiter=";"))
    return failed(source, FileProblem.MISSING_COLUMN, "missing required column")


@defect()
def surplus_fields(s, site):
    rows = s.rows()
    content = csv_bytes(list(s.table.column_names), rows).decode().split("\n")
    content[2] += ",surplus,fields"
    source = site.put("case.csv", "\n".join(content).encode())
    lines = {i + 2: r for i, r in enumerate(rows)}
    return Planted(source, "loaded", lines, rejected={3: RowReason.MALFORMED_LINE})


@defect()
def missing_fields(s, site):
    rows = s.rows()
    names = list(s.table.column_names)
    short = csv_bytes(names[:-1], [rows[1]]).decode().split("\n")[1]  # the line minus a field
    content = csv_bytes(names, rows).decode().split("\n")
    content[2] = short
    source = site.put("case.csv", "\n".join(content).encode())
    lines = {i + 2: r for i, r in enumerate(rows)}
    return Planted(source, "loaded", lines, rejected={3: RowReason.MALFORMED_LINE})


@defect()
def malformed_jsonl(s, site):
    rows = s.rows()
    lines = jsonl_bytes(rows).decode().splitlines()
    lines[1] = lines[1][: len(lines[1]) // 2]  # cut mid-object
    source = site.put("case.jsonl", ("\n".join(lines) + "\n").encode())
    planted = {i + 1: r for i, r in enumerate(rows)}
    return Planted(source, "loaded", planted, rejected={2: RowReason.MALFORMED_LINE})


@defect()
def empty_file(s, site):
    return Planted(site.put("case.csv", b""), "empty")


@defect()
def header_only(s, site):
    return Planted(site.put("case.csv", csv_bytes(list(s.table.column_names), [])), "empty")


@defect()
def empty_gzip(s, site):
    """A gzip member holding zero bytes: the delivery is empty, like a zero-byte file."""
    return Planted(site.put("case.csv.gz", gzip.compress(b"")), "empty")


@defect()
def truncated_gzip(s, site):
    whole = gzip.compress(csv_bytes(list(s.table.column_names), s.rows(2_000)))
    source = site.put("case.csv.gz", whole[: len(whole) // 2])
    return failed(source, FileProblem.UNREADABLE)


@defect()
def zero_byte_parquet(s, site):
    return Planted(site.put("case.parquet", b""), "empty")


@defect()
def truncated_parquet(s, site):
    whole = parquet_bytes(list(s.table.column_names), s.rows())
    return failed(site.put("case.parquet", whole[: len(whole) // 2]), FileProblem.UNREADABLE)


def _good_csv(s: Sample) -> bytes:
    return csv_bytes(list(s.table.column_names), s.rows())


@defect()
def outside_dt_folder(s, site):
    source = site.put("case.csv", _good_csv(s), folder="")
    return failed(source, FileProblem.UNSUPPORTED_NAME, "dt=YYYY-MM-DD")


@defect()
def unknown_extension(s, site):
    return failed(site.put("case.txt", _good_csv(s)), FileProblem.UNSUPPORTED_NAME, "name must")


@defect()
def impossible_dt_date(s, site):
    source = site.put("case.csv", _good_csv(s), folder="dt=2025-02-30")
    return failed(source, FileProblem.UNSUPPORTED_NAME, "dt=YYYY-MM-DD")


@defect()
def nested_folder(s, site):
    source = site.put("case.csv", _good_csv(s), folder=f"dt={DAY}/extra")
    return failed(source, FileProblem.UNSUPPORTED_NAME, "dt=YYYY-MM-DD")


@defect()
def dotdot_dt_folder(s, site):
    source = site.put("case.csv", _good_csv(s), folder="dt=..")
    return failed(source, FileProblem.UNSUPPORTED_NAME, "dt=YYYY-MM-DD")


@defect()
def dotdot_in_file_name(s, site):
    """``..`` inside a name is just a name: no folder can be left through it."""
    rows = s.rows()
    return loaded_csv(site, list(s.table.column_names), rows, name="case..x..csv")


@defect()
def symlink_out_of_landing(s, site):
    target = site.outside("case.csv", _good_csv(s))
    return failed(site.link("case.csv", target), FileProblem.UNSUPPORTED_NAME, "outside")


@defect()
def relative_symlink_up_and_out(s, site):
    target = site.outside("case.csv", _good_csv(s))
    relative = os.path.relpath(target, site.path("x").parent)  # ../../../outside/case.csv
    assert relative.startswith("../")
    return failed(site.link("case.csv", relative), FileProblem.UNSUPPORTED_NAME, "outside")


@defect()
def symlinked_dt_folder_out_of_landing(s, site):
    site.outside("case.csv", _good_csv(s))
    later = DAY + timedelta(days=30)  # a day folder the base does not have
    link = site.link(f"dt={later}", site.outside_dir, folder="")
    return failed(link, FileProblem.UNSUPPORTED_NAME, "outside")


@defect()
def dangling_symlink(s, site):
    source = site.link("case.csv", "no-such-file.csv")
    return failed(source, FileProblem.UNSUPPORTED_NAME, "not a regular file")


@defect()
def named_pipe(s, site):
    """A FIFO would block a reader forever: it must be refused, not opened."""
    return failed(site.fifo("case.csv"), FileProblem.UNSUPPORTED_NAME, "not a regular file")


# --- the generator's own defects, each on the table it is made for -----------------------


def registry_case(name: str, site: Site) -> Planted:
    declared = DEFECTS[name]
    timeline = Timeline(START, DAYS, TIMEZONE)
    day = folder_day(timeline)
    content = declared.build(timeline, day)
    source = site.put(declared.file_name, content, folder=f"dt={timeline.dates[day]}")
    if declared.file_problem:
        return failed(source, declared.file_problem)
    if declared.flag == Flag.EMPTY_FILE:
        return Planted(source, "empty")
    return Planted(
        source,
        "loaded",
        counts=(declared.rows_in_file, declared.rows_loaded, declared.rows_rejected),
        reason=declared.row_reason,
        orphans_per_column=declared.rows_in_file if declared.flag else None,
    )


# --- running and judging one case ----------------------------------------------------------


BOOKKEEPING = ("_load_manifest", "_rejected_rows", "_load_failures")


def fingerprint(con: duckdb.DuckDBPyConnection, exclude: list[str]) -> list[tuple]:
    """Row count and content hash of every raw and bookkeeping table, minus some files."""
    parts = [
        f"select '{name}', count(*), coalesce(sum(hash(t)), 0) from raw.{name} as t"
        f" where not list_contains($exclude, t._source_file)"
        for name in contract.tables()
    ] + [
        f"select '{name}', count(*), coalesce(sum(hash(t)), 0) from raw.{name} as t"
        f" where not list_contains($exclude, t.source_file)"
        for name in BOOKKEEPING
    ]
    return con.execute(" union all ".join(parts) + " order by 1", {"exclude": exclude}).fetchall()


@dataclass
class Base:
    landing: Path
    warehouse: Path
    parents: dict[str, list[str]]
    fingerprint: list[tuple]
    orphans: dict[str, dict[str, int]]


def _comparable(column: Column) -> bool:
    """Columns whose text form survives the round trip through their type unchanged."""
    return column.type in ("VARCHAR", "DATE", "BOOLEAN", *NUMERIC) or column.type.startswith(
        "DECIMAL"
    )


def judge(con, table: Table, planted: Planted, outcomes, base: Base) -> list[str]:
    """What is wrong with the outcome of a case (empty when the contract was kept)."""
    problems = []
    mine = [o for o in outcomes if o.source_file == planted.source_file]
    others = [o for o in outcomes if o.source_file != planted.source_file]
    if len(mine) != 1:
        return [f"expected one outcome for {planted.source_file}, got {outcomes}"]
    (outcome,) = mine
    if any(o.status != "unchanged" for o in others):
        reloaded = [o.source_file for o in others if o.status != "unchanged"]
        problems.append(f"other files were (re)loaded: {reloaded}")
    file = planted.source_file
    manifest = con.execute(
        "select status, rows_read, rows_loaded, rows_rejected from raw._load_manifest"
        " where source_file = $f",
        {"f": file},
    ).fetchall()
    raw_rows = con.execute(
        f"select count(*) from raw.{table.name} where _source_file = $f", {"f": file}
    ).fetchall()[0][0]
    rejects = con.execute(
        "select line, reason_code, reason from raw._rejected_rows where source_file = $f"
        " order by line",
        {"f": file},
    ).fetchall()
    failures = con.execute(
        "select problem, message from raw._load_failures where source_file = $f", {"f": file}
    ).fetchall()
    check = evaluate_contract(con, table, 1.0).metadata

    def meta(name):
        return check[name].value

    if meta("unbalanced_files"):
        problems.append(f"unbalanced files: {meta('unbalanced_files')}")
    if outcome.status != planted.status:
        problems.append(f"status {outcome.status!r} ({outcome.message}), not {planted.status!r}")
        return problems

    if planted.status == "failed":
        expected_start = f"landing/{file}: {planted.problem}: "
        if outcome.problem != planted.problem:
            problems.append(f"problem {outcome.problem}, not {planted.problem}")
        if not (outcome.message or "").startswith(expected_start):
            problems.append(f"message {outcome.message!r} does not start {expected_start!r}")
        problems += [f"message lacks {w!r}" for w in planted.says if w not in outcome.message]
        if failures != [(str(planted.problem), outcome.message)]:
            problems.append(f"raw._load_failures holds {failures}")
        if manifest or raw_rows or rejects:
            problems.append(f"a failed file left rows: {manifest}, {raw_rows}, {rejects}")
        if meta("failed_files") != 1:
            problems.append(f"contract check counts {meta('failed_files')} open failures")
        return problems

    if failures or meta("failed_files"):
        problems.append(f"failures recorded for a file that loaded: {failures}")
    if planted.status == "empty":
        if manifest != [("empty", 0, 0, 0)] or raw_rows or rejects:
            problems.append(f"an empty file left {manifest}, {raw_rows} rows, {rejects}")
        return problems

    # loaded: counts, balance, reasons, orphans, fidelity
    if not manifest:
        return [*problems, "no manifest row"]
    (_, read, loaded, rejected) = manifest[0]
    if read != loaded + rejected or raw_rows != loaded or len(rejects) != rejected:
        problems.append(
            f"manifest read {read} loaded {loaded} rejected {rejected}, but raw holds "
            f"{raw_rows} and raw._rejected_rows {len(rejects)}"
        )
    if planted.counts is not None:
        if (read, loaded, rejected) != planted.counts:
            counts = (read, loaded, rejected)
            problems.append(f"read/loaded/rejected {counts}, not {planted.counts}")
        codes = {code for _, code, _ in rejects}
        if codes != ({str(planted.reason)} if planted.reason else set()):
            problems.append(f"reason codes {codes}, not {planted.reason}")
    else:
        got = {line: code for line, code, _ in rejects}
        flexible = {line: code for line, code in got.items() if line in planted.either}
        strict = {line: code for line, code in got.items() if line not in planted.either}
        if strict != {line: str(code) for line, code in planted.rejected.items()}:
            problems.append(f"rejected lines {got}, not {planted.rejected}")
        if read != len(planted.rows):
            problems.append(f"rows read {read}, not {len(planted.rows)}")
        problems += _fidelity(con, table, planted, set(got), set(flexible))
    for line, _, reason in rejects:
        if not reason:
            problems.append(f"line {line} rejected without a reason")
        problems += [
            f"reason of line {line} lacks {w!r}: {reason!r}"
            for w in planted.says
            if w.lower() not in reason.lower()
        ]
    problems += _orphans(table, planted, meta("orphan_rows_by_column"), base)
    return problems


def _fidelity(con, table: Table, planted: Planted, rejected: set[int], flexible: set[int]):
    """Every loaded line holds the text delivered; no planted good line is missing."""
    columns = [c.name for c in table.columns if _comparable(c)]
    select = ", ".join(f'cast("{c}" as varchar)' for c in columns)
    stored = {
        row[0]: dict(zip(columns, row[1:], strict=True))
        for row in con.execute(
            f"select _source_line, {select} from raw.{table.name} where _source_file = $f",
            {"f": planted.source_file},
        ).fetchall()
    }
    problems = []
    for line, row in planted.rows.items():
        if line in rejected:
            continue
        if line not in stored:
            problems.append(f"line {line} neither loaded nor rejected")
            continue
        expected = {c: row[c] for c in columns}
        if stored[line] != expected:
            diff = {c: (stored[line][c], expected[c]) for c in columns}
            diff = {c: v for c, v in diff.items() if v[0] != v[1]}
            problems.append(f"line {line} loaded as {str(diff)[:300]}")
    if extra := set(stored) - set(planted.rows):
        problems.append(f"lines loaded that were never delivered: {extra}")
    return problems


def _orphans(table: Table, planted: Planted, orphans: dict[str, int], base: Base) -> list[str]:
    before = base.orphans[table.name]
    added = {c: n - before.get(c, 0) for c, n in orphans.items() if n != before.get(c, 0)}
    if planted.orphans_per_column is not None:
        if not added or set(added.values()) != {planted.orphans_per_column}:
            return [f"orphans added {added}, expected {planted.orphans_per_column} per column"]
        return []
    if added != planted.orphans:
        return [f"orphans added {added}, not {planted.orphans}"]
    return []


# --- the matrix -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Base:
    """The clean base delivery, loaded once; every table has rows to refer to."""
    return build_base(tmp_path_factory.mktemp("matrix"))


def build_base(root: Path) -> Base:
    landing = root / "landing"
    generate(landing, START, DAYS, SESSIONS_PER_DAY, SEED, timezone=TIMEZONE)
    warehouse = root / "base.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("set TimeZone = 'UTC'")
        for table in contract.tables().values():
            result = TableLoader(con, landing, table, "base").load()
            assert not result.failures and result.rows_rejected == 0, table.name
        parents = {}
        for table in contract.tables().values():
            for column in table.columns:
                if column.references:
                    parent, key = column.references.split(".")
                    parents[column.references] = [
                        value
                        for (value,) in con.execute(
                            f"select distinct {key} from raw.{parent} where {key} is not null"
                            " order by 1 limit 5"
                        ).fetchall()
                    ]
                    assert parents[column.references] or column.nullable, column.references
        orphans = {
            t.name: evaluate_contract(con, t, 1.0).metadata["orphan_rows_by_column"].value
            for t in contract.tables().values()
        }
        prints = fingerprint(con, [])
    return Base(landing, warehouse, parents, prints, orphans)


def run_case(
    con: duckdb.DuckDBPyConnection,
    base: Base,
    work: Path,
    table: Table,
    plant: Callable[[Site], Planted | None],
) -> list[str] | None:
    """Plant one case and load it into a fresh copy of the base warehouse, attached to ``con``
    as its default database; the problems found, or None when the case does not apply."""
    site = Site(base.landing, work / "outside")
    site.table = table.name
    try:
        planted = plant(site)
        if planted is None:
            return None
        copy = work / "case.duckdb"
        shutil.copyfile(base.warehouse, copy)
        con.execute("attach $path as case_db", {"path": str(copy)})
        con.execute("use case_db")
        try:
            try:
                outcomes = TableLoader(con, base.landing, table, RUN_ID).load().outcomes
            except Exception as error:  # a crash is a failed case, not an aborted matrix
                return [f"the loader raised {type(error).__name__}: {error}"]
            problems = judge(con, table, planted, outcomes, base)
            if fingerprint(con, [planted.source_file]) != base.fingerprint:
                problems.append("rows of other files or tables changed")
            return problems
        finally:
            con.execute("use memory")
            con.execute("detach case_db")
    finally:
        site.clean_up()


@dataclass(frozen=True)
class Case:
    defect: str
    table: Table
    plant: Callable[[Site], Planted | None]
    from_registry: bool = False


def all_cases(base: Base) -> list[Case]:
    cases = []
    for name, (builder, _) in DEFECT_BUILDERS.items():
        for table in contract.tables().values():
            sample = Sample(table, base.parents)
            cases.append(Case(name, table, lambda site, b=builder, s=sample: b(s, site)))
    for name, declared in DEFECTS.items():
        table = contract.table(declared.table)
        cases.append(Case(name, table, lambda site, n=name: registry_case(n, site), True))
    return cases


def test_bad_input_matrix(base, tmp_path, record_tally):
    started = time.monotonic()
    by_table: dict[str, list[Case]] = {}
    for case in all_cases(base):
        by_table.setdefault(case.table.name, []).append(case)

    def run_table(name: str) -> list[tuple[Case, list[str] | None]]:
        work = tmp_path / name  # each table has its own landing folder and warehouse copy
        work.mkdir()
        with duckdb.connect(config={"threads": 1}) as con:
            con.execute("set TimeZone = 'UTC'")
            return [
                (case, run_case(con, base, work, case.table, case.plant)) for case in by_table[name]
            ]

    # Tables are independent (own landing folder, own warehouse copy): two at a time.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = [result for done in pool.map(run_table, by_table) for result in done]

    not_applicable: dict[str, list[str]] = {}
    failures = []
    tried = Counter()
    passed = Counter()
    for case, problems in results:
        kind = "registry" if case.from_registry else "matrix"
        if problems is None:
            not_applicable.setdefault(case.defect, []).append(case.table.name)
            continue
        tried[kind] += 1
        if problems:
            label = f"generator defect {case.defect}" if case.from_registry else case.defect
            failures.append(f"{case.table.name} x {label}: " + "; ".join(problems))
        else:
            passed[kind] += 1
    skipped = sum(len(tables) for tables in not_applicable.values())
    tables = len(contract.tables())
    record_tally(
        f"bad-input matrix: {tables} tables x {len(DEFECT_BUILDERS)} defects: "
        f"tried {tried['matrix']}, passed {passed['matrix']}, not applicable {skipped}; "
        f"generator defects on their own table: tried {tried['registry']}, passed "
        f"{passed['registry']}; all cases: tried {tried.total()}, passed {passed.total()} "
        f"({time.monotonic() - started:.0f} s)"
        + "".join(
            f"\n  not applicable: {name} ({DEFECT_BUILDERS[name][1]}): {', '.join(skipped_tables)}"
            for name, skipped_tables in not_applicable.items()
        )
        + "".join(f"\n  FAILED {failure}" for failure in failures)
    )
    assert tried["matrix"] + skipped == tables * len(DEFECT_BUILDERS)
    assert tried["registry"] == len(DEFECTS)
    assert not failures, f"{len(failures)} failing case(s):\n" + "\n".join(failures)
