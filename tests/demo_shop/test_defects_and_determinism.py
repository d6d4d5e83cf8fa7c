"""Determinism, re-runs into an existing folder, and the defect files the registry promises."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zlib
from datetime import date, timedelta
from pathlib import Path

import pytest

from dagster_project.ingest import contract
from dagster_project.ingest.reasons import FileProblem, Flag, RowReason
from demo_shop import GenerationSummary, generate
from demo_shop.defects import DEFECTS, Defect, folder_day
from demo_shop.timeline import Timeline

SMALL = {"start": date(2025, 10, 20), "days": 30, "sessions_per_day": 400, "seed": 7}


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def with_defects(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("with_defects")
    return out, generate(out, defects=list(DEFECTS), **SMALL)


def test_same_arguments_give_identical_bytes(
    tmp_path: Path, with_defects: tuple[Path, GenerationSummary]
) -> None:
    first, summary = with_defects
    second = tmp_path / "second"
    generate(second, defects=list(DEFECTS), **SMALL)
    assert _digests(first) == _digests(second)
    assert len(_digests(first)) == len(summary.files) + len(summary.defect_files)


def test_defects_only_add_files(
    tmp_path: Path, with_defects: tuple[Path, GenerationSummary]
) -> None:
    """Clean files are the same with or without defects; a re-run replaces its own files."""
    dirty, summary = with_defects
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "README.txt").write_text("not the generator's")  # must survive a run
    generate(clean, defects=["empty_file"], **SMALL)
    generate(clean, **SMALL)  # the re-run removes the earlier defect file
    defect_names = {str(p.relative_to(dirty)) for p in summary.defect_files}
    expected = {k: v for k, v in _digests(dirty).items() if k not in defect_names}
    expected["README.txt"] = hashlib.sha256(b"not the generator's").hexdigest()
    assert _digests(clean) == expected


def test_unknown_defect_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="valid defects"):
        generate(tmp_path, defects=["duplicates", "gremlins"], **SMALL)


def test_registry_outcomes_are_consistent() -> None:
    for defect in DEFECTS.values():
        outcomes = [defect.row_reason, defect.file_problem, defect.flag]
        assert sum(o is not None for o in outcomes) == 1, defect.name
        assert defect.table in contract.tables()
        if defect.file_problem:
            assert defect.rows_loaded == defect.rows_rejected == 0
        else:
            assert defect.rows_loaded + defect.rows_rejected == defect.rows_in_file


def _path(out: Path, defect: Defect) -> Path:
    timeline = Timeline(SMALL["start"], SMALL["days"], "Asia/Shanghai")
    dt = SMALL["start"] + timedelta(days=folder_day(timeline))
    return out / defect.table / f"dt={dt.isoformat()}" / defect.file_name


@pytest.mark.parametrize("name", list(DEFECTS))
def test_defect_file_plants_what_the_registry_says(
    name: str, with_defects: tuple[Path, GenerationSummary]
) -> None:
    out, summary = with_defects
    defect = DEFECTS[name]
    path = _path(out, defect)
    assert path in summary.defect_files
    data = path.read_bytes()
    columns = list(contract.table(defect.table).column_names)

    if defect.flag is Flag.EMPTY_FILE:
        assert data == b""
        return
    if defect.file_problem is FileProblem.UNREADABLE:
        with pytest.raises((EOFError, zlib.error, OSError)):
            gzip.decompress(data)
        return

    header, *rows = list(csv.reader(io.StringIO(data.decode())))
    if defect.file_problem is FileProblem.MISSING_COLUMN:
        assert set(columns) - set(header), "a contract column must be missing"
        assert len(rows) == defect.rows_in_file
        assert all(len(r) == len(header) for r in rows)
        return

    assert header == columns
    assert len(rows) == defect.rows_in_file
    key = [columns.index(k) for k in contract.table(defect.table).key]
    if defect.row_reason is RowReason.MALFORMED_LINE:
        assert sum(len(r) > len(header) for r in rows) == defect.rows_rejected
    elif defect.row_reason is RowReason.DUPLICATE_KEY:
        keys = [tuple(r[i] for i in key) for r in rows]
        assert len(keys) - len(set(keys)) == defect.rows_rejected
    elif defect.row_reason is RowReason.NULL_KEY:
        assert sum(any(r[i] == "" for i in key) for r in rows) == defect.rows_rejected
    elif defect.row_reason is RowReason.OUT_OF_RANGE:
        quantity = columns.index("quantity")
        assert sum(int(r[quantity]) < 1 for r in rows) == defect.rows_rejected
    elif defect.row_reason is RowReason.FUTURE_TIMESTAMP:
        started = columns.index("started_at")
        folder = date.fromisoformat(path.parent.name.removeprefix("dt="))
        late = [date.fromisoformat(r[started][:10]) - folder >= timedelta(days=30) for r in rows]
        assert sum(late) == defect.rows_rejected
    elif defect.flag is Flag.ORPHAN_FOREIGN_KEY:
        clean_orders = {
            line.split(",")[0].strip('"')
            for p in (out / "orders").rglob("orders.csv")
            for line in p.read_text().splitlines()[1:]
        }
        order = columns.index("order_id")
        assert all(r[order] not in clean_orders for r in rows)
        assert len(rows) == defect.rows_loaded
    else:
        pytest.fail(f"no check for {name}")


def test_a_tiny_shop_with_days_without_orders_still_generates(tmp_path):
    """20 sessions a day leave some days without any order: purchase events must not assume one."""
    summary = generate(tmp_path, date(2025, 6, 1), 7, 20, seed=1)
    days_with_orders = {p.parent.name for p in (tmp_path / "orders").rglob("*.csv*")}
    days_with_events = {p.parent.name for p in (tmp_path / "events").rglob("*.csv*")}
    assert summary.total_rows > 0
    assert len(days_with_events) == 7
    assert len(days_with_orders) < 7  # the case this guards: a day without orders
