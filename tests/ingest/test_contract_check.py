"""The raw `contract` check: which problems block publication and which only warn (as the
quality policy says)."""

from dataclasses import replace
from datetime import date

import dagster as dg
import pytest

from dagster_project.ingest import contract
from dagster_project.ingest.assets import evaluate_contract
from dagster_project.ingest.landing_days import missing_days
from dagster_project.quality.contract import contract_verdict
from dagster_project.quality.policy import current
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


def test_the_policy_decides_what_blocks(con, landing, with_parents):
    """Orphans and a few rejected rows warn under policy.yml; a policy that makes them block
    fails the same check at ERROR severity, with the same messages."""
    deliver(landing, "order_items", "items.csv", items(200, bad=2, product="P404"))
    load(con, landing, "order_items")
    messages = [
        "raw.order_items: 2 rows rejected (1.00%): see `kpi status --rejects order_items`",
        "raw.order_items: 198 rows whose product_id has no products.product_id",
    ]
    result = check(con)
    assert (result.severity, result.description) == (WARN, "; ".join(messages))
    policy = current()
    strict = replace(
        policy,
        contract={**policy.contract, "orphan_foreign_key": "block", "rejected_rows": "block"},
    )
    table = contract.table("order_items")
    result = evaluate_contract(con, table, 0.01, policy=strict)
    assert (result.passed, result.severity, result.description) == (
        False,
        ERROR,
        "; ".join(messages),
    )
    assert contract_verdict(con, table, 0.01, policy=strict).blocking == messages
    assert contract_verdict(con, table, 0.01).blocking == []
    # and a failed file that only warns lets the table through
    lenient = replace(policy, contract={**policy.contract, "failed_file": "warn"})
    deliver(landing, "order_items", "broken.csv", "order_id,line_number\nO1,1\n")
    load(con, landing, "order_items")
    assert check(con).severity == ERROR
    assert evaluate_contract(con, table, 0.01, policy=lenient).severity == WARN


def test_the_check_describes_the_policy():
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    spec = graph.get_check_spec(dg.AssetCheckKey(dg.AssetKey(["raw", "orders"]), "contract"))
    assert spec.description == current().contract_description()
    assert spec.description.startswith("Blocks publication on a delivered file that failed")


def test_a_file_that_failed_to_load_blocks(con, landing, with_parents):
    deliver(landing, "order_items", "items.csv", items(200))
    deliver(landing, "order_items", "broken.csv", "order_id,line_number\nO1,1\n")
    load(con, landing, "order_items")
    result = check(con)
    assert (result.passed, result.severity) == (False, ERROR)
    assert "broken.csv" in result.metadata["failures"].value
    assert result.description.startswith(
        "landing/order_items/dt=2025-06-01/broken.csv: missing_column: missing required column"
    )


def test_the_check_says_why_it_blocks_and_why_it_warns(con, landing, with_parents):
    deliver(landing, "order_items", "items.csv", items(200, bad=2))
    load(con, landing, "order_items")
    assert check(con).description == (
        "raw.order_items: 2 rows rejected (1.00%): see `kpi status --rejects order_items`"
    )
    assert check(con, threshold=0.005).description == (
        "raw.order_items: 2 of 200 rows rejected (1.00%), more than KPI_MAX_REJECTED_SHARE "
        "0.50%: see `kpi status --rejects order_items`"
    )


def test_a_day_without_a_file_of_a_daily_source_blocks(con, landing, with_parents):
    deliver(landing, "order_items", "items.csv", items(200))
    load(con, landing, "order_items")
    missing = [date(2025, 6, 2), date(2025, 6, 3), date(2025, 6, 5)]
    result = evaluate_contract(con, contract.table("order_items"), 0.01, missing)
    assert (result.passed, result.severity) == (False, ERROR)
    assert result.description == (
        "landing/order_items/: no file for business days 2025-06-02 .. 2025-06-03, 2025-06-05 "
        "(if a day really had nothing to deliver, write an empty landing/_SUCCESS/dt=<day>)"
    )
    one_day = evaluate_contract(con, contract.table("order_items"), 0.01, missing[:1])
    assert one_day.description == (
        "landing/order_items/dt=2025-06-02/: no file for business day 2025-06-02 (if the day "
        "really had nothing to deliver, write an empty landing/_SUCCESS/dt=2025-06-02)"
    )
    assert result.metadata["missing_days"].value == ["2025-06-02", "2025-06-03", "2025-06-05"]


def test_missing_days_are_days_of_a_started_daily_source_without_file_or_marker(landing):
    for day in ("2025-06-02", "2025-06-04"):
        deliver(landing, "orders", "orders.csv", "order_id\n", day=day)
    (landing / "orders" / "dt=2025-06-06").mkdir()  # an empty folder delivers nothing
    deliver(landing, "refunds", "refunds.csv", "refund_id\n", day="2025-06-02")
    (landing / "_SUCCESS").mkdir()
    (landing / "_SUCCESS" / "dt=2025-06-05").touch()

    def missing(table, first, last):
        return [str(d) for d in missing_days(landing, table, date(*first), date(*last))]

    # before its first file a source had not started; the marker covers 06-05
    assert missing("orders", (2025, 6, 1), (2025, 6, 7)) == [
        "2025-06-03",
        "2025-06-06",
        "2025-06-07",
    ]
    assert missing("orders", (2025, 6, 4), (2025, 6, 4)) == []
    assert missing("refunds", (2025, 6, 1), (2025, 6, 7)) == []  # not a daily source
    assert missing("sessions", (2025, 6, 1), (2025, 6, 7)) == []  # never delivered: absent
