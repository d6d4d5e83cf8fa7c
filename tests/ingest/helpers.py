"""Hand-made deliveries for the ingestion tests."""

import os
from pathlib import Path

import pytest

from dagster_project.ingest import contract
from dagster_project.ingest.loader import TableLoad, TableLoader

ITEMS_HEADER = "order_id,line_number,product_id,quantity,unit_price,discount_amount"


def deliver(landing: Path, table: str, name: str, content: str | bytes, day="2025-06-01"):
    """Write one landing file as a source system would."""
    path = landing / table / f"dt={day}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def load(con, landing, table: str, run_id="run-1") -> TableLoad:
    return TableLoader(con, landing, contract.table(table), run_id).load()


def raw_row_counts(con, table: contract.Table) -> tuple[int, int, int]:
    """raw.<table>'s rows, its distinct (key, file) pairs, and the rows its manifest says were
    loaded: all three equal when nothing was duplicated or lost."""
    key = ", ".join(table.key)
    rows, distinct = con.execute(
        f"select count(*), count(distinct ({key}, _source_file)) from raw.{table.name}"
    ).fetchall()[0]
    ((loaded,),) = con.execute(
        "select coalesce(sum(rows_loaded), 0) from raw._load_manifest where table_name = $t",
        {"t": table.name},
    ).fetchall()
    return rows, distinct, loaded


# The public Olist 2017 subset, beside the repository (never copied into it): ../shared/data/olist
# from the repository's root, or where KPI_TEST_OLIST_DIR says (a clone elsewhere).
OLIST = Path(
    os.environ.get("KPI_TEST_OLIST_DIR")
    or Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "olist"
)


def export_dir() -> Path:
    """The Olist export, which the tests need: missing, they fail (they never skip)."""
    from dagster_project.ingest.adapters.olist import EXPORT

    missing = [name for name, _ in EXPORT.values() if not (OLIST / name).is_file()]
    if missing:
        pytest.fail(
            f"the Olist export is missing from {OLIST.resolve()} ({', '.join(missing)}): "
            "these tests read the public dataset there (see its SOURCE.md; KPI_TEST_OLIST_DIR "
            "points elsewhere)"
        )
    return OLIST
