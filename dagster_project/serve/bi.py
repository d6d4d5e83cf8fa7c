"""``kpi bi``: Apache Superset on the published mart, provisioned from the metric definitions.

Superset runs in its own environment (bi/.venv, locked by bi/uv.lock: its pins conflict with
the pipeline's). What it shows is generated here, from dbt's semantic manifest and the
published schema, as a Superset asset bundle (database, datasets, charts, dashboards, with
UUIDs fixed by name), which bi/launch.py imports, overwriting what an earlier bundle put
there. So re-provisioning updates in place and a chart added by hand (its own UUID) stays.

- **Database**: the published mart, read-only (``read_only`` in the connect args; the URI
  alone cannot say it) and without DuckDB's access to files, so that SQL Lab can neither
  write the mart nor read anything beside it. Superset opens a connection per query, so each
  query reads the publication of the moment.
- **Datasets**: one per semantic model's table; each metric of the model is a dataset metric
  whose SQL is its dbt definition (a ratio is Σ numerator ÷ Σ denominator at whatever grain
  a chart asks, a metric's filter a CASE inside the aggregate).
- **Charts**: one per KPI, at a grain where it is exact: its ``exact_only_at`` period and
  keys, a snapshot (non-additive) measure per day, anything else weekly (daily marts) or
  monthly; with a second chart of the actual against the target where the scorecard has one.
  Models of one row per campaign or experiment get a table per row instead of a time line.
- **Dashboards**: one per catalogue section (traffic and conversion together), with filters
  for the date range, channel and platform.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import subprocess
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from dagster_project.core.settings import BI_PROJECT_DIR, BI_PYTHON, Settings
from dagster_project.core.supervise import supervise
from dagster_project.publish.publication import published_path
from dagster_project.serve.metrics import ExactOnlyAt, Metrics, meta
from dagster_project.transform.registry import SECTIONS

ADMIN = "admin"  # bi/launch.py's
DATABASE_NAME = "KPI mart"
SCHEMA = "main"  # where the publication writes its tables
VERSION = "1.0.0"  # of the bundle format
# Fixed UUIDs: a bundle made again from the same definitions names the same objects.
NAMESPACE = uuid.UUID("6f1c0a52-4f3e-4c55-9a43-2b7a2f0e8d11")
GRAIN = {"day": "P1D", "week": "P1W", "month": "P1M", "quarter": "P3M", "year": "P1Y"}
ROLL_UP = {"day": "week", "month": "month"}  # an additive metric's chart grain, by model grain
AGGREGATE = {
    "sum": "SUM({})",
    "max": "MAX({})",
    "min": "MIN({})",
    "average": "AVG({})",
    "count": "COUNT({})",
    "count_distinct": "COUNT(DISTINCT {})",
    "sum_boolean": "SUM(CAST({} AS INTEGER))",
}
# A model whose time is its rows' start date holds one row per campaign or experiment.
PER_ROW_TIME = "start_date"
# (slug, title, catalogue sections)
DASHBOARDS = (
    ("traffic", "Traffic & conversion", (1, 2)),
    ("orders", "Orders & customers", (4,)),
    ("merchandise", SECTIONS[5], (5,)),
    ("marketing", SECTIONS[7], (7,)),
    ("supply-chain", SECTIONS[6], (6,)),
    ("service", SECTIONS[8], (8,)),
    ("experiments", SECTIONS[3], (3,)),
    ("scorecard", SECTIONS[9], (9,)),
)
# the dashboards' filters besides the date range: semantic entity (a column of the table of
# a chart on the dashboard): the filter's name
FILTER_ENTITIES = {
    "channel": "Channel",
    "platform": "Platform",
    "service_channel": "Service channel",  # a ticket's: chat, email, phone
}
GRID_WIDTH = 12  # Superset's dashboard grid
SCORECARD = "kpi_scorecard_monthly"
# The scorecard's own columns as dataset metrics (no dbt metric): one row per month, team, KPI
# and scope, so each is that row's value.
SCORECARD_METRICS = {
    "actual": ("Actual", "MAX(actual)"),
    "target": ("Target", "MAX(target)"),
    "attainment": ("Attainment", "MAX(attainment)"),
}
_TEMPLATE = re.compile(r"\{\{\s*(Entity|Dimension)\('([^']+)'\)\s*\}\}")


class BiError(Exception):
    """The BI tool cannot be provisioned or started; said in one line."""


def _uuid(kind: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{name}"))


@dataclass(frozen=True)
class Chart:
    """One chart: ``metrics`` of ``table`` over ``time`` at ``grain`` (None: a table of
    ``group_by`` rows), grouped by ``group_by``, where ``where`` (column = value) holds."""

    key: str
    title: str
    description: str
    table: str
    metrics: tuple[str, ...]
    time: str | None
    grain: str | None
    group_by: tuple[str, ...] = ()
    where: tuple[tuple[str, str], ...] = ()
    sql_where: tuple[str, ...] = ()  # SQL conditions the rows must meet
    sections: tuple[int, ...] = ()
    # what `kpi query` groups the same numbers by (its entity names), for a KPI's own chart
    dimensions: tuple[str, ...] = ()

    @property
    def uuid(self) -> str:
        return _uuid("chart", self.key)


@dataclass
class Dataset:
    table: str
    time: str | None
    metrics: dict[str, tuple[str, str]] = field(default_factory=dict)  # name: (label, sql)
    # the semantic model's entities: name (what `kpi query` groups by): column
    entities: dict[str, str] = field(default_factory=dict)

    @property
    def uuid(self) -> str:
        return _uuid("dataset", self.table)


class MetricSql:
    """A metric's definition as one SQL expression over its semantic model's table."""

    def __init__(self, manifest):
        self.metrics = {metric.name: metric for metric in manifest.metrics}
        self.measures = {
            measure.name: (model, measure)
            for model in manifest.semantic_models
            for measure in model.measures
        }

    def model_of(self, name: str):
        """The semantic model every measure of the metric is in, or None."""
        metric = self.metrics[name]
        models = {self.measures[m.name][0].name: self.measures[m.name][0] for m in _inputs(metric)}
        return next(iter(models.values())) if len(models) == 1 else None

    def sql(self, name: str, filters: tuple[str, ...] = ()) -> str | None:
        """Simple and ratio metrics; None for the others (derived, cumulative)."""
        metric = self.metrics[name]
        filters = (*filters, *_where(metric.filter))
        params = metric.type_params
        kind = metric.type.value
        if kind == "simple":
            model, measure = self.measures[params.measure.name]
            return self._aggregate(model, measure, (*filters, *_where(params.measure.filter)))
        if kind == "ratio":
            parts = [
                self.sql(part.name, (*filters, *_where(part.filter)))
                for part in (params.numerator, params.denominator)
            ]
            if None in parts:
                return None
            return f"CAST({parts[0]} AS DOUBLE) / NULLIF({parts[1]}, 0)"
        return None

    def common_filters(self, name: str, filters: tuple[str, ...] = ()) -> set[str]:
        """The filters (rendered) that every measure of the metric is aggregated under: a chart
        of the metric leaves out the rows they exclude, as MetricFlow does, rather than show
        them as empty groups (the whole-shop rows of a per-category share)."""
        metric = self.metrics[name]
        filters = (*filters, *_where(metric.filter))
        params = metric.type_params
        if metric.type.value == "simple":
            model, _ = self.measures[params.measure.name]
            every = (*filters, *_where(params.measure.filter))
            return {_render(model, f) for f in every}
        parts = [
            self.common_filters(part.name, (*filters, *_where(part.filter)))
            for part in (params.numerator, params.denominator)
        ]
        return parts[0] & parts[1]

    def non_additive(self, name: str) -> bool:
        return any(
            self.measures[m.name][1].non_additive_dimension is not None
            for m in _inputs(self.metrics[name])
        )

    def _aggregate(self, model, measure, filters: tuple[str, ...]) -> str:
        expression = measure.expr or measure.name
        if filters:
            condition = " AND ".join(f"({_render(model, f)})" for f in filters)
            expression = f"CASE WHEN {condition} THEN {expression} END"
        agg = measure.agg.value
        if agg == "percentile":  # a median is a percentile of 0.5 once parsed
            params = measure.agg_params
            kind = "DISC" if params.use_discrete_percentile else "CONT"
            return f"QUANTILE_{kind}({expression}, {params.percentile})"
        return AGGREGATE[agg].format(expression)


def _inputs(metric):
    return metric.type_params.input_measures


def _where(where_filter) -> tuple[str, ...]:
    if where_filter is None:
        return ()
    return tuple(f.where_sql_template for f in where_filter.where_filters)


def _render(model, template: str) -> str:
    """A metric filter's template over the model's own columns."""

    def column(match: re.Match) -> str:
        try:
            return _key_column(model, match.group(2).split("__")[-1])
        except BiError as error:
            raise BiError(f"metric filter {template!r}: {error}") from None

    return _TEMPLATE.sub(column, template)


def _time_dimension(model):
    """The model's aggregation time dimension."""
    name = model.defaults.agg_time_dimension
    (dimension,) = (d for d in model.dimensions if d.name == name)
    return dimension


