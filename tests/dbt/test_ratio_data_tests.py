"""The ratio data test catches the ratios it is for, and lets the legitimate ones through.

Each case plants rows in a table of the mart's name in an otherwise empty warehouse and runs
the generic test dbt attaches to it there (a data test only reads its model's relation):
``ratios_are_consistent`` on kpi_orders_daily (its ratios aov, units per order and member
revenue share; the rows go to aov, the others are empty days), and ``ratio_is_consistent`` on
kpi_daily.value, where a row whose denominator is NULL is a plain measure.
"""

import json
from pathlib import Path

import duckdb
import pytest

from tests.dbt_cli import run_dbt

pytestmark = pytest.mark.slow

# (value, numerator, denominator) rows of kpi_orders_daily.aov
LEGITIMATE = [(175.0, 350.0, 2), (None, 0.0, 0)]  # a day without orders: 0 ÷ 0 is NULL
LOST = [(None, 350.0, 2), (None, None, 2)]  # NULL although the denominator is 2
UNGUARDED = [(0.0, 0.0, 0), (float("inf"), 5.0, 0), (float("nan"), 0.0, 0)]  # not NULL
WRONG = [(170.0, 350.0, 2)]  # not numerator ÷ denominator
AOV = "ratios_are_consistent_kpi_orders_daily_aov__units_per_order__member_revenue_share"
VALUE = "ratio_is_consistent_kpi_daily_value__denominator__True__numerator"


def _ratio_is_consistent(tmp_path: Path, rows: list[tuple]) -> dict:
    """Run ratios_are_consistent on kpi_orders_daily (`rows` as aov, the other ratios of empty
    days: 0 ÷ 0, no value) and ratio_is_consistent on kpi_daily.value over `rows`: (status,
    failing rows) per test."""
    data_dir = tmp_path / "data"
    (data_dir / "warehouse").mkdir(parents=True)
    con = duckdb.connect(str(data_dir / "warehouse" / "build.duckdb"))
    con.execute("create schema marts")
    con.execute(
        "create table marts.kpi_orders_daily (aov double, aov_numerator double,"
        " aov_denominator bigint, units_per_order double default null,"
        " units_per_order_numerator bigint default 0, units_per_order_denominator bigint default"
        " 0, member_revenue_share double default null, member_revenue_share_numerator double"
        " default 0, member_revenue_share_denominator double default 0)"
    )
    con.execute("create table marts.kpi_daily (value double, numerator double, denominator double)")
    con.executemany(
        "insert into marts.kpi_orders_daily (aov, aov_numerator, aov_denominator) values (?, ?, ?)",
        rows,
    )
    # in kpi_daily a plain measure has a NULL denominator and value = numerator: not a ratio
    con.executemany("insert into marts.kpi_daily values (?, ?, ?)", [*rows, (12.0, 12.0, None)])
    con.close()
    completed = run_dbt(tmp_path, "test", "--select", AOV, VALUE, data_dir=data_dir)
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    assert len(results) == 2, completed.stdout[-3000:]
    return {
        result["unique_id"].split(".")[2]: (result["status"], result["failures"])
        for result in results
    }


def test_a_null_whose_denominator_is_zero_passes(tmp_path):
    assert _ratio_is_consistent(tmp_path, LEGITIMATE) == {AOV: ("pass", 0), VALUE: ("pass", 0)}


def test_a_lost_ratio_an_unguarded_division_and_a_wrong_value_fail(tmp_path):
    expected = ("fail", len(LOST) + len(UNGUARDED) + len(WRONG))
    rows = LEGITIMATE + LOST + UNGUARDED + WRONG
    assert _ratio_is_consistent(tmp_path, rows) == {AOV: expected, VALUE: expected}
