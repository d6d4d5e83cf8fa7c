"""Load landing files into ``raw.<table>`` against the contract, idempotently.

Files load in batches, each in one transaction: for every file of the batch, its earlier rows
(if it was delivered before) are deleted, its good rows inserted, its bad rows recorded in
``raw._rejected_rows`` with file, line and reason, and its manifest row written. A file that
cannot be loaded at all (missing column, unreadable, bad name, or a re-delivery that drops
most of its earlier rows without the producer's confirmation) is recorded in
``raw._load_failures``; its earlier delivery stays loaded and the other files still load. A
failure is over (resolved) once the file loads, comes back to the version that loaded, or
leaves the landing zone.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path, PurePosixPath

import duckdb

from dagster_project.ingest.contract import Table, tables
from dagster_project.ingest.reasons import FileProblem
from dagster_project.ingest.sql_templates import TEMPLATES, statement

FORMATS = {".csv": "csv", ".csv.gz": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}
_DAY_FOLDER = re.compile(r"dt=(\d{4}-\d{2}-\d{2})")
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that are not UTF-8, as surrogateescape
# A timestamp may lie up to the end of the day after the extract's business day (UTC), which
# covers every shop time zone.
_FUTURE_GRACE = timedelta(days=2)
# Files loaded together in one transaction, up to this many bytes (a gzip file counts as
# _GZIP_RATIO times its size): a few statements for many small files, bounded memory for big ones.
BATCH_BYTES = 64 << 20
_GZIP_RATIO = 8
# An empty file in a day folder by which the producer confirms that the folder's re-delivered
# files may hold far fewer rows than before (or none): the source really deleted them.
SHRINK_MARKER = "_SHRINK_OK"


class FileLoadError(Exception):
    """A file that cannot be loaded at all."""

    def __init__(self, problem: FileProblem, message: str):
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class LandingFile:
    path: Path
    source_file: str  # path relative to the landing directory, with forward slashes
    business_date: date | None
    format: str | None
    problem: str | None = None  # why the name or location is not acceptable


@dataclass
class FileOutcome:
    source_file: str
    status: str  # loaded | empty | failed | unchanged
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    problem: str | None = None
    message: str | None = None


@dataclass
class TableLoad:
    table: str
    outcomes: list[FileOutcome] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)  # failures this load resolved, as messages

    def _count(self, *statuses: str) -> int:
        return sum(o.status in statuses for o in self.outcomes)

    @property
    def files_loaded(self) -> int:
        return self._count("loaded", "empty")

    @property
    def files_unchanged(self) -> int:
        return self._count("unchanged")

    @property
    def failures(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def rows_read(self) -> int:
        return sum(o.rows_read for o in self.outcomes)

    @property
    def rows_loaded(self) -> int:
        return sum(o.rows_loaded for o in self.outcomes)

    @property
    def rows_rejected(self) -> int:
        return sum(o.rows_rejected for o in self.outcomes)


def _format_of(name: str) -> str | None:
    return next((fmt for ext, fmt in FORMATS.items() if name.endswith(ext)), None)


def discover(landing_dir: Path, table: str) -> list[LandingFile]:
    """Every file delivered for ``table``, in path order, each with what is wrong with it."""
    root = landing_dir.resolve()
    table_dir = landing_dir / table
    if not table_dir.is_dir():
        return []
    found = []
    for path in sorted(table_dir.rglob("*")):
        if path.name.startswith((".", "_")) or (path.is_dir() and not path.is_symlink()):
            continue  # hidden files and markers such as _SUCCESS are not data
        relative = path.relative_to(landing_dir).as_posix()
        parts = path.relative_to(table_dir).parts
        business_date = day_of_folder(parts[0]) if len(parts) == 2 else None
        problem = None
        # First, so that a link out of the zone is named as such, whatever its name (a
        # linked dt= folder is a link, not a file outside a dt= folder).
        if not path.resolve().is_relative_to(root):
            problem = "symbolic link pointing outside the landing zone"
        elif business_date is None:
            problem = "not in a <table>/dt=YYYY-MM-DD/ folder"
        elif not _FILE_NAME.fullmatch(path.name) or _format_of(path.name) is None:
            problem = f"name must be <name>{{{','.join(FORMATS)}}} of letters, digits, '._-'"
        elif not path.is_file():
            problem = "not a regular file"
        found.append(LandingFile(path, relative, business_date, _format_of(path.name), problem))
    return found


def day_of_folder(name: str) -> date | None:
    """The business day a ``dt=YYYY-MM-DD`` folder name stands for, else None."""
    match = _DAY_FOLDER.fullmatch(name)
    try:
        return date.fromisoformat(match.group(1)) if match else None
    except ValueError:  # dt=2025-02-30
        return None


def _unreadable(error: duckdb.Error) -> FileLoadError:
    return FileLoadError(FileProblem.UNREADABLE, str(error).strip().splitlines()[0])


def _csv_header(path: Path) -> list[str] | None:
    """Column names from a CSV file's first record; None when it holds no record at all.

    A UTF-8 byte-order mark is ignored. Only the header is decoded here: a data line that is
    not UTF-8 is rejected on its own line by the reader, like any other bad line, wherever it
    sits in the file (decoding the first block of the file would fail the whole file when
    such a line happens to lie near the top).
    """
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(
            path, "rt", encoding="utf-8-sig", errors="surrogateescape", newline=""
        ) as handle:
            header = next(csv.reader(handle), None)
    except (OSError, EOFError, csv.Error) as error:
        raise FileLoadError(FileProblem.UNREADABLE, f"cannot read the header: {error}") from error
    if header and any(_UNDECODABLE.search(name) for name in header):
        raise FileLoadError(
            FileProblem.UNREADABLE, "the header is not UTF-8 text (files must be UTF-8 encoded)"
        )
    return header


def _checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_tables(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Create the bookkeeping tables and ``raw.<table>`` if they do not exist yet."""
    TEMPLATES.execute(con, "create_bookkeeping.sql", {})
    TEMPLATES.execute(con, "create_raw_table.sql", {}, table=table)