def _time_column(model) -> str:
    dimension = _time_dimension(model)
    return dimension.expr or dimension.name


def _key_column(model, key: str) -> str:
    """The column of the model's entity or dimension named ``key``."""
    for entity in model.entities:
        if entity.name == key:
            return entity.expr or entity.name
    for dimension in model.dimensions:
        if dimension.name == key:
            return dimension.expr or dimension.name
    raise BiError(f"{model.name} has no key {key}")


def _model_grain(model) -> str:
    return _time_dimension(model).type_params.time_granularity.value


def plan(metrics: Metrics, targets: Iterable[str] = ()) -> tuple[list[Dataset], list[Chart]]:
    """The datasets and charts of the KPIs: ``targets`` are the KPIs the scorecard gives a
    target (an actual-against-target chart each)."""
    manifest = metrics.manifest
    sql = MetricSql(manifest)
    datasets: dict[str, Dataset] = {}
    for name in sorted(sql.metrics):
        model = sql.model_of(name)
        expression = sql.sql(name) if model is not None else None
        if expression is None:
            continue  # a metric over several models, derived or cumulative: MetricFlow's only
        table = model.node_relation.alias
        time = _time_column(model)
        dataset = datasets.setdefault(table, Dataset(table, time))
        dataset.metrics[name] = (sql.metrics[name].label or name, expression)
        dataset.entities |= {entity.name: entity.expr or entity.name for entity in model.entities}
    scorecard = datasets.setdefault(SCORECARD, Dataset(SCORECARD, "month"))
    scorecard.metrics |= SCORECARD_METRICS

    charts = []
    targets = set(targets)
    charted = {name for dataset in datasets.values() for name in dataset.metrics}
    for name in sorted(sql.metrics):
        kpi = meta(sql.metrics[name]).get("kpi")
        if kpi is None or name not in charted:
            continue  # not a KPI; or one SQL cannot compute: `kpi query` has it
        model = sql.model_of(name)
        exact = metrics.exact_only_at.get(name)
        title = f"{kpi['name']} · {kpi['name_zh']}"
        keys = exact.by if exact else ()
        common = {
            "description": kpi["formula"],
            "table": model.node_relation.alias,
            "sql_where": tuple(sorted(sql.common_filters(name))),
        }
        if model.defaults.agg_time_dimension == PER_ROW_TIME:
            keys = keys or tuple(entity.name for entity in model.entities)
            charts.append(
                Chart(name, title, metrics=(name,), time=None, grain=None,
                      group_by=tuple(_key_column(model, key) for key in keys),
                      sections=(kpi["section"],), dimensions=keys, **common)
            )  # fmt: skip
            continue
        charts.append(
            Chart(name, title, metrics=(name,), time=_time_column(model),
                  grain=_grain(model, exact, sql.non_additive(name)),
                  group_by=tuple(_key_column(model, key) for key in keys),
                  sections=(kpi["section"],), dimensions=keys, **common)
        )  # fmt: skip
        if name in targets:
            charts.append(
                Chart(f"{name}__target", f"{kpi['name']}: actual and target", kpi["formula"],
                      SCORECARD, ("actual", "target"), time="month", grain="month",
                      group_by=("scope",), where=(("kpi_id", name),),
                      sections=(kpi["section"],))
            )  # fmt: skip
    charts.append(
        Chart("scorecard_attainment", "Targets: actual, target and attainment per KPI",
              "Each KPI's monthly actual against its SMART target", SCORECARD,
              ("actual", "target", "attainment"), time=None, grain=None,
              group_by=("month", "owner_team", "kpi_id", "scope"), sections=(9,))
    )  # fmt: skip
    return list(datasets.values()), charts


