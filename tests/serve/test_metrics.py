"""The KPI metrics (dbt's semantic layer through MetricFlow) on the small shop's published mart:
at the mart's own grain each metric is the published column, and without a key the mart's
whole-shop row; a ratio rolled up to a week, a month or a quarter is Σ numerator ÷ Σ
denominator; a metric that does not add up is refused where it would not be exact, and a
snapshot takes a period's last day; month-to-date is the running sum of the month; `kpi query`
and `kpi metrics` answer as documented and refuse a wrong name in one line naming the closest
ones."""

import csv
import io
import json
import math
from dataclasses import dataclass
from datetime import datetime, time

import duckdb
import pytest
from click.testing import CliRunner

from dagster_project.cli import main
from dagster_project.publish.publication import published_path
from dagster_project.serve.metrics import GRAINS, Metrics, MetricsError, meta

# daily ratios whose average over the mart's rows differs from the ratio of the sums
AVERAGED_DIFFERS = ("aov", "ctr", "session_conversion_rate", "csat")


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


# a mart's row over every value of its key: category or member tier 'all' (a scorecard's scope
# 'all' is a target of its own)
WHOLE_SHOP = "all"
WHOLE_SHOP_KEYS = ("category", "member_tier")


@dataclass(frozen=True)
class Mart:
    """A semantic model's mart: its time column and grain, its keys (entity name -> column)
    and its metrics, each with the mart's column it restates (metric name -> column)."""

    table: str
    time: str
    grain: str
    keys: dict[str, str]
    columns: dict[str, str]

    @property
    def metrics(self) -> list[str]:
        return list(self.columns)


def _by_semantic_model(manifest) -> dict[str, Mart]:
    """Per semantic model, its Mart (a ratio goes with its numerator's model). A simple metric
    restates its measure's column; a ratio the column of its name, or of its meta.column."""
    cases = {}
    for model in manifest.semantic_models:
        measures = {measure.name: measure.expr or measure.name for measure in model.measures}
        simple = {
            m.name: measures[m.type_params.measure.name]
            for m in manifest.metrics
            if m.type.value == "simple" and m.type_params.measure.name in measures
        }
        ratios = {
            m.name: meta(m).get("column", m.name)
            for m in manifest.metrics
            if m.type.value == "ratio" and m.type_params.numerator.name in simple
        }
        time = model.defaults.agg_time_dimension
        (dimension,) = (d for d in model.dimensions if d.name == time)
        keys = {
            e.name: e.expr or e.name
            for e in model.entities
            if e.type.value in ("foreign", "primary")
        }
        grain = dimension.type_params.time_granularity.value
        cases[model.name] = Mart(
            model.node_relation.alias, dimension.expr or time, grain, keys, simple | ratios
        )
    return cases


def _compare(found: dict, published: dict, names: list[str], what: str) -> None:
    assert found and found.keys() == published.keys(), what
    found = {key: value if isinstance(value, tuple) else (value,) for key, value in found.items()}
    differing = [
        (key, name, found[key][i], published[key][i])
        for key in published
        for i, name in enumerate(names)
        if not _close(found[key][i], published[key][i])
    ]
    assert differing == [], (what, differing[:5])


