"""A column that must never be NULL says so in a not_null constraint, and a column of a fixed
set of values in a check constraint (every model's contract makes DuckDB enforce both while dbt
writes the table): a NULL or an unknown value fails that model's build, naming the column, and
the table built before stays as it was."""

import re

import duckdb
import pytest

from tests.dbt_cli import run_dbt

pytestmark = pytest.mark.slow


def test_a_null_key_fails_the_build_names_the_column_and_keeps_the_old_table(tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "warehouse").mkdir(parents=True)
    build_db = data_dir / "warehouse" / "build.duckdb"

    def build_dim_suppliers(suppliers: list[tuple]):
        """``dbt run`` of dim_suppliers alone over ``suppliers`` as stg_suppliers; then the
        suppliers dim_suppliers holds."""
        with duckdb.connect(str(build_db)) as con:
            con.execute("create schema if not exists staging")
            con.execute(
                "create or replace table staging.stg_suppliers"
                " (supplier_id varchar, name varchar, country varchar)"
            )
            con.executemany("insert into staging.stg_suppliers values (?, ?, ?)", suppliers)
        completed = run_dbt(tmp_path, "run", "--select", "dim_suppliers", data_dir=data_dir)
        with duckdb.connect(str(build_db), read_only=True) as con:
            built = con.execute("select name from marts.dim_suppliers order by 1").fetchall()
        return completed, [name for (name,) in built]

    completed, built = build_dim_suppliers([("SUP-1", "Acme", "CN")])
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert built == ["Acme"]

    completed, built = build_dim_suppliers([("SUP-2", "Bolt", "CN"), (None, "Nobody", "CN")])
    assert completed.returncode != 0
    # dbt-duckdb writes the new table under a temporary name, then swaps it in
    failed = r"NOT NULL constraint failed: dim_suppliers\w*\.supplier_id"
    assert re.search(failed, completed.stdout), completed.stdout[-3000:]
    assert built == ["Acme"]


def test_a_value_outside_its_set_fails_the_build_names_it_and_keeps_the_old_table(tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "warehouse").mkdir(parents=True)
    build_db = data_dir / "warehouse" / "build.duckdb"

    def build_dim_campaigns(channels: list[str]):
        """``dbt run`` of dim_campaigns alone over one campaign per channel as stg_campaigns;
        then the channels dim_campaigns holds."""
        with duckdb.connect(str(build_db)) as con:
            con.execute("create schema if not exists staging")
            con.execute(
                "create or replace table staging.stg_campaigns (campaign_id varchar,"
                " name varchar, channel varchar, budget decimal(18,2),"
                " target_revenue decimal(18,2), target_orders integer, start_date date,"
                " end_date date)"
            )
            con.executemany(
                "insert into staging.stg_campaigns values"
                " (?, ?, ?, 100, 1000, 10, date '2025-06-01', date '2025-06-30')",
                [(f"CMP-{n}", f"Campaign {n}", channel) for n, channel in enumerate(channels)],
            )
        completed = run_dbt(tmp_path, "run", "--select", "dim_campaigns", data_dir=data_dir)
        with duckdb.connect(str(build_db), read_only=True) as con:
            built = con.execute("select channel from marts.dim_campaigns order by 1").fetchall()
        return completed, [channel for (channel,) in built]

    completed, built = build_dim_campaigns(["email", "social"])
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert built == ["email", "social"]

    completed, built = build_dim_campaigns(["email", "billboard"])
    assert completed.returncode != 0
    assert re.search(r"CHECK constraint failed .*channel IN", completed.stdout), completed.stdout[
        -3000:
    ]
    assert built == ["email", "social"]