def _grain(model, exact: ExactOnlyAt | None, non_additive: bool) -> str:
    if exact is not None and exact.time:
        return exact.time
    own = _model_grain(model)
    return own if non_additive else ROLL_UP.get(own, own)


# --------------------------------------------------------------------------------------------
# The bundle


def bundle(settings: Settings) -> dict[str, str]:
    """The Superset asset bundle for this data directory's published mart: file name → YAML."""
    mart = published_path(settings)
    with duckdb.connect(str(mart), read_only=True) as con:
        schema = {
            table: con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            for (table,) in con.execute("show tables").fetchall()
        }
        targets = [
            kpi
            for (kpi,) in con.execute(
                f"select distinct kpi_id from {SCORECARD} where target is not null"
            ).fetchall()
        ]
    datasets, charts = plan(Metrics(settings), targets)
    database_uuid = _uuid("database", DATABASE_NAME)
    files = {
        "metadata.yaml": {"version": VERSION, "type": "assets", "timestamp": "2025-01-01T00:00:00"},
        "databases/kpi_mart.yaml": _database(mart, database_uuid),
    }
    by_table = {dataset.table: dataset for dataset in datasets}
    for dataset in datasets:
        files[f"datasets/kpi_mart/{dataset.table}.yaml"] = _dataset(
            dataset, schema[dataset.table], database_uuid
        )
    for chart in charts:
        files[f"charts/{chart.key}.yaml"] = _chart(chart, by_table[chart.table])
    for slug, title, sections in DASHBOARDS:
        shown = [chart for chart in charts if set(chart.sections) & set(sections)]
        files[f"dashboards/{slug}.yaml"] = _dashboard(slug, title, shown, by_table)
    return {name: yaml.safe_dump(content, allow_unicode=True) for name, content in files.items()}


