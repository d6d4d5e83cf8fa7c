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

# ratio metrics rolled up below: the mart and the key each is grouped by (its numerator and
# denominator are the mart's <ratio>_numerator and <ratio>_denominator)
RATIOS = {
    "aov": ("kpi_orders_daily", "channel"),
    "ctr": ("kpi_campaigns_daily", "campaign"),
    "session_conversion_rate": ("kpi_traffic_daily", "platform"),
    "csat": ("kpi_service_daily", "service_channel"),
}


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


def _by_semantic_model(manifest) -> dict:
    """Per semantic model: its mart, its keys (entity name -> column) and its metrics (each
    named as the mart's column it restates; a ratio by its numerator's model)."""
    cases = {}
    for model in manifest.semantic_models:
        measures = {measure.name for measure in model.measures}
        simple = [
            m.name
            for m in manifest.metrics
            if m.type.value == "simple" and m.type_params.measure.name in measures
        ]
        ratios = [
            m.name
            for m in manifest.metrics
            if m.type.value == "ratio" and m.type_params.numerator.name in simple
        ]
        keys = {e.name: e.expr or e.name for e in model.entities if e.type.value == "foreign"}
        cases[model.name] = (model.node_relation.alias, keys, simple + ratios)
    return cases


def test_every_metric_at_its_marts_grain_is_the_published_column(metrics, small_shop):
    cases = _by_semantic_model(metrics.manifest)
    marts = {"orders_daily", "campaigns_daily", "delivery_daily", "traffic_daily", "service_daily"}
    assert marts <= cases.keys()
    covered = set()
    for model, (mart, keys, names) in cases.items():
        answer = metrics.query(names, ["metric_time__day", *keys])
        assert answer.columns == ["metric_time__day", *keys, *names], model
        width = 1 + len(keys)
        found = {(row[0].date(), *row[1:width]): row[width:] for row in answer.rows}
        published = {
            tuple(row[:width]): row[width:]
            for row in _mart(
                small_shop,
                f"select kpi_date, {', '.join([*keys.values(), *names])} from {mart}",
            )
        }
        assert found and found.keys() == published.keys(), model
        differing = [
            (key, name, found[key][i], published[key][i])
            for key in published
            for i, name in enumerate(names)
            if not _close(found[key][i], published[key][i])
        ]
        assert differing == [], differing[:5]
        covered |= set(names)
    assert covered == set(metrics.metric_names())  # every metric, at its mart's grain


@pytest.mark.parametrize("grain", ["week", "month"])
def test_a_ratio_rolled_up_is_the_sum_of_numerators_over_the_sum_of_denominators(
    metrics, small_shop, grain
):
    for ratio, (mart, key) in RATIOS.items():
        column = {"campaign": "campaign_id", "service_channel": "channel"}.get(key, key)
        answer = metrics.query([ratio], [f"metric_time__{grain}", key])
        found = {(row[0].date(), row[1]): row[2] for row in answer.rows}
        expected = {
            (period, value_of_key): value
            for period, value_of_key, value in _mart(
                small_shop,
                f"select date_trunc('{grain}', kpi_date)::date, {column},"
                f" sum({ratio}_numerator) / nullif(sum({ratio}_denominator), 0)"
                f" from {mart} group by all",
            )
        }
        assert found.keys() == expected.keys(), ratio
        assert all(_close(found[k], expected[k]) for k in expected), ratio
        # not the average of the daily ratios (which the mart's rows would give)
        averaged = _mart(small_shop, f"select avg({ratio}) from {mart}")[0][0]
        whole = metrics.query([ratio]).rows[0][0]
        assert not _close(whole, averaged), ratio


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


def test_a_connect_that_meets_a_rename_is_retried_once_and_no_other_error_is(metrics, monkeypatch):
    """docs/bi.md: a connect in the microseconds of a publication's rename fails before
    reading any data, and the next one succeeds. Planted here: the first read fails so."""
    from dagster_project.serve.metrics import OPEN_RACE, MetricsError, PublishedMartClient

    real_read = PublishedMartClient._read
    failures = {"left": 1, "message": f"IO Error: {OPEN_RACE}"}

    def read(self, stmt):
        if failures["left"]:
            failures["left"] -= 1
            raise duckdb.IOException(failures["message"])
        return real_read(self, stmt)

    monkeypatch.setattr(PublishedMartClient, "_read", read)
    expected = metrics.query(["orders"]).rows
    failures["left"] = 1
    assert metrics.query(["orders"]).rows == expected  # retried, answered
    failures.update(left=2)
    with pytest.raises(MetricsError, match=OPEN_RACE):  # once only
        metrics.query(["orders"])
    failures.update(left=1, message="IO Error: Could not read from file")
    with pytest.raises(MetricsError, match="Could not read from file"):  # not retried
        metrics.query(["orders"])
