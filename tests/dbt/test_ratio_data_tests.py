"""The ratio data tests catch the ratios they are for, and let the legitimate ones through.

Each case plants rows in a table of the mart's name in an otherwise empty warehouse and runs
the generic test dbt attaches to it there (a data test only reads its model's relation).
"""

import json
from pathlib import Path

import duckdb
import pytest

from tests.dbt_cli import run_dbt

pytestmark = pytest.mark.slow

# (value, denominator) rows of kpi_orders_daily.aov
LEGITIMATE = [(175.0, 2), (None, 0)]  # a day without orders: 0 ÷ 0 is NULL, not a defect
LOST = [(None, 2)]  # a ratio NULL although its denominator is 2
UNGUARDED = [(0.0, 0), (float("inf"), 0), (float("nan"), 0)]  # division by zero not NULL


def _null_ratios(tmp_path: Path, rows: list[tuple]) -> dict:
    """Run null_ratios on kpi_orders_daily.aov and on kpi_daily.value over `rows`."""
    data_dir = tmp_path / "data"
    (data_dir / "warehouse").mkdir(parents=True)
    con = duckdb.connect(str(data_dir / "warehouse" / "build.duckdb"))
    con.execute("create schema marts")
    con.execute("create table marts.kpi_orders_daily (aov double, aov_denominator bigint)")
    con.execute("create table marts.kpi_daily (value double, denominator double)")
    con.executemany("insert into marts.kpi_orders_daily values (?, ?)", rows)
    # in kpi_daily a plain measure has a NULL denominator and value = numerator: not a ratio
    con.executemany("insert into marts.kpi_daily values (?, ?)", [*rows, (12.0, None)])
    con.close()
    completed = run_dbt(
        tmp_path,
        "test",
        "--select",
        "null_ratios_kpi_orders_daily_aov null_ratios_kpi_daily_value__denominator",
        data_dir=data_dir,
    )
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    assert len(results) == 2, completed.stdout[-3000:]
    return {
        result["unique_id"].split(".")[2]: (result["status"], result["failures"])
        for result in results
    }


def test_null_ratios_passes_a_null_whose_denominator_is_zero(tmp_path):
    assert _null_ratios(tmp_path, LEGITIMATE) == {
        "null_ratios_kpi_orders_daily_aov": ("pass", 0),
        "null_ratios_kpi_daily_value__denominator": ("pass", 0),
    }


def test_null_ratios_fails_a_lost_ratio_and_an_unguarded_division(tmp_path):
    expected = ("fail", len(LOST) + len(UNGUARDED))
    assert _null_ratios(tmp_path, LEGITIMATE + LOST + UNGUARDED) == {
        "null_ratios_kpi_orders_daily_aov": expected,
        "null_ratios_kpi_daily_value__denominator": expected,
    }