def _database(mart: Path, database_uuid: str) -> dict:
    return {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": f"duckdb:///{mart}",
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_file_upload": False,
        "extra": {
            "engine_params": {
                "connect_args": {
                    "read_only": True,
                    "config": {"enable_external_access": False},
                }
            },
            "metadata_params": {},
            "allows_virtual_table_explore": True,
        },
        "uuid": database_uuid,
        "version": VERSION,
    }


def _dataset(dataset: Dataset, columns: list[tuple[str, str]], database_uuid: str) -> dict:
    return {
        "table_name": dataset.table,
        "main_dttm_col": dataset.time,
        "schema": SCHEMA,
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "cache_timeout": None,
        "offset": 0,
        "uuid": dataset.uuid,
        "database_uuid": database_uuid,
        "version": VERSION,
        "columns": [
            {
                "column_name": name,
                "type": data_type,
                "is_dttm": data_type in ("DATE", "TIMESTAMP") or data_type.startswith("TIMESTAMP"),
                "is_active": True,
                "groupby": True,
                "filterable": True,
                "expression": None,
                "description": None,
                "verbose_name": None,
                "python_date_format": None,
                "extra": None,
            }
            for name, data_type in columns
        ],
        "metrics": [
            {
                "metric_name": name,
                "verbose_name": label,
                "expression": expression,
                "metric_type": None,
                "description": None,
                "d3format": None,
                "extra": None,
                "warning_text": None,
            }
            for name, (label, expression) in sorted(dataset.metrics.items())
        ],
    }


def _filters(chart: Chart) -> list[dict]:
    return [
        {"expressionType": "SIMPLE", "clause": "WHERE", "subject": column, "operator": "==",
         "comparator": value}
        for column, value in chart.where
    ] + [
        {"expressionType": "SQL", "clause": "WHERE", "sqlExpression": condition}
        for condition in chart.sql_where
    ]  # fmt: skip


