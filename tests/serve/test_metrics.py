"""The KPI metrics (dbt's semantic layer through MetricFlow) on the small shop's published mart:
at the mart's own grain each metric is the published column; a ratio rolled up to a week or a
month is Σ numerator ÷ Σ denominator; `kpi query` and `kpi metrics` answer as documented and
refuse a wrong name in one line naming the closest ones."""

import csv
import io
import json
import math

import duckdb
import pytest
from click.testing import CliRunner

from dagster_project.cli import main
from dagster_project.publish.publication import published_path
from dagster_project.serve.metrics import Metrics

# kpi_orders_daily's columns and the metric over each (the metric's name is the column's)
ORDERS_DAILY = ["orders", "units", "gmv", "net_revenue", "aov_numerator", "aov_denominator"]
RATIOS = {"aov": ("aov_numerator", "aov_denominator")}


@pytest.fixture(scope="module")
def metrics(small_shop) -> Metrics:
    return Metrics(small_shop)


def _mart(settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(published_path(settings)), read_only=True) as con:
        return con.execute(sql).fetchall()


def _close(found, expected) -> bool:
    if found is None or expected is None:
        return found is None and expected is None
    found, expected = float(found), float(expected)
    return math.isclose(found, expected, rel_tol=1e-9, abs_tol=1e-9)


def test_the_semantic_manifest_validates(metrics):
    from metricflow_semantic_interfaces.validations.semantic_manifest_validator import (
        SemanticManifestValidator,
    )

    results = SemanticManifestValidator().validate_semantic_manifest(metrics.manifest)
    assert not results.has_blocking_issues, [e.as_readable_str() for e in results.errors]


def test_every_metric_at_the_marts_grain_is_the_published_column(metrics, small_shop):
    names = [*ORDERS_DAILY, *RATIOS]
    answer = metrics.query(names, ["metric_time__day", "channel", "platform"])
    found = {(row[0].date(), row[1], row[2]): row[3:] for row in answer.rows}
    published = {
        (row[0], row[1], row[2]): row[3:]
        for row in _mart(
            small_shop,
            f"select kpi_date, channel, platform, {', '.join(names)} from kpi_orders_daily",
        )
    }
    assert answer.columns[3:] == names
    assert found.keys() == published.keys()
    differing = [
        (key, name, found[key][i], published[key][i])
        for key in published
        for i, name in enumerate(names)
        if not _close(found[key][i], published[key][i])
    ]
    assert differing == [], differing[:5]


@pytest.mark.parametrize("grain", ["week", "month"])
def test_a_ratio_rolled_up_is_the_sum_of_numerators_over_the_sum_of_denominators(
    metrics, small_shop, grain
):
    for ratio, (numerator, denominator) in RATIOS.items():
        answer = metrics.query([ratio], [f"metric_time__{grain}", "channel"])
        found = {(row[0].date(), row[1]): row[2] for row in answer.rows}
        expected = {
            (period, channel): value
            for period, channel, value in _mart(
                small_shop,
                f"select date_trunc('{grain}', kpi_date)::date, channel,"
                f" sum({numerator}) / nullif(sum({denominator}), 0)"
                " from kpi_orders_daily group by all",
            )
        }
        assert found.keys() == expected.keys()
        assert all(_close(found[key], expected[key]) for key in expected), ratio
        # not the average of the daily ratios (which the mart's rows would give)
        averaged = _mart(
            small_shop, f"select avg({ratio}) from kpi_orders_daily where {ratio} is not null"
        )[0][0]
        whole = metrics.query([ratio]).rows[0][0]
        assert not _close(whole, averaged)


def _kpi(small_shop, monkeypatch, *args: str):
    monkeypatch.setenv("KPI_DATA_DIR", str(small_shop.data_dir))
    return CliRunner().invoke(main, list(args))


def test_kpi_query_writes_csv_with_the_names_asked(small_shop, monkeypatch):
    result = _kpi(
        small_shop,
        monkeypatch,
        "query",
        "--metrics",
        "aov,orders",
        "--group-by",
        "metric_time__month,channel",
        "--format",
        "csv",
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["metric_time__month", "channel", "aov", "orders"]
    expected = _mart(
        small_shop,
        "select date_trunc('month', kpi_date)::date, channel, sum(orders)"
        " from kpi_orders_daily group by all order by all",
    )
    assert [(r[0], r[1], int(r[3])) for r in rows[1:]] == [
        (day.isoformat(), channel, orders) for day, channel, orders in expected
    ]


def test_kpi_query_json_filters_and_explains(small_shop, monkeypatch):
    where = "{{ Entity('channel') }} = 'direct'"
    asked = ["query", "--metrics", "orders", "--where", where, "--format", "json"]
    result = _kpi(small_shop, monkeypatch, *asked)
    assert result.exit_code == 0, result.output
    ((direct,),) = _mart(
        small_shop, "select sum(orders) from kpi_orders_daily where channel = 'direct'"
    )
    assert json.loads(result.output) == [{"orders": direct}]
    explained = _kpi(small_shop, monkeypatch, "query", "--metrics", "aov", "--explain")
    assert explained.exit_code == 0, explained.output
    assert '"main"."kpi_orders_daily"' in explained.output  # the published mart's table


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--metrics", "aovv"], "unknown metric 'aovv'; did you mean aov?"),
        (["--metrics", "aov", "--group-by", "chanel"], "chanel matches nothing"),
    ],
)
def test_a_wrong_name_gets_one_line_with_the_closest_names(small_shop, monkeypatch, args, says):
    result = _kpi(small_shop, monkeypatch, "query", *args)
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ") and says in line
    if "chanel" in args:
        assert "closest: channel" in line


def test_kpi_metrics_lists_each_metric_with_its_group_bys(small_shop, monkeypatch):
    result = _kpi(small_shop, monkeypatch, "metrics")
    assert result.exit_code == 0, result.output
    assert "aov (ratio): AOV (客单价)" in result.output
    assert "group by: channel, metric_time__day, metric_time__month" in result.output
