"""Selectable data defects, so tests and demos can show what the ingestion gate does.

Each defect is one EXTRA file ``defect-<name>.<ext>`` in the folder of the period's middle
business day (``folder_day``) of its table; clean files are never touched, so rows read =
clean rows + defect rows. Defect rows use fresh ids (``9…`` ranges the clean data never
reaches) unless the defect is about the ids themselves, so a defect collides with nothing
but what it plants. The registry states the exact expected outcome in ``reasons`` codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from dagster_project.ingest import contract
from dagster_project.ingest.reasons import FileProblem, Flag, RowReason

from .timeline import Timeline
from .writer import Column, csv_bytes, gzip_bytes

HOUR = 3600


@dataclass(frozen=True)
class Defect:
    """One selectable defect and the ingestion outcome it must produce.

    ``rows_in_file`` counts data lines (not the header). Exactly one of ``row_reason``
    (that many rows rejected, the rest loaded), ``file_problem`` (the whole file fails, no
    row loaded) or ``flag`` (rows loaded and flagged, or an empty file recorded) is set.
    """

    name: str
    table: str
    extension: str
    plants: str
    rows_in_file: int
    rows_loaded: int
    rows_rejected: int
    build: Callable[[Timeline, int], bytes]
    row_reason: RowReason | None = None
    file_problem: FileProblem | None = None
    flag: Flag | None = None

    @property
    def file_name(self) -> str:
        return f"defect-{self.name}.{self.extension}"


def folder_day(timeline: Timeline) -> int:
    """Business day index whose folders receive the defect files: the period's middle."""
    return timeline.days // 2


def _at(timeline: Timeline, day: int, hours: float) -> np.ndarray:
    return np.array([int(timeline.day_starts[day] + hours * HOUR)])


def _rows(table: str, columns: dict[str, Column], count: int) -> pa.Table:
    """A contract-ordered table of ``count`` rows; 1-row columns are repeated."""
    arrays = {}
    for name in contract.table(table).column_names:
        if name not in columns:
            continue
        column = columns[name]
        if len(column.values) == 1 and count > 1:
            column = column.take(np.zeros(count, dtype=np.int64))
        arrays[name] = column.as_text()
    return pa.table(arrays)


def _suppliers(first_id: int, count: int, timeline: Timeline, day: int) -> pa.Table:
    numbers = first_id + np.arange(count)
    return _rows(
        "suppliers",
        {
            "supplier_id": Column("id", numbers, prefix="SUP-", width=3),
            "name": Column("id", numbers, prefix="Defect Supplier ", width=3),
            "country": Column("text", pa.array(["CN"])),
            "updated_at": Column("timestamp", _at(timeline, day, 12)),
        },
        count,
    )


def _duplicates(timeline: Timeline, day: int) -> bytes:
    fresh = _suppliers(900, 6, timeline, day)
    return csv_bytes(pa.concat_tables([fresh, fresh.slice(0, 3)]), quote=True)


def _malformed_lines(timeline: Timeline, day: int) -> bytes:
    good = csv_bytes(_suppliers(920, 6, timeline, day), quote=True).decode()
    header, *lines = good.splitlines()
    extra = [line + ',"surplus","fields"' for line in lines[:3]]
    mixed = [lines[0], extra[0], lines[1], lines[2], extra[1], lines[3], lines[4], extra[2],
             lines[5]]  # fmt: skip
    return ("\n".join([header, *mixed]) + "\n").encode()


def _renamed_column(timeline: Timeline, day: int) -> bytes:
    arrow = _suppliers(950, 3, timeline, day)
    return csv_bytes(
        arrow.rename_columns(["supplier_id", "supplier_name", "country", "updated_at"]), quote=True
    )


def _null_keys(timeline: Timeline, day: int) -> bytes:
    count = 4
    return csv_bytes(
        _rows(
            "customers",
            {
                "customer_id": Column(
                    "id", np.zeros(count, np.int64), np.zeros(count, bool), prefix="C", width=9
                ),
                "visitor_id": Column("id", np.arange(count), prefix="V", width=10),
                "registered_at": Column("timestamp", _at(timeline, day, 10)),
                "email": Column("text", pa.array(["nobody@example.com"])),
                "phone": Column("text", pa.array(["13000000000"])),
                "city": Column("text", pa.array(["Shanghai"])),
                "member_tier": Column("text", pa.array(["none"])),
                "updated_at": Column("timestamp", _at(timeline, day, 10)),
            },
            count,
        ),
        quote=True,
    )


