"""Writing generated tables into the landing zone, one file per table and business day.

A table arrives here as typed numpy columns plus the business day of every row; this module
renders them in the file format the table is delivered in and writes
``<out>/<table>/dt=<YYYY-MM-DD>/<table>.<ext>``. Files are byte-identical across runs: gzip
members carry no timestamp or name, Parquet and JSON writers are fed rows in a fixed order.
Rendering, compression and disk writes run on a small thread pool (numpy, Arrow and zlib
release the GIL), so the simulation of the next day overlaps with writing the last one.
"""

from __future__ import annotations

import threading
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.ingest import contract
from dagster_project.ingest.landing_csv import csv_bytes

from . import formatting

GZIP_LEVEL = 1  # speed over size: the demo files are rewritten on every run
GZIP_WINDOW = 31  # zlib: gzip container, header without mtime or file name
MAX_PENDING_WRITES = 6  # bounds the memory held by queued day slices

FORMATS: Mapping[str, str] = {
    "sessions": "csv.gz",
    "events": "csv.gz",
    "inventory_snapshots": "parquet",
    "ad_spend": "parquet",
    "support_tickets": "jsonl",
    "surveys": "jsonl",
}


def file_format(table: str) -> str:
    """Extension a table is delivered with (``csv`` unless listed in ``FORMATS``)."""
    return FORMATS.get(table, "csv")


@dataclass(frozen=True)
class Column:
    """A generated column before rendering: raw values plus how to render them.

    ``kind`` is one of ``id`` (``prefix`` + zero-padded number of ``width`` digits),
    ``timestamp`` (UTC epoch seconds), ``date`` (epoch days), ``amount`` (integer cents),
    ``integer``, ``boolean``, ``label`` (codes into ``labels``) or ``text`` (an Arrow array).
    ``valid`` marks non-NULL rows (None: all valid).
    """

    kind: str
    values: np.ndarray | pa.Array
    valid: np.ndarray | None = None
    prefix: str = ""
    width: int = 0
    labels: tuple[str, ...] = ()

    def take(self, rows: np.ndarray | slice) -> Column:
        """The same column restricted to ``rows``."""
        values = self.values
        if isinstance(values, pa.Array):
            if isinstance(rows, slice):
                values = values.slice(rows.start, rows.stop - rows.start)
            else:
                values = values.take(pa.array(rows))
        else:
            values = values[rows]
        valid = None if self.valid is None else self.valid[rows]
        return Column(self.kind, values, valid, self.prefix, self.width, self.labels)

    def as_text(self) -> pa.Array:
        """Render as strings, the way CSV and JSON files carry the value."""
        if self.kind == "id":
            return formatting.ids(self.prefix, self.values, self.width, self.valid)
        if self.kind == "timestamp":
            return formatting.timestamps(self.values, self.valid)
        if self.kind == "date":
            return formatting.dates(self.values)
        if self.kind == "amount":
            return formatting.amounts(self.values)
        if self.kind == "integer":
            return formatting.integers(self.values, self.valid)
        if self.kind == "boolean":
            return formatting.booleans(self.values)
        if self.kind == "label":
            return formatting.choices(self.labels, self.values, self.valid)
        return self.values

    def as_typed(self, duckdb_type: str) -> pa.Array:
        """Render as a typed Arrow array matching the contract type (Parquet, JSON)."""
        mask = None if self.valid is None else ~self.valid
        if self.kind == "date":
            return pa.array(self.values.astype(np.int32), pa.date32())
        if self.kind == "timestamp":
            return pa.array(self.values, pa.timestamp("s", tz="UTC"), mask=mask)
        if self.kind == "amount":
            return _decimal_from_cents(self.values)
        if self.kind == "integer":
            arrow_type = pa.int64() if duckdb_type == "BIGINT" else pa.int32()
            return pa.array(self.values, arrow_type, mask=mask)
        if self.kind == "boolean":
            return pa.array(self.values, pa.bool_())
        return self.as_text()


def _decimal_from_cents(cents: np.ndarray) -> pa.Array:
    """DECIMAL(18,2) straight from cents: the 128-bit unscaled value is the cent count."""
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(words)])


