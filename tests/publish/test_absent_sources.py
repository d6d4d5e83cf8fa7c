"""A shop with only customers, products, orders and order items, from 1997: it publishes.

The issue's case: a real shop without web analytics, marketing, inventory or a help desk, and
with a history older than any fixed calendar. Nothing is configured by hand (no
KPI_FIRST_BUSINESS_DATE): the first business day and the calendar follow the data, the absent
sources are named, the KPIs they remove are left out, and the order KPIs equal plain SQL over
the delivered files. `kpi refresh` runs in its own process, as a user runs it: the daily
partitions are fixed when the code location loads, from the landing zone it finds.
"""

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_project.core.settings import Settings
from dagster_project.ingest import contract
from dagster_project.transform import registry
from demo_shop import generate
from tests.conftest import unconfigured_env

KEPT = ("customers", "products", "orders", "order_items")
FIRST_DAY = "1997-03-03"


@pytest.fixture(scope="module")
def old_orders_only_shop(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("orders_only") / "data"
    landing = data_dir / "landing"
    generate(landing, date.fromisoformat(FIRST_DAY), 7, 100, 11)
    for table in set(contract.tables()) - set(KEPT):
        shutil.rmtree(landing / table, ignore_errors=True)  # a 7-day shop may lack refunds
    # the producer says each day is complete: a small shop has days without an order line
    (landing / "_SUCCESS").mkdir()
    for day in range(3, 10):
        (landing / "_SUCCESS" / f"dt=1997-03-{day:02d}").touch()
    env = unconfigured_env(data_dir)
    kpi = Path(sys.executable).with_name("kpi")
    result = subprocess.run(
        [str(kpi), "refresh"], env=env, capture_output=True, text=True, timeout=900
    )
    return data_dir, result


def test_it_publishes_without_being_told_where_its_history_starts(old_orders_only_shop):
    data_dir, result = old_orders_only_shop
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"refreshing business days {FIRST_DAY} .. 1997-03-09" in result.stdout
    mart = data_dir / "published" / "kpi_mart.duckdb"
    with duckdb.connect(str(mart), read_only=True) as con:
        first, last = con.execute("select min(date_day), max(date_day) from dim_date").fetchone()
    # whole years from the earliest date of the data (the catalogue launched products before
    # its first order) to the end of the last order's year
    assert (first.month, first.day) == (1, 1) and first <= date(1997, 1, 1)
    assert last == date(1997, 12, 31)


def test_the_absent_sources_and_the_kpis_they_remove_are_named(old_orders_only_shop):
    data_dir, _ = old_orders_only_shop
    absent = sorted(set(contract.tables()) - set(KEPT))
    removed = sorted(k["id"] for k in registry.kpis() if set(k["sources"]) & set(absent))
    kept = sorted(k["id"] for k in registry.kpis() if not set(k["sources"]) & set(absent))
    assert {"orders", "aov", "gmv", "repeat_customer_rate"} <= set(kept)
    with duckdb.connect(str(data_dir / "published" / "kpi_mart.duckdb"), read_only=True) as con:
        (log,) = con.execute(
            "select absent_sources, absent_kpis, message from publication_log "
            "where outcome = 'published'"
        ).fetchall()
        published_kpis = {
            k for (k,) in con.execute("select distinct kpi_id from kpi_daily").fetchall()
        }
        unavailable = sorted(
            k
            for (k,) in con.execute("select kpi_id from dim_kpis where not is_available").fetchall()
        )
    assert sorted(log[0]) == absent
    assert sorted(log[1]) == removed == unavailable
    assert log[2] == (
        f"sources never delivered (absent): {', '.join(absent)}; "
        f"KPIs left out: {', '.join(removed)}"
    )
    assert published_kpis, "kpi_daily is empty"
    assert not published_kpis & set(removed)
    report = (data_dir / "reports" / "kpi_report.html").read_text(encoding="utf-8")
    assert f"{len(absent)} sources never delivered" in report
    assert "This shop never delivered sessions" in report


def test_order_kpis_equal_plain_sql_over_the_delivered_files(old_orders_only_shop):
    """Orders and GMV per business day (Asia/Shanghai, the demo's zone) from the CSVs."""
    data_dir, _ = old_orders_only_shop
    landing = data_dir / "landing"
    zone = Settings.from_env().timezone
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    expected = con.execute(
        f"""
        with versions as (
            select * from read_csv('{landing}/orders/*/*.csv', all_varchar = true)
        ),
        latest as (
            select order_id, status, cast(ordered_at as timestamptz) as ordered_at
            from versions
            qualify row_number() over (
                partition by order_id order by cast(updated_at as timestamptz) desc
            ) = 1
        ),
        lines as (
            select order_id, sum(cast(quantity as int) * cast(unit_price as decimal(18, 2))) as gmv
            from read_csv('{landing}/order_items/*/*.csv', all_varchar = true)
            group by order_id
        )
        select
            cast(timezone('{zone}', latest.ordered_at) as date) as day,
            count(*) as orders,
            sum(coalesce(lines.gmv, 0)) as gmv,
        from latest
        left join lines using (order_id)
        where latest.status <> 'cancelled'
        group by day
        order by day
        """
    ).fetchall()
    with duckdb.connect(str(data_dir / "published" / "kpi_mart.duckdb"), read_only=True) as mart:
        published = mart.execute(
            """
            select o.kpi_date, o.value, g.value
            from kpi_daily as o
            join kpi_daily as g
                on g.kpi_date = o.kpi_date and g.kpi_id = 'gmv' and g.dimension = 'all'
            where o.kpi_id = 'orders' and o.dimension = 'all' and o.value > 0
            order by o.kpi_date
            """
        ).fetchall()
    assert len(expected) >= 5  # days with a valid order (a 7-day shop has a day without)
    assert [(d, n, float(g)) for d, n, g in expected] == [(d, n, g) for d, n, g in published]