def _order_items(
    order: np.ndarray, line: np.ndarray, product: np.ndarray, quantity: np.ndarray
) -> pa.Table:
    return _rows(
        "order_items",
        {
            "order_id": Column("id", order, prefix="O", width=9),
            "line_number": Column("integer", line),
            "product_id": Column("id", product, prefix="P", width=5),
            "quantity": Column("integer", quantity),
            "unit_price": Column("amount", np.array([9900])),
            "discount_amount": Column("amount", np.array([0])),
        },
        len(order),
    )


def _orphan_foreign_keys(timeline: Timeline, day: int) -> bytes:
    count = 5
    arrow = _order_items(
        999_999_990 + np.arange(count),
        np.ones(count, np.int64),
        np.full(count, 99_999),
        np.ones(count, np.int64),
    )
    return csv_bytes(arrow, quote=True)


def _negative_quantities(timeline: Timeline, day: int) -> bytes:
    count = 4
    arrow = _order_items(
        np.zeros(count, np.int64),
        90 + np.arange(count),
        np.zeros(count, np.int64),
        -1 - np.arange(count),
    )
    return csv_bytes(arrow, quote=True)


def _future_timestamps(timeline: Timeline, day: int) -> bytes:
    count = 4
    arrow = _rows(
        "sessions",
        {
            "session_id": Column("id", 9_000_000_000 + np.arange(count), prefix="S", width=10),
            "visitor_id": Column("id", np.arange(count), prefix="V", width=10),
            "customer_id": Column(
                "id", np.zeros(count, np.int64), np.zeros(count, bool), prefix="C", width=9
            ),
            "started_at": Column("timestamp", _at(timeline, day, 40 * 24 + 12)),
            "platform": Column("text", pa.array(["web"])),
            "device": Column("text", pa.array(["desktop"])),
            "channel": Column("text", pa.array(["direct"])),
            "campaign_id": Column(
                "id", np.zeros(count, np.int64), np.zeros(count, bool), prefix="CMP-", width=2
            ),
            "landing_page": Column("text", pa.array(["/"])),
        },
        count,
    )
    return csv_bytes(arrow, quote=True)


def _missing_column(timeline: Timeline, day: int) -> bytes:
    count = 3
    numbers = 90_000 + np.arange(count)
    arrow = _rows(
        "products",
        {
            "product_id": Column("id", numbers, prefix="P", width=5),
            "sku": Column("id", numbers, prefix="SKU-D", width=5),
            "name": Column("id", numbers, prefix="Defect product ", width=5),
            "category": Column("text", pa.array(["Home"])),
            "subcategory": Column("text", pa.array(["Kitchen"])),
            "brand": Column("text", pa.array(["Hearth"])),
            "supplier_id": Column("id", np.zeros(count, np.int64), prefix="SUP-", width=3),
            "unit_cost": Column("amount", np.array([1000])),
            # list_price is left out: the defect.
            "launched_at": Column("timestamp", _at(timeline, day, 9)),
            "updated_at": Column("timestamp", _at(timeline, day, 9)),
        },
        count,
    )
    return csv_bytes(arrow, quote=True)


def _empty_file(timeline: Timeline, day: int) -> bytes:
    return b""