def test_every_metric_at_its_marts_grain_is_the_published_column(metrics, small_shop):
    """Each semantic model's metrics grouped by its time grain and every key equal the mart's
    rows; a mart's whole-shop row ('all') equals the metrics grouped without that key."""
    cases = _by_semantic_model(metrics.manifest)
    covered = set()
    for model, mart in cases.items():
        columns = list(mart.keys.values())
        rows = _mart(
            small_shop,
            f"select {', '.join([mart.time, *columns, *mart.columns.values()])} from {mart.table}",
        )
        wholes = [
            c
            for i, c in enumerate(columns)
            if c in WHOLE_SHOP_KEYS and any(row[1 + i] == WHOLE_SHOP for row in rows)
        ]
        for whole in [None, *wholes]:  # the rows of every key, then the whole shop's of each
            kept = [k for k, c in mart.keys.items() if c != whole]
            group_by = [f"metric_time__{mart.grain}", *kept]
            refused = [
                n
                for n in mart.metrics
                if n in metrics.exact_only_at
                and metrics.exact_only_at[n].refusal(n, group_by, set())
            ]
            for name in refused:  # it needs the key: no whole-shop figure
                with pytest.raises(MetricsError, match=f"^{name} is exact only"):
                    metrics.query([name], group_by)
            names = [n for n in mart.metrics if n not in refused]
            answer = metrics.query(names, group_by)
            assert answer.columns == [f"metric_time__{mart.grain}", *kept, *names], model
            width = 1 + len(kept)
            found = {(row[0].date(), *row[1:width]): row[width:] for row in answer.rows}
            positions = [1 + i for i, c in enumerate(columns) if c != whole]
            values = [1 + len(columns) + mart.metrics.index(n) for n in names]
            published = {
                (row[0], *(row[i] for i in positions)): tuple(row[i] for i in values)
                for row in rows
                if all(
                    (row[1 + i] == WHOLE_SHOP) == (c == whole)
                    for i, c in enumerate(columns)
                    if c in wholes
                )
            }
            _compare(found, published, names, f"{model} without {whole}")
        covered |= set(mart.metrics)
    cumulative = {m.name for m in metrics.manifest.metrics if m.type.value == "cumulative"}
    # every metric at its mart's grain (the month-to-date ones in the next test)
    assert covered == set(metrics.metric_names()) - cumulative


def test_a_month_to_date_metric_is_the_running_sum_of_its_month(metrics, small_shop):
    """Each cumulative metric (month-to-date) on each day of the data is the sum of its
    measure's column from the first of the month to that day, also when the query starts
    later in the month."""
    marts = {
        measure.name: (model.node_relation.alias, measure.expr or measure.name)
        for model in metrics.manifest.semantic_models
        for measure in model.measures
    }
    cumulative = [m for m in metrics.manifest.metrics if m.type.value == "cumulative"]
    assert {m.name for m in cumulative} >= {"gmv_mtd", "orders_mtd", "net_revenue_mtd"}
    for metric in cumulative:
        assert metric.type_params.cumulative_type_params.grain_to_date == "month"
        table, column = marts[metric.type_params.measure.name]
        expected = _mart(
            small_shop,
            f"select kpi_date, sum(sum({column})) over (partition by date_trunc('month',"
            f" kpi_date) order by kpi_date) from {table} group by kpi_date order by kpi_date",
        )
        start, end = (datetime.combine(expected[i][0], time()) for i in (1, -1))
        answer = metrics.query([metric.name], ["metric_time__day"], start=start, end=end)
        found = {row[0].date(): row[1] for row in answer.rows}
        _compare(found, {day: (value,) for day, value in expected[1:]}, [metric.name], metric.name)


@pytest.mark.parametrize("grain", ["week", "month", "quarter"])
def test_a_ratio_rolled_up_is_the_sum_of_numerators_over_the_sum_of_denominators(
    metrics, small_shop, grain
):
    """Every ratio that adds up over time, rolled up to ``grain`` (by its mart's first key, or
    the keys it needs), is Σ numerator ÷ Σ denominator of the mart's rows (without the
    whole-shop rows), not the average of the rows' ratios."""
    ratios = {m.name: m.type_params for m in metrics.manifest.metrics if m.type.value == "ratio"}
    marts = list(_by_semantic_model(metrics.manifest).values())
    checked = []
    for mart in marts:
        if GRAINS.index(grain) < GRAINS.index(mart.grain):
            continue
        for ratio in (name for name in mart.metrics if name in ratios):
            exact = metrics.exact_only_at.get(ratio)
            if exact and exact.time:
                continue  # refused (test_a_metric_that_does_not_add_up_is_refused_elsewhere)
            keys = list(exact.by) if exact else list(mart.keys)[:1]
            columns = [mart.keys[key] for key in keys]
            parts = ratios[ratio]
            answer = metrics.query([ratio], [f"metric_time__{grain}", *keys])
            found = {(row[0].date(), *row[1:-1]): row[-1] for row in answer.rows}
            wholes = " and ".join(
                f"{column} is distinct from '{WHOLE_SHOP}'"
                for column in mart.keys.values()
                if column in WHOLE_SHOP_KEYS
            )
            expected = {
                tuple(row[:-1]): row[-1]
                for row in _mart(
                    small_shop,
                    f"select date_trunc('{grain}', {mart.time})::date,"
                    + "".join(f" {column}," for column in columns)
                    + f" sum({mart.columns[parts.numerator.name]})"
                    + f" / nullif(sum({mart.columns[parts.denominator.name]}), 0)"
                    f" from {mart.table} where {wholes or 'true'} group by all",
                )
            }
            assert found.keys() == expected.keys(), ratio
            assert all(_close(found[k], expected[k]) for k in expected), ratio
            checked.append(ratio)
    assert len(checked) >= 20, checked
    for ratio in AVERAGED_DIFFERS:  # the mart's rows would give the average of daily ratios
        mart = next(m for m in marts if ratio in m.metrics)
        averaged = _mart(small_shop, f"select avg({ratio}) from {mart.table}")[0][0]
        assert not _close(metrics.query([ratio]).rows[0][0], averaged), ratio


