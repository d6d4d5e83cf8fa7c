"""The Olist export (Brazilian marketplace, public dataset) mapped into the landing contract.

Reads orders.csv, order_items.csv, customers.csv, products.csv,
product_category_name_translation.csv and olist_sellers_dataset.csv (the payments file is not
mapped: the contract has no payments table). The mapping is DuckDB SQL in
``sql/olist_*.sql``; docs/bring-your-own-data.md gives the counts measured on the 2017 subset.

Time. The export's timestamps are America/Sao_Paulo wall-clock times without a zone. Each is
read with ``timezone('America/Sao_Paulo', ts)`` and written in UTC (``...T...Z``). In the hour
skipped when DST starts (2017-10-15 00:00-00:59) a time is read with the offset before the
change (-03: 00:30 becomes 03:30Z, the instant the clocks called 01:30); in the hour repeated
when DST ends (2018-02-17 23:00-23:59) a time is read as its second occurrence (-03, standard
time). The 2017 subset has no timestamp in either hour. A landing day (``dt=``) is the local
date, and every row lands in the folder of the local day of the event that produced it: a
day's folders hold the orders purchased that day plus the status changes of that day.

- orders (version updated_at): one version per order and distinct event time: purchase
  (placed), order_approved_at (paid), order_delivered_carrier_date (shipped),
  order_delivered_customer_date (delivered), each when present and not before the purchase.
  A version's status is the furthest stage reached by its time; the last version carries the
  export's final order_status mapped (created -> placed; approved, invoiced, processing ->
  paid; shipped; delivered; canceled, unavailable -> cancelled), so an order the export calls
  delivered without a delivery date ends delivered at its last known time. A cancelled order
  is one version, cancelled, at its purchase: the export does not say when it was cancelled
  (its approval or carrier dates are ignored). One row per order and day (the day's last
  version). customer_id is the person (customer_unique_id through customers.csv; Olist's
  customer_id is one per order); ordered_at the purchase; shipping_fee the sum of the lines'
  freight_value; discount and tax 0.00 (Olist prices are what the customer paid, Brazilian
  prices include tax); platform, session_id, coupon_code empty (not in the export).
- order_items: one row per export line, in the purchase day's folder: line_number =
  order_item_id, quantity 1 (a line is one unit), unit_price = price, discount 0.00. The
  freight is not part of the line (orders.shipping_fee, shipments.shipping_cost).
- customers (version updated_at): the person; one version per local day they ordered on,
  with that day's last order's city, updated at its purchase; registered_at their first
  purchase in the export; member_tier none; visitor_id, email, phone empty.
- products (version updated_at): once, in the folder of the product's first sale (earliest
  purchase, then order_id, then order_item_id), updated at that purchase; sku and name =
  product_id (the export has neither); category the English name, else the Portuguese one,
  else ``uncategorized``; subcategory = category; supplier_id the seller of that first line;
  brand, unit_cost, list_price, launched_at, discontinued_at empty.
- suppliers (version updated_at): the sellers the lines reference, once, in the folder of
  the seller's first sale, updated at that purchase; name = seller_id; country BR.
- shipments (version updated_at): one parcel per order that is not cancelled and has an
  order_delivered_carrier_date; shipment_id = order_id; carrier empty; shipped_at the carrier
  date; promised_at the end (23:59:59 local) of order_estimated_delivery_date's day;
  shipping_cost the freight; delivered_at the delivery date. Versions: in_transit at
  shipped_at (shipped day's folder), delivered at delivered_at (delivered day's folder). When
  the export says a parcel was delivered before it was handed to the carrier, only the
  delivered version is written, at the later (carrier) time and in that day's folder, with
  both times as exported: at the delivery time its shipped_at would lie in the future.

Not mapped (absent sources, the pipeline publishes without them): sessions, events, refunds,
inventory_snapshots, purchase_orders, campaigns, ad_spend, experiments,
experiment_assignments, support_tickets, surveys.

The import also writes an empty ``_SUCCESS/dt=<day>`` for every day from the first to the
last landing day (the export is complete for each) and ``_shop.yml`` (name, time zone
America/Sao_Paulo, currency BRL). An export that cannot be mapped (a missing file or column,
an unknown status, a line referencing an order, product, seller or customer the export does
not have, a value that is not a timestamp or an amount) stops the import with one line
naming the file, before anything is written.
"""

from __future__ import annotations

from pathlib import Path

from dagster_project.ingest.adapters import (
    TEMPLATES,
    ExportError,
    ImportSummary,
    TableFiles,
    connect,
    day_files,
    marker_files,
    read_export,
    shop_file,
    stale_files,
    write_landing,
)

ZONE = "America/Sao_Paulo"
SHOP = {"name": "Olist (Brazilian marketplace, 2017 subset)", "timezone": ZONE, "currency": "BRL"}

# name in the SQL -> (file of the export, the columns the mapping reads)
EXPORT = {
    "orders": (
        "orders.csv",
        (
            "order_id",
            "customer_id",
            "order_status",
            "order_purchase_timestamp",
            "order_approved_at",
            "order_delivered_carrier_date",
            "order_delivered_customer_date",
            "order_estimated_delivery_date",
        ),
    ),
    "order_items": (
        "order_items.csv",
        ("order_id", "order_item_id", "product_id", "seller_id", "price", "freight_value"),
    ),
    "customers": ("customers.csv", ("customer_id", "customer_unique_id", "customer_city")),
    "products": ("products.csv", ("product_id", "product_category_name")),
    "category_translation": (
        "product_category_name_translation.csv",
        ("product_category_name", "product_category_name_english"),
    ),
    "sellers": ("olist_sellers_dataset.csv", ("seller_id",)),
}

# The export's final order_status -> the contract's status.
STATUSES = {
    "created": "placed",
    "approved": "paid",
    "invoiced": "paid",
    "processing": "paid",
    "shipped": "shipped",
    "delivered": "delivered",
    "canceled": "cancelled",
    "unavailable": "cancelled",
}

# Contract tables the export fills, parents first.
TABLES = ("customers", "suppliers", "products", "orders", "order_items", "shipments")


def render(src: Path) -> list[TableFiles]:
    """Every landing file of the export in ``src``, per table (nothing is written)."""
    with connect() as con:
        read_export(con, src, EXPORT)
        problems = TEMPLATES.fetchall(con, "olist_problems.sql", {}, statuses=list(STATUSES))
        if problems:
            file, rows, what, example = problems[0]
            raise ExportError(
                f"{src / file}: {rows:,} row(s) with {what}"
                + (f" (first: {example})" if example is not None else "")
            )
        TEMPLATES.execute(con, "olist_typed.sql", {}, zone=ZONE, statuses=STATUSES)
        return [
            day_files(table, con.sql(TEMPLATES.statement(f"olist_{table}.sql")).to_arrow_table())
            for table in TABLES
        ]


def import_export(src: Path, landing: Path) -> ImportSummary:
    """Map the export in ``src`` into ``landing``; write only the files that changed."""
    tables = render(src)
    files = {path: data for table in tables for path, data in table.files.items()}
    days = sorted({path.split("/")[1].removeprefix("dt=") for path in files})
    markers = marker_files(days)
    shop = shop_file("olist", **SHOP)
    stale = stale_files(landing, TABLES, files)
    changed = write_landing(landing, files | markers | shop)
    return ImportSummary(landing, tables, changed, len(markers), landing / next(iter(shop)), stale)
