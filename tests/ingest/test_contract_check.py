"""The raw `contract` check: which problems block publication and which only warn."""

import dagster as dg
import pytest

from dagster_project.ingest import contract
from dagster_project.ingest.assets import evaluate_contract
from tests.ingest.helpers import ITEMS_HEADER, deliver, load

ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN


def items(count: int, bad: int = 0, product: str = "P1") -> str:
    lines = [f"O{i},1,{product},{-1 if i < bad else 1},1.00,0" for i in range(count)]
    return ITEMS_HEADER + "\n" + "\n".join(lines) + "\n"


def check(con, threshold=0.01):
    return evaluate_contract(con, contract.table("order_items"), threshold)


@pytest.fixture
def with_parents(con, landing):
    """Orders and products that the order lines below refer to."""
    orders = (
        "order_id,customer_id,session_id,ordered_at,status,platform,discount_amount,"
        "shipping_fee,tax_amount,coupon_code,updated_at\n"
        + "".join(
            f"O{i},C1,,2025-06-01T01:00:00Z,paid,web,0,0,0,,2025-06-01T01:00:00Z\n"
            for i in range(200)
        )
    )
    deliver(landing, "orders", "orders.csv", orders)
    load(con, landing, "orders")
    products = (
        "product_id,sku,name,category,subcategory,brand,supplier_id,unit_cost,"
        "list_price,launched_at,discontinued_at,updated_at\n"
        "P1,S1,Tea,food,tea,B,SUP1,1.00,2.00,2025-01-01T00:00:00Z,,2025-01-01T00:00:00Z\n"
    )
    deliver(landing, "products", "products.csv", products)
    load(con, landing, "products")


def test_clean_delivery_passes(con, landing, with_parents):
    deliver(landing, "order_items", "items.csv", items(200))
    load(con, landing, "order_items")
    assert check(con).passed


def test_few_rejected_rows_warn_and_many_block(con, landing, with_parents):
    deliver(landing, "order_items", "items.csv", items(200, bad=2))  # 1% rejected
    load(con, landing, "order_items")
    result = check(con)
    assert (result.passed, result.severity) == (False, WARN)
    assert check(con, threshold=0.005).severity == ERROR


def test_orphans_warn(con, landing, with_parents):
    deliver(landing, "order_items", "items.csv", items(200, product="P404"))
    load(con, landing, "order_items")
    result = check(con)
    assert (result.passed, result.severity) == (False, WARN)
    assert result.metadata["orphan_rows_by_column"].value == {"product_id": 200}


def test_a_file_that_failed_to_load_blocks(con, landing, with_parents):
    deliver(landing, "order_items", "items.csv", items(200))
    deliver(landing, "order_items", "broken.csv", "order_id,line_number\nO1,1\n")
    load(con, landing, "order_items")
    result = check(con)
    assert (result.passed, result.severity) == (False, ERROR)
    assert "broken.csv" in result.metadata["failures"].value