Table = Mapping[str, Column]


class LandingWriter:
    """Writes day slices of tables; tracks rows and files written."""

    def __init__(self, out: Path, epoch_day_of: Callable[[int], int], threads: int = 2) -> None:
        self.out = out
        self._epoch_day_of = epoch_day_of
        self._pool = ThreadPoolExecutor(max_workers=threads)
        self._pending: deque[Future] = deque()
        self._lock = threading.Lock()
        self.rows: dict[str, int] = dict.fromkeys(contract.tables(), 0)
        self.files: list[Path] = []

    def clear(self) -> None:
        """Remove what an earlier run of the generator wrote (its own files only)."""
        for name in contract.tables():
            for folder in sorted((self.out / name).glob("dt=*")):
                for path in folder.glob(f"{name}.*"):
                    path.unlink()
                for path in folder.glob("defect-*"):
                    path.unlink()
                if not any(folder.iterdir()):
                    folder.rmdir()

    def folder(self, table: str, day: int) -> Path:
        """``<out>/<table>/dt=<date>`` of business day index ``day``."""
        dt = date.fromordinal(date(1970, 1, 1).toordinal() + self._epoch_day_of(day))
        return self.out / table / f"dt={dt.isoformat()}"

    def write(self, table: str, columns: Table, day: np.ndarray) -> None:
        """Queue every row of ``columns`` into the file of its business day ``day[i]``."""
        order = np.argsort(day, kind="stable")
        sorted_days = day[order]
        bounds = np.flatnonzero(np.diff(sorted_days)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(order)]])
        for start, end in zip(starts, ends, strict=True):
            if end > start:
                rows = order[start:end]
                self.write_day(
                    table, {n: c.take(rows) for n, c in columns.items()}, int(sorted_days[start])
                )

    def write_day(self, table: str, columns: Table, day: int) -> None:
        """Queue one business day's rows of a table (rows already in file order)."""
        names = contract.table(table).column_names
        if set(columns) != set(names):
            raise ValueError(f"{table}: generated {sorted(columns)}, contract has {names}")
        path = self.folder(table, day) / f"{table}.{file_format(table)}"
        rows = len(next(iter(columns.values())).values)
        with self._lock:
            self.rows[table] += rows
            self.files.append(path)
        while len(self._pending) >= MAX_PENDING_WRITES:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(_write_file, table, columns, path))

    def close(self) -> None:
        """Wait for every queued file; re-raise the first failure."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True)


def _write_file(table: str, columns: Table, path: Path) -> None:
    spec = contract.table(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = file_format(table)
    if fmt == "parquet":
        arrow = pa.table({c.name: columns[c.name].as_typed(c.type) for c in spec.columns})
        pq.write_table(arrow, path, compression="zstd")
    elif fmt == "jsonl":
        arrow = pa.table({c.name: _json_value(columns[c.name], c.type) for c in spec.columns})
        write_jsonl(arrow, path)
    else:
        arrow = pa.table({c.name: columns[c.name].as_text() for c in spec.columns})
        write_csv(arrow, path, compress=fmt.endswith(".gz"))


def _json_value(column: Column, duckdb_type: str) -> pa.Array:
    """JSON carries numbers and booleans natively; everything else as text."""
    if column.kind in ("integer", "boolean"):
        return column.as_typed(duckdb_type)
    return column.as_text()


def write_csv(arrow: pa.Table, path: Path, compress: bool) -> None:
    path.write_bytes(
        gzip_bytes(csv_bytes(arrow, quote=not compress))
        if compress
        else csv_bytes(arrow, quote=True)
    )


def gzip_bytes(data: bytes) -> bytes:
    """One gzip member with a zeroed mtime, so equal input gives equal bytes."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, GZIP_WINDOW)
    return compressor.compress(data) + compressor.flush()


def write_jsonl(arrow: pa.Table, path: Path) -> None:
    """One JSON object per line, keys in contract order, NULL as ``null``."""
    with duckdb.connect() as con:
        con.execute("set preserve_insertion_order = true")
        con.execute("set threads = 1")
        con.register("rows_to_write", arrow)
        con.execute("copy rows_to_write to $path (format json)", {"path": path.as_posix()})