def _chart(chart: Chart, dataset: Dataset) -> dict:
    """The chart's form data (what the explore view edits) and the query context the chart
    data API runs: the same metrics, grain, grouping and filters."""
    time_range = {"col": dataset.time, "op": "TEMPORAL_RANGE", "val": "No filter"}
    equals = [{"col": column, "op": "==", "val": value} for column, value in chart.where]
    if chart.time is None:
        viz = "table"
        form = {
            "query_mode": "aggregate",
            "groupby": list(chart.group_by),
            "metrics": list(chart.metrics),
            "adhoc_filters": _filters(chart),
            "row_limit": 10000,
            "order_desc": True,
        }
        columns: list = list(chart.group_by)
    else:
        viz = "echarts_timeseries_line"
        form = {
            "x_axis": chart.time,
            "time_grain_sqla": GRAIN[chart.grain],
            "metrics": list(chart.metrics),
            "groupby": list(chart.group_by),
            "adhoc_filters": [
                {"expressionType": "SIMPLE", "clause": "WHERE", "subject": chart.time,
                 "operator": "TEMPORAL_RANGE", "comparator": "No filter"},
                *_filters(chart),
            ],
            "row_limit": 10000,
            "order_desc": True,
            "rich_tooltip": True,
            "show_legend": True,
            "markerEnabled": True,
            "y_axis_format": "SMART_NUMBER",
        }  # fmt: skip
        columns = [
            {"timeGrain": GRAIN[chart.grain], "columnType": "BASE_AXIS",
             "sqlExpression": chart.time, "label": chart.time, "expressionType": "SQL"},
            *chart.group_by,
        ]  # fmt: skip
    form = {"viz_type": viz, **form}
    query = {
        "filters": ([time_range] if chart.time else []) + equals,
        "extras": {"having": "", "where": " AND ".join(f"({c})" for c in chart.sql_where)},
        "applied_time_extras": {},
        "columns": columns,
        "metrics": list(chart.metrics),
        "orderby": [[chart.metrics[0], False]] if chart.time is None else [],
        "row_limit": 10000,
        "series_limit": 0,
        "order_desc": True,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
    }
    if chart.time is not None:
        query["series_columns"] = list(chart.group_by)
    context = {
        "datasource": {"id": 0, "type": "table"},  # the import sets the dataset's id
        "force": False,
        "queries": [query],
        "form_data": form,
        "result_format": "json",
        "result_type": "full",
    }
    return {
        "slice_name": chart.title,
        "description": chart.description,
        "viz_type": viz,
        "params": form,
        "query_context": json.dumps(context),
        "cache_timeout": None,
        "uuid": chart.uuid,
        "version": VERSION,
        "dataset_uuid": dataset.uuid,
    }


def _dashboard(slug: str, title: str, charts: list[Chart], datasets: dict[str, Dataset]) -> dict:
    """Charts three to a row (a table of many columns on a row of its own), and the native
    filters: date range, and each of FILTER_ENTITIES that a chart's semantic model has (by
    entity, not column name: a ticket's service channel is stored as `channel` too)."""
    position: dict = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"id": "ROOT_ID", "type": "ROOT", "children": ["GRID_ID"]},
        "GRID_ID": {"id": "GRID_ID", "type": "GRID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": title}},
    }
    rows: list[list[tuple[Chart, int]]] = [[]]
    for chart in charts:
        width = GRID_WIDTH if _is_wide(chart) else GRID_WIDTH // 3
        if sum(w for _, w in rows[-1]) + width > GRID_WIDTH:
            rows.append([])
        rows[-1].append((chart, width))
    for number, members in enumerate(rows):
        row = f"ROW-{number}"
        position["GRID_ID"]["children"].append(row)
        position[row] = {
            "id": row,
            "type": "ROW",
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for chart, width in members:
            key = f"CHART-{chart.key}"
            position[row]["children"].append(key)
            position[key] = {
                "id": key,
                "type": "CHART",
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row],
                # chartId: a placeholder the import replaces with the chart's id
                "meta": {
                    "uuid": chart.uuid,
                    "chartId": len(position),
                    "sliceName": chart.title,
                    "width": width,
                    "height": 50,
                },
            }
    filters = [
        {
            "id": f"NATIVE_FILTER-{slug}-time",
            "name": "Date range",
            "filterType": "filter_time",
            "targets": [{}],
            "controlValues": {},
            "defaultDataMask": {"filterState": {}, "extraFormData": {}, "ownState": {}},
            "cascadeParentIds": [],
            "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
            "type": "NATIVE_FILTER",
            "description": "",
        }
    ]
    for entity, label in FILTER_ENTITIES.items():
        source = next(
            (d for d in datasets.values() if any(c.table == d.table for c in charts) and
             entity in d.entities), None,
        )  # fmt: skip
        if source is None:
            continue
        filters.append(
            {
                "id": f"NATIVE_FILTER-{slug}-{entity}",
                "name": label,
                "filterType": "filter_select",
                "targets": [
                    {"datasetUuid": source.uuid, "column": {"name": source.entities[entity]}}
                ],
                "controlValues": {
                    "multiSelect": True,
                    "enableEmptyFilter": False,
                    "defaultToFirstItem": False,
                    "inverseSelection": False,
                    "searchAllOptions": False,
                },
                "defaultDataMask": {"filterState": {}, "extraFormData": {}, "ownState": {}},
                "cascadeParentIds": [],
                "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                "type": "NATIVE_FILTER",
                "description": "",
            }
        )
    return {
        "dashboard_title": f"KPI · {title}",
        "slug": f"kpi-{slug}",
        "description": None,
        "css": "",
        "published": True,
        "uuid": _uuid("dashboard", slug),
        "version": VERSION,
        "position": position,
        "metadata": {
            "native_filter_configuration": filters,
            "color_scheme": "supersetColors",
            "refresh_frequency": 0,
            "cross_filters_enabled": False,
            "expanded_slices": {},
            "label_colors": {},
            "shared_label_colors": [],
            "timed_refresh_immune_slices": [],
            "default_filters": "{}",
            "chart_configuration": {},
            "global_chart_configuration": {},
        },
    }


