"""The real Olist 2017 subset, as a new user runs it: `kpi import olist` then `kpi refresh`.

The refresh publishes a mart and a report in BRL without any setting by hand, and the mart's
order count, GMV, AOV, repeat-customer rate and on-time delivery rate equal the figures plain
SQL computes over the export's CSVs (our own definitions, written here from the export's
columns, not from the pipeline's models).
"""

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import unconfigured_env
from tests.ingest.helpers import export_dir

VALID = "order_status not in ('canceled', 'unavailable')"


@pytest.fixture(scope="module")
def olist_shop(tmp_path_factory):
    src = export_dir()
    data_dir = tmp_path_factory.mktemp("olist") / "data"
    env = unconfigured_env(data_dir)
    kpi = str(Path(sys.executable).with_name("kpi"))
    runs = [
        subprocess.run([kpi, *command], env=env, capture_output=True, text=True, timeout=900)
        for command in (["import", "olist", str(src)], ["refresh"])
    ]
    for run in runs:
        assert run.returncode == 0, [*run.args[1:2], run.stdout[-3000:], run.stderr[-3000:]]
    return src, data_dir, runs[1]


@pytest.fixture(scope="module")
def export(olist_shop):
    src, _, _ = olist_shop
    con = duckdb.connect()
    con.execute(
        f"""
        create view orders as
        select * from read_csv('{src}/orders.csv', timestampformat = '%Y-%m-%d %H:%M:%S');
        create view items as select * from read_csv('{src}/order_items.csv');
        create view customers as select * from read_csv('{src}/customers.csv');
        create view valid_orders as select * from orders where {VALID};
        """
    )
    return con


@pytest.fixture(scope="module")
def mart(olist_shop):
    _, data_dir, _ = olist_shop
    with duckdb.connect(str(data_dir / "published" / "kpi_mart.duckdb"), read_only=True) as con:
        yield con


def whole_period(mart, kpi_id: str) -> tuple[float, float | None]:
    """Σ numerator (the value, for a count) and Σ denominator of a KPI over every day."""
    return mart.execute(
        "select sum(coalesce(numerator, value)), sum(denominator) from kpi_daily "
        "where kpi_id = $kpi_id and dimension = 'all'",
        {"kpi_id": kpi_id},
    ).fetchall()[0]


def test_the_refresh_publishes_a_brl_mart_and_report_named_after_the_shop(olist_shop, mart):
    _, data_dir, refresh = olist_shop
    assert "published as of 2018-" in refresh.stdout
    shop = mart.execute("select shop_name, currency, timezone from dim_shop").fetchall()
    assert shop == [("Olist (Brazilian marketplace, 2017 subset)", "BRL", "America/Sao_Paulo")]
    report = (data_dir / "reports" / "kpi_report.html").read_text(encoding="utf-8")
    assert "Olist (Brazilian marketplace, 2017 subset) · KPI report" in report
    assert "amounts in BRL" in report
    (absent,) = mart.execute(
        "select absent_sources from publication_log where outcome = 'published'"
    ).fetchall()[0]
    assert "sessions" in absent and "orders" not in absent and "shipments" not in absent


def test_order_count_gmv_and_aov_equal_plain_sql(export, mart):
    (orders,) = export.execute("select count(*) from valid_orders").fetchall()[0]
    (gmv,) = export.execute(
        "select sum(price) from items where order_id in (select order_id from valid_orders)"
    ).fetchall()[0]
    assert whole_period(mart, "orders") == (orders, None)
    assert whole_period(mart, "gmv")[0] == pytest.approx(gmv, abs=0.005)
    numerator, denominator = whole_period(mart, "aov")
    assert denominator == orders
    assert numerator / denominator == pytest.approx(gmv / orders, abs=1e-9)


def test_repeat_customer_rate_per_month_equals_plain_sql(export, mart):
    """Per purchase month: people (customer_unique_id) with >= 2 valid orders ÷ with >= 1."""
    expected = export.execute(
        """
        with per_person as (
            select
                cast(date_trunc('month', order_purchase_timestamp) as date) as month,
                customers.customer_unique_id,
                count(*) as valid_orders,
            from valid_orders
            join customers using (customer_id)
            group by all
        )
        select month, count_if(valid_orders >= 2), count(*)
        from per_person
        group by month
        order by month
        """
    ).fetchall()
    published = mart.execute(
        "select kpi_month, repeat_customer_rate_numerator, repeat_customer_rate_denominator "
        "from kpi_orders_monthly order by kpi_month"
    ).fetchall()
    assert len(expected) == 12
    assert published == expected


def test_on_time_delivery_rate_equals_plain_sql(export, mart):
    """Delivered parcels (a carrier date and a delivery date) delivered by the end of the
    estimated day ÷ delivered parcels."""
    on_time, delivered = export.execute(
        """
        select
            count_if(
                order_delivered_customer_date
                < cast(order_estimated_delivery_date as date) + interval 1 day
            ),
            count(*),
        from valid_orders
        where order_delivered_customer_date is not null
            and order_delivered_carrier_date is not null
        """
    ).fetchall()[0]
    assert whole_period(mart, "on_time_delivery_rate") == (on_time, delivered)
