"""Hand-made deliveries for the ingestion tests."""

from pathlib import Path

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