def _is_wide(chart: Chart) -> bool:
    return chart.time is None and len(chart.group_by) + len(chart.metrics) > 4


def write_bundle(settings: Settings, path: Path) -> int:
    """Write the bundle as Superset's import expects it (under one folder); its chart count."""
    files = bundle(settings)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in sorted(files.items()):
            archive.writestr(f"kpi_mart/{name}", text)
    path.write_bytes(buffer.getvalue())
    return sum(name.startswith("charts/") for name in files)


# --------------------------------------------------------------------------------------------
# The home: secret key and admin password


def _private_file(path: Path, make) -> tuple[str, bool]:
    """The file's text, created with ``make()`` (readable by its owner only) when missing;
    whether it was created."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    value = make()
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(value + "\n")
    return value, True


def secret_key(settings: Settings) -> str:
    return _private_file(settings.bi_home / "secret_key", lambda: secrets.token_urlsafe(48))[0]


def admin_password(settings: Settings) -> tuple[str, bool]:
    """KPI_BI_PASSWORD, or the home's generated one; whether it was generated just now."""
    given = os.environ.get("KPI_BI_PASSWORD")
    if given:
        return given, False
    return _private_file(settings.bi_home / "admin_password", lambda: secrets.token_urlsafe(16))


# --------------------------------------------------------------------------------------------
# Provision and serve (with bi/.venv's Python)


def _superset_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KPI_BI_PASSWORD"}
    return env | {
        "KPI_BI_HOME": str(settings.bi_home),
        "SUPERSET_HOME": str(settings.bi_home),
        "SUPERSET_CONFIG_PATH": str(BI_PROJECT_DIR / "superset_config.py"),
    }


def provision(settings: Settings) -> tuple[int, str | None]:
    """Provision Superset's home for this data directory (from nothing, or in place): the
    number of charts, and the admin password when it was generated just now (else None)."""
    if not BI_PYTHON.exists():
        raise BiError("the BI environment is not installed: run `make bi`")
    if not published_path(settings).exists():
        raise BiError("nothing is published yet: run `kpi refresh` (or `make run`) first")
    settings.bi_home.mkdir(parents=True, exist_ok=True)
    secret_key(settings)
    password, generated = admin_password(settings)
    bundle_file = settings.bi_home / "bundle.zip"
    charts = write_bundle(settings, bundle_file)
    log = settings.bi_home / "provision.log"
    with log.open("w", encoding="utf-8") as output:
        done = subprocess.run(
            [str(BI_PYTHON), str(BI_PROJECT_DIR / "launch.py"), "provision", str(bundle_file)],
            env=_superset_env(settings) | {"KPI_BI_PASSWORD": password},
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
        last = lines[-1] if lines else f"exit {done.returncode}"
        raise BiError(f"provisioning Superset failed: {last} (the whole output: {log})")
    return charts, password if generated else None


def serve(settings: Settings, host: str, port: int) -> int:
    """Superset on ``host:port`` until it ends or this process is asked to stop."""
    command = [str(BI_PYTHON), str(BI_PROJECT_DIR / "launch.py"), "serve", host, str(port)]
    return supervise(command, "Superset", env=_superset_env(settings))
