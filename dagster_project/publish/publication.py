"""Write-audit-publish: copy the audited marts into a new file and swap it in atomically.

Readers only ever open ``published/kpi_mart.duckdb`` (read-only) or ``published/parquet/``.
A publication is built beside them under a temporary name, closed, flushed to disk and then
renamed over the old one, so a reader sees either the previous publication or the new one,
never a half-written file. Nothing here writes to a file a reader has open.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from dagster_project.core import warehouse
from dagster_project.core.settings import Settings
from dagster_project.ingest.loader import absent_sources
from dagster_project.publish.sql_files import TEMPLATES, statement

# Files of this storage version open in DuckDB 1.0 and later, which is what BI drivers bundle
# (the JDBC/ODBC drivers, DBeaver, Metabase and Superset connectors), not only DuckDB 2.0.
STORAGE_VERSION = "v1.0.0"
PUBLISHED_FILE = "kpi_mart.duckdb"
PARQUET_DIR = "parquet"


@dataclass(frozen=True)
class GateResult:
    """What a publication logs of the gate's verdict on its run (quality/verdict.py): the checks
    that passed, the blocking ones that failed, and the warnings."""

    checks_passed: int
    failed_checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # checks that failed at WARN severity
    reasons: dict[str, str] = field(default_factory=dict)  # check -> what it found

    def explained(self, labels: list[str]) -> list[str]:
        """Each check with what it found, where it said."""
        return [
            f"{label}: {self.reasons[label]}" if label in self.reasons else label
            for label in labels
        ]


@dataclass(frozen=True)
class Publication:
    run_id: str
    as_of_date: date | None
    path: Path
    rows_per_table: dict[str, int]
    absent_sources: list[str]
    absent_kpis: list[str]


def is_published(table: str) -> bool:
    """Publications hold the KPI marts and the dimensions BI joins them with; facts stay in
    the build warehouse (large, and not a reading surface)."""
    return table.startswith(("kpi_", "dim_"))


def published_path(settings: Settings) -> Path:
    return settings.published_dir / PUBLISHED_FILE


def _ensure_log(settings: Settings) -> None:
    """The build's publication log; a new build (a full rebuild after deleting build.duckdb)
    starts from the history the current publication carries, so none of it is lost."""
    with warehouse.connect(settings) as con:
        TEMPLATES.execute(con, "create_publication_log.sql", {})
        ((entries,),) = con.execute("select count(*) from audit.publication_log").fetchall()
        if entries == 0 and published_path(settings).exists():
            TEMPLATES.execute(
                con, "restore_publication_log.sql", {"published": str(published_path(settings))}
            )


def _record(settings: Settings, **values: object) -> None:
    with warehouse.connect(settings) as con:
        TEMPLATES.execute(con, "create_publication_log.sql", {})
        TEMPLATES.execute(con, "record_publication.sql", values)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def publish(settings: Settings, run_id: str, gate: GateResult) -> Publication:
    """Publish the build's marts; ``gate`` is the verdict of the run, which passed (the
    publication step runs only then)."""
    started_at = datetime.now(UTC)
    _ensure_log(settings)
    with warehouse.connect(settings, read_only=True) as build:
        absent = absent_sources(build)
        absent_kpis = [
            kpi_id for (kpi_id,) in build.execute(statement("absent_kpis.sql")).fetchall()
        ]
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    staging_file = settings.published_dir / f".{PUBLISHED_FILE}.{run_id}.tmp"
    staging_parquet = settings.published_dir / f".{PARQUET_DIR}.{run_id}.tmp"
    for leftover in settings.published_dir.glob(".*.tmp*"):  # also those of a killed run
        _remove(leftover)
    staging_parquet.mkdir()

    con = duckdb.connect(config=settings.duckdb_config())
    try:
        con.execute("set TimeZone = 'UTC'")
        TEMPLATES.execute(
            con,
            "attach.sql",
            {"build_db": str(settings.build_db), "publication_file": str(staging_file)},
            storage_version=STORAGE_VERSION,
        )
        # Table names come from the build's own catalogue, never from input files.
        tables = [
            name
            for (name,) in con.execute(statement("published_tables.sql")).fetchall()
            if is_published(name)
        ]
        as_of_date = con.execute(statement("as_of_date.sql")).fetchall()[0][0]
        rows_per_table = {}
        for table in tables:
            TEMPLATES.execute(
                con,
                "copy_table.sql",
                {"path": str(staging_parquet / f"{table}.parquet")},
                table=table,
            )
            rows_per_table[table] = con.execute(
                statement("count_rows.sql", table=table)
            ).fetchall()[0][0]
        entry = {
            "run_id": run_id,
            "as_of_date": as_of_date,
            "started_at": started_at,
            "finished_at": datetime.now(UTC),
            "checks_passed": gate.checks_passed,
            "checks_failed": 0,
            "failed_checks": [],
            "warnings": gate.explained(gate.warnings),
            "rows_per_table": rows_per_table,
            "absent_sources": absent,
            "absent_kpis": absent_kpis,
            "outcome": "published",
            "message": _absent_message(absent, absent_kpis),
        }
        TEMPLATES.execute(
            con,
            "copy_publication_log.sql",
            entry | {"path": str(staging_parquet / "publication_log.parquet")},
        )
        con.execute("detach publication")
    except BaseException:
        con.close()
        for leftover in (staging_file, staging_parquet):
            _remove(leftover)
        raise
    con.close()

    _fsync(staging_file)
    os.replace(staging_file, published_path(settings))
    _swap_directory(staging_parquet, settings.published_dir / PARQUET_DIR)
    _record(settings, **entry)
    return Publication(
        run_id, as_of_date, published_path(settings), rows_per_table, absent, absent_kpis
    )


def record_blocked(settings: Settings, run_id: str, gate: GateResult, message: str) -> None:
    """Log a refused publication in the build warehouse; the published files are untouched."""
    _ensure_log(settings)
    now = datetime.now(UTC)
    _record(
        settings,
        run_id=run_id,
        as_of_date=None,
        started_at=now,
        finished_at=now,
        checks_passed=gate.checks_passed,
        checks_failed=len(gate.failed_checks),
        failed_checks=gate.failed_checks,
        warnings=gate.explained(gate.warnings),
        rows_per_table=None,
        absent_sources=[],
        absent_kpis=[],
        outcome="blocked",
        message=message,
    )


def _absent_message(absent: list[str], absent_kpis: list[str]) -> str | None:
    if not absent:
        return None
    return (
        f"sources never delivered (absent): {', '.join(absent)}; "
        f"KPIs left out: {', '.join(absent_kpis) or 'none'}"
    )


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


_RENAME_EXCHANGE = 2  # renameat2(2) flag, Linux >= 3.15
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic rename; False where the system cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _swap_directory(new: Path, target: Path) -> None:
    """Put ``new`` in place of ``target`` atomically (readers never find no directory); the
    old one is removed afterwards. Without renameat2 a kill between two renames can leave no
    directory until the next publication."""
    old = target.with_name(f".{target.name}.old")
    _remove(old)  # left by a run killed in the fallback below
    if target.is_dir() and _exchange(new, target):
        _remove(new)  # now holds the previous publication
        return
    if target.exists():
        target.rename(old)
    new.rename(target)
    _remove(old)