def _truncated_gzip(timeline: Timeline, day: int) -> bytes:
    count = 2_000  # enough that half the compressed stream ends mid-member
    arrow = _rows(
        "events",
        {
            "event_id": Column("id", 99_000_000_000 + np.arange(count), prefix="E", width=11),
            "session_id": Column("id", np.zeros(count, np.int64), prefix="S", width=10),
            "event_at": Column("timestamp", _at(timeline, day, 12)),
            "event_type": Column("text", pa.array(["page_view"])),
            "product_id": Column(
                "id", np.zeros(count, np.int64), np.zeros(count, bool), prefix="P", width=5
            ),
            "order_id": Column(
                "id", np.zeros(count, np.int64), np.zeros(count, bool), prefix="O", width=9
            ),
        },
        count,
    )
    whole = gzip_bytes(csv_bytes(arrow, quote=False))
    return whole[: len(whole) // 2]


DEFECTS: dict[str, Defect] = {
    d.name: d
    for d in (
        Defect("duplicates", "suppliers", "csv",
               "6 fresh suppliers (SUP-900..905), then exact repeats of the first 3 rows",
               rows_in_file=9, rows_loaded=6, rows_rejected=3, build=_duplicates,
               row_reason=RowReason.DUPLICATE_KEY),
        Defect("null_keys", "customers", "csv",
               "4 otherwise valid customers with an empty customer_id",
               rows_in_file=4, rows_loaded=0, rows_rejected=4, build=_null_keys,
               row_reason=RowReason.NULL_KEY),
        Defect("orphan_foreign_keys", "order_items", "csv",
               "5 lines of orders O999999990..994 and product P99999, which exist nowhere",
               rows_in_file=5, rows_loaded=5, rows_rejected=0, build=_orphan_foreign_keys,
               flag=Flag.ORPHAN_FOREIGN_KEY),
        Defect("negative_quantities", "order_items", "csv",
               "4 new lines (90..93) of order O000000000 with quantity -1..-4",
               rows_in_file=4, rows_loaded=0, rows_rejected=4, build=_negative_quantities,
               row_reason=RowReason.OUT_OF_RANGE),
        Defect("future_timestamps", "sessions", "csv",
               "4 fresh sessions (S9000000000..003) starting 40 days after the folder's day",
               rows_in_file=4, rows_loaded=0, rows_rejected=4, build=_future_timestamps,
               row_reason=RowReason.FUTURE_TIMESTAMP),
        Defect("renamed_column", "suppliers", "csv",
               "3 valid fresh suppliers (SUP-950..952) whose `name` header reads `supplier_name`",
               rows_in_file=3, rows_loaded=0, rows_rejected=0, build=_renamed_column,
               file_problem=FileProblem.MISSING_COLUMN),
        Defect("missing_column", "products", "csv",
               "3 fresh products (P90000..90002) without the list_price column",
               rows_in_file=3, rows_loaded=0, rows_rejected=0, build=_missing_column,
               file_problem=FileProblem.MISSING_COLUMN),
        Defect("malformed_lines", "suppliers", "csv",
               "6 valid fresh suppliers (SUP-920..925) mixed with 3 lines carrying 2 extra fields",
               rows_in_file=9, rows_loaded=6, rows_rejected=3, build=_malformed_lines,
               row_reason=RowReason.MALFORMED_LINE),
        Defect("empty_file", "refunds", "csv", "a zero-byte file",
               rows_in_file=0, rows_loaded=0, rows_rejected=0, build=_empty_file,
               flag=Flag.EMPTY_FILE),
        Defect("truncated_gzip", "events", "csv.gz",
               "2,000 fresh page views (E99000000000..) gzipped, cut after half the bytes",
               rows_in_file=2_000, rows_loaded=0, rows_rejected=0, build=_truncated_gzip,
               file_problem=FileProblem.UNREADABLE),
    )
}  # fmt: skip


def select(names: Iterable[str]) -> tuple[Defect, ...]:
    """The defects named, in registry order; unknown names raise ``ValueError``."""
    wanted = set(names)
    unknown = sorted(wanted - set(DEFECTS))
    if unknown:
        raise ValueError(f"unknown defect(s) {unknown}; valid defects: {sorted(DEFECTS)}")
    return tuple(d for name, d in DEFECTS.items() if name in wanted)


def write_defects(
    chosen: Iterable[Defect], timeline: Timeline, folder: Callable[[str, int], Path]
) -> list[Path]:
    """Write each chosen defect's extra file; returns the paths written."""
    day = folder_day(timeline)
    paths = []
    for defect in chosen:
        path = folder(defect.table, day) / defect.file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(defect.build(timeline, day))
        paths.append(path)
    return paths
