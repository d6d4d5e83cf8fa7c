"""Writing the shop's reference and stock tables once the day loop has run.

Customers, products, suppliers and purchase orders change over time and are re-delivered
(``versions``); inventory snapshots, experiments and assignments are plain daily extracts.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import catalog, formatting
from .shop import TIERS, Shop
from .versions import NEVER, versions
from .writer import Column, LandingWriter

CITIES = ("Shanghai", "Beijing", "Guangzhou", "Shenzhen", "Hangzhou", "Chengdu", "Wuhan",
          "Nanjing", "Xi'an", "Suzhou", "Chongqing", "Tianjin")  # fmt: skip
CITY_MIX = np.array([0.14, 0.12, 0.10, 0.10, 0.09, 0.08, 0.07, 0.07, 0.06, 0.06, 0.06, 0.05])
PROFILE_CHANGE = 0.10  # customers who later update their profile (moved city)


def write_dimensions(shop: Shop, writer: LandingWriter, rng: np.random.Generator) -> None:
    _write_customers(shop, writer, rng)
    _write_products(shop, writer)
    _write_suppliers(shop, writer)
    _write_purchase_orders(shop, writer)
    _write_inventory(shop, writer)
    _write_experiments(shop, writer)


def _write_customers(shop: Shop, writer: LandingWriter, rng: np.random.Generator) -> None:
    o = shop.out
    registered = o.get("cust_registered_at")
    n = len(registered)
    moved = rng.random(n) < PROFILE_CHANGE
    changed_at = np.where(moved, registered + rng.integers(5 * 86_400, 120 * 86_400, n), NEVER)
    city = rng.choice(len(CITIES), (n, 2), p=CITY_MIX)
    v = versions(np.column_stack([registered, changed_at]), shop.t)
    r = v.row
    email = pc.binary_join_element_wise(formatting.ids("user", r, 9), "@example.com", "")
    writer.write(
        "customers",
        {
            "customer_id": Column("id", r, prefix="C", width=9),
            "visitor_id": Column("id", shop.customer_visitor.data[r], prefix="V", width=10),
            "registered_at": Column("timestamp", registered[r]),
            "email": Column("text", email),
            "phone": Column(
                "id", 30_000_000_000 + (r * 7_919_113) % 9_000_000_000, prefix="1", width=10
            ),
            "city": Column("label", city[r, v.stage], labels=CITIES),
            "member_tier": Column("label", shop.customer_tier.data[r], labels=TIERS),
            "updated_at": Column("timestamp", v.at),
        },
        v.day,
    )


def _write_products(shop: Shop, writer: LandingWriter) -> None:
    p = shop.products
    t = shop.t
    start = int(t.day_starts[0])
    launched = np.where(
        p.launch_day < 0, start + p.launch_day * 86_400, t.day_starts[np.maximum(p.launch_day, 0)]
    )
    created = np.where(p.launch_day < 0, start + 60, t.day_starts[p.created_day] + 8 * 3600)
    stops = p.discontinued_day < t.days
    discontinued = np.where(stops, t.day_starts[np.minimum(p.discontinued_day, t.days)], NEVER)
    v = versions(np.column_stack([created, discontinued]), t)
    r = v.row
    writer.write(
        "products",
        {
            "product_id": Column("id", r, prefix="P", width=5),
            "sku": Column("id", 100_000 + r * 37, prefix="SKU-", width=6),
            "name": Column("text", p.name.take(pa.array(r))),
            "category": Column("label", p.category[r], labels=catalog.CATEGORY_NAMES),
            "subcategory": Column("label", p.subcategory[r], labels=catalog.SUBCATEGORY_NAMES),
            "brand": Column("label", p.brand[r], labels=catalog.BRAND_NAMES),
            "supplier_id": Column("id", p.supplier[r], prefix="SUP-", width=3),
            "unit_cost": Column("amount", p.unit_cost[r]),
            "list_price": Column("amount", p.list_price[r]),
            "launched_at": Column("timestamp", launched[r]),
            "discontinued_at": Column("timestamp", discontinued[r], v.stage == 1),
            "updated_at": Column("timestamp", v.at),
        },
        v.day,
    )


def _write_suppliers(shop: Shop, writer: LandingWriter) -> None:
    s = shop.suppliers
    t = shop.t
    first = np.full(s.count, int(t.day_starts[0]) + 60)
    renamed = np.where(
        s.renamed_day >= 0, t.day_starts[np.maximum(s.renamed_day, 0)] + 10 * 3600, NEVER
    )
    v = versions(np.column_stack([first, renamed]), t)
    base = s.name.take(pa.array(v.row))
    name = pc.if_else(pa.array(v.stage == 1), pc.binary_join_element_wise(base, " Group", ""), base)
    writer.write(
        "suppliers",
        {
            "supplier_id": Column("id", v.row, prefix="SUP-", width=3),
            "name": Column("text", name),
            "country": Column("label", v.row, labels=catalog.SUPPLIER_COUNTRIES),
            "updated_at": Column("timestamp", v.at),
        },
        v.day,
    )


def _write_purchase_orders(shop: Shop, writer: LandingWriter) -> None:
    log = shop.stock_log
    ordered = log.get("po_ordered_at")
    received = log.get("po_received_at")
    v = versions(np.column_stack([ordered, received]), shop.t)
    r = v.row
    is_received = v.stage == 1
    product = log.get("po_product")[r]
    writer.write(
        "purchase_orders",
        {
            "po_id": Column("id", r, prefix="PO", width=8),
            "supplier_id": Column("id", log.get("po_supplier")[r], prefix="SUP-", width=3),
            "product_id": Column("id", product, prefix="P", width=5),
            "ordered_at": Column("timestamp", ordered[r]),
            "expected_at": Column("timestamp", log.get("po_expected_at")[r]),
            "received_at": Column("timestamp", received[r], is_received),
            "qty_ordered": Column("integer", log.get("po_qty")[r]),
            "qty_received": Column(
                "integer", np.where(is_received, log.get("po_received_qty")[r], 0)
            ),
            "unit_cost": Column("amount", shop.products.unit_cost[product]),
            "updated_at": Column("timestamp", v.at),
        },
        v.day,
    )


def _write_inventory(shop: Shop, writer: LandingWriter) -> None:
    log = shop.stock_log
    day = log.get("snap_day")
    product = log.get("snap_product")
    writer.write(
        "inventory_snapshots",
        {
            "snapshot_date": Column("date", shop.t.epoch_days[0] + day),
            "product_id": Column("id", product, prefix="P", width=5),
            "warehouse_id": Column("label", log.get("snap_warehouse"), labels=catalog.WAREHOUSES),
            "on_hand_units": Column("integer", log.get("snap_on_hand")),
            "unit_cost": Column("amount", shop.products.unit_cost[product]),
        },
        day,
    )


def _write_experiments(shop: Shop, writer: LandingWriter) -> None:
    exps = shop.experiments
    start = np.array([e.start_day for e in exps])
    writer.write(
        "experiments",
        {
            "experiment_id": Column("text", pa.array([e.experiment_id for e in exps])),
            "name": Column("text", pa.array([e.name for e in exps])),
            "start_date": Column("date", shop.t.epoch_days[0] + start),
            "end_date": Column("date", shop.t.epoch_days[0] + np.array([e.end_day for e in exps])),
            "control_variant": Column("text", pa.array([catalog.VARIANTS[0]] * len(exps))),
            "planned_split": Column("text", pa.array([catalog.PLANNED_SPLIT] * len(exps))),
        },
        start,
    )
    o = shop.out
    assigned_at = o.get("asg_at")
    writer.write(
        "experiment_assignments",
        {
            "experiment_id": Column(
                "label", o.get("asg_experiment"), labels=tuple(e.experiment_id for e in exps)
            ),
            "visitor_id": Column("id", o.get("asg_visitor"), prefix="V", width=10),
            "variant": Column("label", o.get("asg_variant"), labels=catalog.VARIANTS),
            "assigned_at": Column("timestamp", assigned_at),
        },
        shop.t.day_of(assigned_at),
    )