def test_a_metric_that_does_not_add_up_is_refused_elsewhere(metrics):
    """Each metric exact only at some grain (a median, distinct visitors, a share of the day's
    whole, a month's opening stock) answers there and is refused, in one line saying why and
    what to group by, over a longer period, the whole range or without a key it needs."""
    assert len(metrics.exact_only_at) >= 20
    for name, exact in metrics.exact_only_at.items():
        time = [f"metric_time__{exact.time}"] if exact.time else ["metric_time__month"]
        assert metrics.query([name], [*time, *exact.by]).rows, name
        wrong = []
        if exact.time:
            wrong += [list(exact.by), ["metric_time__year", *exact.by]]
        if exact.by:
            wrong += [time + list(exact.by[:-1])]
        for group_by in wrong:
            with pytest.raises(MetricsError) as refused:
                metrics.query([name], group_by)
            (line,) = str(refused.value).splitlines()
            assert line.startswith(
                f"{name} is exact only {exact.where()} ({exact.why}): --group-by needs"
            )
            needed = ([f"metric_time__{exact.time}"] if group_by[:1] != time else []) + [
                key for key in exact.by if key not in group_by
            ]
            assert line.endswith(f"--group-by needs {','.join(needed)}"), line


def test_a_snapshot_over_a_week_is_its_last_days(demo_pipeline):
    """Overdue open shipments (a day's-end snapshot) by week and carrier: the week's last day's
    figure of each carrier, not the sum of the week's days (the demo shop: the small one has
    almost no overdue shipment)."""
    answer = Metrics(demo_pipeline).query(
        ["overdue_open_shipments"], ["metric_time__week", "carrier"]
    )
    found = {(row[0].date(), row[1]): row[2] for row in answer.rows}
    expected = _mart(
        demo_pipeline,
        """
        with days as (
            select *, max(kpi_date) over (partition by date_trunc('week', kpi_date)) as last_day
            from kpi_delivery_daily
        )
        select date_trunc('week', kpi_date)::date, carrier, overdue_open_shipments
        from days where kpi_date = last_day
        """,
    )
    assert found == {(week, carrier): value for week, carrier, value in expected}
    summed = _mart(demo_pipeline, "select sum(overdue_open_shipments) from kpi_delivery_daily")
    assert sum(found.values()) != summed[0][0]  # the days' sum would differ here


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
    assert "aov (ratio): AOV\n" in result.output
    assert "  KPI AOV (客单价): currency, higher is better" in result.output
    kpis = _kpi(small_shop, monkeypatch, "metrics", "--kpis")
    assert kpis.exit_code == 0, kpis.output
    listed = [line.split(" ")[0] for line in kpis.output.splitlines() if not line.startswith(" ")]
    assert len(listed) == kpis.output.count("\n  KPI ") >= 60 and "aov_numerator" not in listed
    some = _kpi(small_shop, monkeypatch, "metrics", "aov", "visitors")
    assert [line for line in some.output.splitlines() if not line.startswith(" ")] == [
        "aov (ratio): AOV",
        "visitors (simple): Unique visitors (UV)",
    ]
    assert "exact only per day: visitors are distinct within a day" in some.output
    wrong = _kpi(small_shop, monkeypatch, "metrics", "aovv")
    assert wrong.exit_code == 1
    assert wrong.output.strip() == (
        "Error: unknown metric 'aovv'; did you mean aov? (`kpi metrics` lists them)"
    )
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