@dataclass
class _Pending:
    """A file that passed the checks made one file at a time; it loads with its batch."""

    landing_file: LandingFile
    params: dict
    header: tuple[tuple[str, str | None], ...]  # (name, type): a batch shares one header
    delivered_before: bool  # the manifest has an earlier delivery: its rows are replaced
    shrink_confirmed: bool  # it may replace the earlier delivery with far fewer rows

    @property
    def weight(self) -> int:
        """Roughly how many bytes the file holds once decompressed."""
        compressed = self.landing_file.path.name.endswith(".gz")
        return self.params["size_bytes"] * (_GZIP_RATIO if compressed else 1)


def _batches(pending: list[_Pending]) -> Iterator[list[_Pending]]:
    """Files that one statement can read together: same format and header, BATCH_BYTES at most."""
    groups: dict[tuple, list[_Pending]] = {}
    for item in pending:
        groups.setdefault((item.landing_file.format, item.header), []).append(item)
    for group in groups.values():
        batch: list[_Pending] = []
        size = 0
        for item in group:
            if batch and size + item.weight > BATCH_BYTES:
                yield batch
                batch, size = [], 0
            batch.append(item)
            size += item.weight
        yield batch


class TableLoader:
    """Loads the new and changed landing files of one table.

    Files are checked one at a time for what needs no reading of rows (name, place, change
    since the last load, header), then read, checked and loaded in batches: one transaction and
    a fixed number of statements per batch, so a table of many small daily files loads about
    as fast as one file of their size. A batch that fails as a whole (a truncated gzip among
    good files) is retried one file at a time, so that only the bad file fails.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        landing_dir: Path,
        table: Table,
        run_id: str | None = None,
        max_redelivery_drop: float = 0.5,
    ):
        self.con = con
        self.landing_dir = landing_dir
        self.table = table
        self.run_id = run_id
        # a re-delivery with fewer than (1 - this) x its earlier rows fails unless confirmed
        self.max_redelivery_drop = max_redelivery_drop
        ensure_tables(con, table)

    def load(
        self,
        progress: Callable[[int, int, FileOutcome], None] | None = None,
        days: tuple[date, date] | None = None,
    ) -> TableLoad:
        """Load the files of the business days ``days`` (first, last), or of every day.

        A file outside any ``dt=`` folder belongs to no day: it is always recorded (as failed),
        so nothing delivered goes unnoticed whatever days a run covers. Outcomes are in path
        order.
        """
        files = [
            f
            for f in discover(self.landing_dir, self.table.name)
            if days is None or f.business_date is None or days[0] <= f.business_date <= days[1]
        ]
        known = self._rows_by_file(
            "select source_file, size_bytes, mtime_ns, checksum, rows_read, loaded_at"
            " from raw._load_manifest where table_name = $table_name"
        )
        failed = self._rows_by_file(
            "select source_file, size_bytes, mtime_ns, checksum, problem, message"
            " from raw._open_failures where table_name = $table_name"
        )
        result = TableLoad(self.table.name)
        # A failed file that is no longer delivered needs no attention (whatever its day).
        gone = sorted(f for f in failed if not os.path.lexists(self.landing_dir / f))
        if gone:
            self._resolve(gone)
            result.cleared += [f"landing/{f}: removed: its failure is cleared" for f in gone]

        def report(outcome: FileOutcome) -> None:
            result.outcomes.append(outcome)
            if progress:
                progress(len(result.outcomes), len(files), outcome)

        pending: list[_Pending] = []
        for landing_file in files:
            key = landing_file.source_file
            outcome = self._triage(landing_file, known.get(key), failed.get(key), pending)
            if outcome is not None:
                if outcome.status == "unchanged" and key in failed:
                    # back at the version that loaded: the failure of the other one is over
                    self._resolve([key])
                    result.cleared.append(
                        f"landing/{key}: back to the version loaded before: "
                        f"its failure ({failed[key][3]}) is cleared"
                    )
                report(outcome)
        for batch in _batches(pending):
            for outcome in self._load_batch(batch):
                report(outcome)
        order = {f.source_file: i for i, f in enumerate(files)}
        result.outcomes.sort(key=lambda o: order[o.source_file])
        return result

    def _rows_by_file(self, sql: str) -> dict[str, tuple]:
        rows = self.con.execute(sql, {"table_name": self.table.name}).fetchall()
        return {row[0]: row[1:] for row in rows}

    def _resolve(self, source_files: list[str]) -> None:
        TEMPLATES.execute(
            self.con,
            "resolve_failures.sql",
            {"source_files": source_files, "resolved_at": datetime.now(UTC)},
        )

    def _shrink_confirmed(self, landing_file: LandingFile, known: tuple | None) -> bool:
        """Whether the producer confirmed, after the earlier delivery loaded, that the file's
        day folder may shrink: a marker left from an earlier re-delivery does not count."""
        if known is None:
            return True  # a first delivery replaces nothing
        marker = landing_file.path.with_name(SHRINK_MARKER)
        try:
            written = datetime.fromtimestamp(marker.stat().st_mtime, UTC)
        except FileNotFoundError:
            return False
        return written > known[4]

    def _shrunk(self, params: dict, rows_read: int, rows_before: int, loaded_before: datetime):
        """The failure of a re-delivery that drops most of its earlier rows, unconfirmed."""
        folder = PurePosixPath(params["source_file"]).parent
        return FileLoadError(
            FileProblem.SHRUNK_REDELIVERY,
            f"holds {rows_read:,} rows where the delivery it would replace (loaded "
            f"{loaded_before.astimezone(UTC):%Y-%m-%d %H:%M} UTC) held {rows_before:,}; the "
            "earlier rows stay loaded. If the smaller file is right, confirm it: create an "
            f"empty file landing/{folder}/{SHRINK_MARKER} (after this file) and refresh again",
        )

    def _triage(
        self,
        landing_file: LandingFile,
        known: tuple | None,
        last_failure: tuple | None,
        pending: list[_Pending],
    ) -> FileOutcome | None:
        """The outcome of a file decided without reading its rows; None when it joins
        ``pending`` to be loaded."""
        source_file = landing_file.source_file
        path = landing_file.path
        stat = path.stat() if landing_file.problem is None else path.lstat()
        params = {
            "source_file": source_file,
            "table_name": self.table.name,
            "business_date": landing_file.business_date and landing_file.business_date.isoformat(),
            "size_bytes": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "run_id": self.run_id,
            "checksum": None,
        }
        if landing_file.problem is not None:
            if last_failure and last_failure[:2] == (stat.st_size, stat.st_mtime_ns):
                return FileOutcome(
                    source_file, "failed", problem=last_failure[3], message=last_failure[4]
                )
            return self._record_failure(
                params, FileLoadError(FileProblem.UNSUPPORTED_NAME, landing_file.problem)
            )
        if known and known[:2] == (stat.st_size, stat.st_mtime_ns):
            return FileOutcome(source_file, "unchanged")
        params["checksum"] = _checksum(path)
        if known and known[2] == params["checksum"]:
            TEMPLATES.execute(self.con, "touch_manifest.sql", params)
            return FileOutcome(source_file, "unchanged")
        confirmed = self._shrink_confirmed(landing_file, known)
        # A failed file is not retried unchanged, unless the producer has since confirmed a
        # shrunk re-delivery.
        if (
            last_failure
            and last_failure[2] == params["checksum"]
            and not (last_failure[3] == FileProblem.SHRUNK_REDELIVERY and confirmed)
        ):
            return FileOutcome(
                source_file, "failed", problem=last_failure[3], message=last_failure[4]
            )
        now = datetime.now(UTC)
        day_start = datetime.combine(landing_file.business_date, time(), tzinfo=UTC)
        params["not_after"] = min(day_start + _FUTURE_GRACE, now + timedelta(hours=1))
        try:
            # zero bytes, or a compressed file that holds no record: an empty delivery
            header = None if stat.st_size == 0 else self._check_header(landing_file)
        except FileLoadError as error:
            return self._record_failure(params, error)
        except duckdb.Error as error:
            return self._record_failure(params, _unreadable(error))
        if header is not None:
            pending.append(
                _Pending(landing_file, params, tuple(header), known is not None, confirmed)
            )
            return None
        if known and not confirmed and known[3] * (1 - self.max_redelivery_drop) > 0:
            return self._record_failure(params, self._shrunk(params, 0, known[3], known[4]))
        params["loaded_at"] = now
        with self._transaction():
            TEMPLATES.execute(self.con, "record_empty.sql", params, table=self.table)
        return FileOutcome(source_file, "empty")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.con.begin()
        try:
            yield
        except BaseException:
            self.con.rollback()
            raise
        self.con.commit()

    def _load_batch(self, batch: list[_Pending]) -> list[FileOutcome]:
        """Read, check and load a batch of files in one transaction."""
        params = {
            "paths": [str(item.landing_file.path) for item in batch],
            "source_files": [item.params["source_file"] for item in batch],
            "business_dates": [item.params["business_date"] for item in batch],
            "not_afters": [item.params["not_after"].isoformat() for item in batch],
            "sizes": [item.params["size_bytes"] for item in batch],
            "mtimes": [item.params["mtime_ns"] for item in batch],
            "checksums": [item.params["checksum"] for item in batch],
            "shrink_confirmed": [item.shrink_confirmed for item in batch],
            "columns": {name: "VARCHAR" for name, _ in batch[0].header},
            "table_name": self.table.name,
            "run_id": self.run_id,
            "loaded_at": datetime.now(UTC),
        }
        context = {
            "table": self.table,
            "format": batch[0].landing_file.format,
            "delivered_before": any(item.delivered_before for item in batch),
        }
        try:
            with self._transaction():
                for name in ("create_batch.sql", "stage_file.sql", "check_rows.sql"):
                    TEMPLATES.execute(self.con, name, params, **context)
                TEMPLATES.execute(self.con, "count_batch_rows.sql", params)
                failures = self._fail_shrunk(batch) if context["delivered_before"] else []
                for name in ("load_file.sql", "record_load.sql"):
                    TEMPLATES.execute(self.con, name, params, **context)
        except duckdb.Error as error:
            if len(batch) > 1:  # find the file that cannot be read: load each on its own
                return [outcome for item in batch for outcome in self._load_batch([item])]
            return [self._record_failure(batch[0].params, _unreadable(error))]
        failed = {outcome.source_file for outcome in failures}
        rows = self.con.execute(
            "select source_file, status, rows_read, rows_loaded, rows_rejected"
            " from raw._load_manifest where source_file in (select unnest($files))",
            {"files": [f for f in params["source_files"] if f not in failed]},
        ).fetchall()
        return failures + [FileOutcome(*row) for row in rows]

    def _fail_shrunk(self, batch: list[_Pending]) -> list[FileOutcome]:
        """Take the batch's unconfirmed re-deliveries that drop most of their earlier rows out
        of it, each recorded as failed; the rest of the batch loads."""
        shrunk = self.con.execute(
            statement("shrunk_files.sql"), {"max_drop": self.max_redelivery_drop}
        ).fetchall()
        if not shrunk:
            return []
        TEMPLATES.execute(
            self.con, "drop_from_batch.sql", {"source_files": [row[0] for row in shrunk]}
        )
        by_file = {item.params["source_file"]: item for item in batch}
        return [
            self._record_failure(by_file[name].params, self._shrunk(by_file[name].params, *row))
            for name, *row in shrunk
        ]

    def _check_header(self, landing_file: LandingFile) -> list[tuple[str, str | None]] | None:
        """The file's columns, each with its type where the file declares one (Parquet); None
        for a CSV without any record. Raises when a contract column is missing."""
        if landing_file.format == "csv":
            names = _csv_header(landing_file.path)
            if names is None:
                return None
            header = [(name, None) for name in names]
        else:
            header = self.con.execute(
                statement("read_header.sql", format=landing_file.format),
                {"path": str(landing_file.path)},
            ).fetchall()
        present = {name for name, _ in header}
        missing = [c for c in self.table.column_names if c not in present]
        if missing:
            unexpected = sorted(present - set(self.table.column_names))
            hint = f" (it has unexpected column(s) {', '.join(unexpected)})" if unexpected else ""
            raise FileLoadError(
                FileProblem.MISSING_COLUMN,
                f"missing required column(s) {', '.join(missing)}{hint}",
            )
        return header

    def _record_failure(self, params: dict, error: FileLoadError) -> FileOutcome:
        message = f"landing/{params['source_file']}: {error.problem}: {error}"
        TEMPLATES.execute(
            self.con,
            "record_failure.sql",
            params
            | {"problem": str(error.problem), "message": message, "failed_at": datetime.now(UTC)},
        )
        return FileOutcome(
            params["source_file"], "failed", problem=str(error.problem), message=message
        )


def absent_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Contract tables that have never delivered a file: absent, not failing."""
    rows = con.execute(statement("absent_sources.sql"), {"tables": list(tables())}).fetchall()
    return sorted(name for (name,) in rows)


def recorded_files(con: duckdb.DuckDBPyConnection) -> dict[str, set[tuple[int, int]]]:
    """Per landing file (``source_file``), the (size, mtime_ns) it had when it was last loaded
    or last failed to load; empty when nothing was ever loaded (no bookkeeping tables yet)."""
    try:
        rows = con.execute(statement("recorded_files.sql")).fetchall()
    except duckdb.CatalogException:
        return {}
    recorded: dict[str, set[tuple[int, int]]] = {}
    for source_file, size, mtime_ns in rows:
        recorded.setdefault(source_file, set()).add((size, mtime_ns))
    return recorded
