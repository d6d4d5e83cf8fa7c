"""``kpi query`` and ``kpi metrics``: the KPI metrics over the published mart (serve/metrics.py),
with MetricFlow's query syntax."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from decimal import Decimal

import click

FORMATS = ("table", "csv", "json")


def _names(value: str | None) -> list[str]:
    return [name.strip() for name in (value or "").split(",") if name.strip()]


def _cell(value):
    """A value as text: dates without a midnight time, decimals as written."""
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _metrics(settings):
    from dagster_project.serve.metrics import Metrics, MetricsError

    try:
        return Metrics(settings)
    except MetricsError as error:
        raise click.ClickException(str(error)) from error


@click.command()
@click.option("--metrics", "metric_names", required=True, help="Metrics, comma-separated.")
@click.option(
    "--group-by",
    help="Dimensions and entities, comma-separated (metric_time__week, channel, ...).",
)
@click.option(
    "--where",
    multiple=True,
    help="A filter in MetricFlow's syntax: \"{{ Dimension('…') }} = '…'\" (repeatable).",
)
@click.option("--start-time", type=click.DateTime(), help="From this time (metric_time).")
@click.option("--end-time", type=click.DateTime(), help="Up to this time (metric_time).")
@click.option("--order", help="Order by these names, comma-separated; '-name' descends.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many rows.")
@click.option("--format", "output", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--explain", is_flag=True, help="Print the SQL instead of running it.")
def query(metric_names, group_by, where, start_time, end_time, order, limit, output, explain):
    """Query the KPI metrics of the published mart (read-only), e.g.
    ``kpi query --metrics aov --group-by metric_time__month,channel``."""
    from dagster_project.cli.main import _settings
    from dagster_project.serve.metrics import MetricsError

    asked = {
        "metrics": _names(metric_names),
        "group_by": _names(group_by),
        "where": list(where),
        "start": start_time,
        "end": end_time,
        "order": _names(order),
        "limit": limit,
    }
    engine = _metrics(_settings())
    try:
        if explain:
            click.echo(engine.explain(**asked))
            return
        answer = engine.query(**asked)
    except MetricsError as error:
        raise click.ClickException(str(error)) from error
    rows = [[_cell(value) for value in row] for row in answer.rows]
    if output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(answer.columns)
        writer.writerows(rows)
    elif output == "json":
        click.echo(json.dumps([dict(zip(answer.columns, row, strict=True)) for row in rows]))
    else:
        from tabulate import tabulate

        click.echo(tabulate(rows, headers=answer.columns, disable_numparse=True))


@click.command(name="metrics")
@click.argument("names", nargs=-1)
@click.option("--kpis", "kpis_only", is_flag=True, help="Only the KPIs (not ratio parts).")
def list_metrics(names: tuple[str, ...], kpis_only: bool):
    """List each metric (or the NAMES given) with its type, the KPI it is, what it can be
    grouped by, where it is exact and its description."""
    from dagster_project.cli.main import _settings
    from dagster_project.serve.metrics import MetricsError

    engine = _metrics(_settings())
    try:
        engine.require(names)
    except MetricsError as error:
        raise click.ClickException(str(error)) from error
    for metric in engine.describe():
        if (names and metric["name"] not in names) or (kpis_only and not metric["kpi"]):
            continue
        click.echo(f"{metric['name']} ({metric['type']}): {metric['label']}")
        click.echo(f"  {metric['description']}")
        kpi = metric["kpi"]
        if kpi:
            better = "higher" if kpi["higher_is_better"] else "lower"
            click.echo(f"  KPI {kpi['name']} ({kpi['name_zh']}): {kpi['unit']}, {better} is better")
        click.echo(f"  group by: {', '.join(metric['group_by'])}")
        exact = metric["exact_only_at"]
        if exact:
            click.echo(f"  exact only {exact.where()}: {exact.why}")
