"""Deliveries that arrive after their day was loaded, as a real shop's do: a late file, a file
delivered again changed, a product's cost and category version dated back, a customer's new
tier.

Each writes files in the generator's style (fields quoted, empty ones not) into a landing zone.
``SMALL_SHOP`` (tests/conftest.py) is built over its generated files with all of them
(``deliver_late_changes``); the nightly runs (tests/orchestration/test_nightly.py) receive
them run by run and must build and publish what that build does.
"""

import csv
import os
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

# A late paid order (2 units at 50.00, no session), delivered after its day was loaded
LATE_ORDER = (
    "order_id,customer_id,session_id,ordered_at,status,platform,discount_amount,shipping_fee,"
    "tax_amount,coupon_code,updated_at\n"
    '"O-LATE-1","C000000001",,"{day}T04:00:00Z","paid","web","0.00","0.00","0.00",,'
    '"{day}T04:00:00Z"\n'
)
LATE_ITEMS = (
    "order_id,line_number,product_id,quantity,unit_price,discount_amount\n"
    '"O-LATE-1","1","P00001","2","50.00","0.00"\n'
)
LATE_ORDER_GMV = 100
CHANGED_CUSTOMER = "C000000001"  # moves up to gold
LATE_FILE = "late.csv"


def _render(fields: list[str]) -> str:
    return ",".join(f'"{f}"' if f else "" for f in fields) + "\n"


def _newer_mtime(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def write_late_order(landing: Path, day: date) -> None:
    """Deliver LATE_ORDER late: a second file in ``day``'s orders and order_items folders."""
    (landing / "orders" / f"dt={day}" / LATE_FILE).write_text(LATE_ORDER.format(day=day))
    (landing / "order_items" / f"dt={day}" / LATE_FILE).write_text(LATE_ITEMS)


def redeliver_orders(landing: Path, day: date) -> dict:
    """Re-deliver ``orders/dt=<day>/`` changed: the discount of one paid order placed that day
    (whose newest version is in this file) goes up by 1.00; nothing else in the file changes,
    and the file gets a newer modification time."""
    folder = landing / "orders" / f"dt={day}"
    path = folder / "orders.csv"
    later = set()
    for other in (landing / "orders").glob("dt=*/*.csv"):
        if other.parent.name > folder.name:
            with other.open(newline="") as handle:
                later |= {r["order_id"] for r in csv.DictReader(handle)}
    lines = path.read_text().splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    column = header.index("discount_amount")
    for number, line in enumerate(lines[1:], start=1):
        fields = next(csv.reader([line]))
        row = dict(zip(header, fields, strict=True))
        ordered = datetime.fromisoformat(row["ordered_at"].replace("Z", "+00:00"))
        if (
            ordered.date() == day
            and ordered.hour < 15  # the same business day in Asia/Shanghai (UTC+8)
            and row["order_id"] not in later
            and row["status"] in ("paid", "shipped", "delivered")
        ):
            assert _render(fields) == line, f"cannot re-render {line!r}"
            before = fields[column]
            fields[column] = f"{Decimal(before) + 1:.2f}"
            lines[number] = _render(fields)
            break
    else:
        raise AssertionError(f"no order placed on {day} whose last version is in {path}")
    path.write_text("".join(lines))
    _newer_mtime(path)
    return {
        "file": path.relative_to(landing).as_posix(),
        "order_id": row["order_id"],
        "discount_before": before,
        "discount_after": fields[column],
    }


def _newest_row(landing: Path, table: str, key: str, value: str) -> tuple[list[str], dict]:
    """The header of ``table``'s files and the newest version (``updated_at``) of a row."""
    rows = []
    for path in sorted((landing / table).glob("dt=*/*.csv")):
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            rows += [row for row in reader if row[key] == value]
    assert rows, f"no {table} row with {key} {value}"
    return header, max(rows, key=lambda row: row["updated_at"])


def _first_row(landing: Path, table: str, column: str, wanted) -> dict:
    """The first row of ``table``'s files (in file order) whose ``column`` is ``wanted``."""
    for path in sorted((landing / table).glob("dt=*/*.csv")):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                if wanted(row[column]):
                    return row
    raise AssertionError(f"no {table} row with the {column} wanted")


def _write_version(landing: Path, table: str, day: date, header: list[str], row: dict) -> None:
    path = landing / table / f"dt={day}" / LATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_render(header) + _render([row[column] for column in header]))


def _best_seller(landing: Path, first: date, last: date) -> str:
    """The product with the most order lines delivered from ``first`` to ``last``."""
    lines: Counter[str] = Counter()
    for path in (landing / "order_items").glob("dt=*/*.csv"):
        if str(first) <= path.parent.name.removeprefix("dt=") <= str(last):
            with path.open(newline="") as handle:
                lines.update(row["product_id"] for row in csv.DictReader(handle))
    assert lines, f"no order line delivered from {first} to {last}"
    return min(lines, key=lambda product: (-lines[product], product))


def write_product_version(landing: Path, day: date, effective: date) -> dict[str, str]:
    """Deliver on ``day`` a version dated back to ``effective`` of the product with the most
    order lines delivered from ``effective`` to two days before ``day`` (lines that runs before
    ``day`` built): its cost doubles and it moves to another category (the first other
    product's category and subcategory). The version written."""
    product_id = _best_seller(landing, effective, day - timedelta(days=2))
    header, product = _newest_row(landing, "products", "product_id", product_id)
    # so that the version written is the product's newest: its current category, and its
    # cost for every order from ``effective`` on
    assert product["updated_at"] < f"{effective}", product
    other = _first_row(landing, "products", "category", lambda c: c != product["category"])
    changed = product | {
        "category": other["category"],
        "subcategory": other["subcategory"],
        "unit_cost": f"{Decimal(product['unit_cost']) * 2:.2f}",
        "updated_at": f"{effective}T00:00:00Z",
    }
    _write_version(landing, "products", day, header, changed)
    return changed


def write_tier_change(landing: Path, day: date) -> None:
    """Deliver on ``day`` a version of CHANGED_CUSTOMER who moved up to the gold tier."""
    header, customer = _newest_row(landing, "customers", "customer_id", CHANGED_CUSTOMER)
    assert customer["member_tier"] != "gold", customer
    changed = customer | {"member_tier": "gold", "updated_at": f"{day}T01:00:00Z"}
    _write_version(landing, "customers", day, header, changed)


def deliver_late_changes(landing: Path, start: date, days: int) -> None:
    """All of them, as the nightly runs receive them: on the last day the product's version
    (category and cost) dated back to the second day and the customer's new tier; then, for the
    day before it, a late order and that day's orders again, changed. (The re-delivered file
    changes an order placed that day whose newest version it holds: in a small shop most orders
    placed earlier change status again later.)"""
    last = start + timedelta(days=days - 1)
    write_late_order(landing, last - timedelta(days=1))
    redeliver_orders(landing, last - timedelta(days=1))
    write_product_version(landing, last, effective=start + timedelta(days=1))
    write_tier_change(landing, last)
