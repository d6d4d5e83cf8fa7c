"""The KPI metrics for readers: MetricFlow, dbt's semantic layer, over the published mart.

The metrics and semantic models are defined in the dbt project
(``models/marts/kpi/_kpi__semantic.yml``); dbt's parse writes them to
``semantic_manifest.json``. Their tables are the build's (``"build"."marts".<model>``); here
they are the published mart's (``main.<model>``), opened read-only for each query, so a query
never touches the build warehouse and answers from exactly one publication while a refresh
builds and publishes another.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from dagster_project.core.settings import Settings
from dagster_project.publish.publication import published_path
from dagster_project.transform.parsed import is_current

SEMANTIC_MANIFEST = "semantic_manifest.json"
PUBLISHED_SCHEMA = "main"  # where publish() writes each published model, under its own name
# A connect in the microseconds of a publication's rename fails with this before reading any
# data, and the next connect succeeds (docs/bi.md): a query retries it once.
OPEN_RACE = "Failed to load metadata pointer"


class MetricsError(Exception):
    """A query that cannot be answered, said in one line."""


def semantic_manifest_path(settings: Settings) -> Path:
    """dbt's semantic manifest, parsed for this data directory when missing or stale."""
    path = settings.dbt_target_dir / SEMANTIC_MANIFEST
    if not is_current(path):  # dbt parses (importing dagster-dbt alone takes 2 s)
        from dagster_project.transform.project import dbt_project

        dbt_project(settings).prepare_if_dev()
    return path


def move_to_published_mart(semantic_manifest: dict, schema: str = PUBLISHED_SCHEMA) -> None:
    """Point every table the semantic manifest (as parsed from its JSON) reads at the published
    mart (its tables in ``schema``)."""

    def published(relation: dict) -> dict:
        alias = relation["alias"]
        return {
            "alias": alias,
            "schema_name": schema,
            "database": None,
            "relation_name": f'"{schema}"."{alias}"',
        }

    for model in semantic_manifest["semantic_models"]:
        model["node_relation"] = published(model["node_relation"])
    for spine in semantic_manifest["project_configuration"].get("time_spines", []):
        spine["node_relation"] = published(spine["node_relation"])


class PublishedMartClient:
    """MetricFlow's SqlClient on the published mart: a new read-only connection per query, or,
    given ``connection``, that one (read-only, opened and closed by its owner): every answer
    then comes from the one publication it opened, whatever is published meanwhile."""

    def __init__(self, mart: Path, connection: duckdb.DuckDBPyConnection | None = None):
        from metricflow.protocols.sql_client import SqlEngine
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        self._mart = mart
        self._connection = connection
        self._engine = SqlEngine.DUCKDB
        self._renderer = DuckDbSqlPlanRenderer()

    @property
    def sql_engine_type(self):
        return self._engine

    @property
    def sql_plan_renderer(self):
        return self._renderer

    def _refuse_parameters(self, sql_bind_parameter_set) -> None:
        if sql_bind_parameter_set is not None and sql_bind_parameter_set.param_dict:
            raise MetricsError("bind parameters are not supported")

    def query(self, stmt: str, sql_bind_parameter_set=None):
        from metricflow.data_table.mf_table import MetricFlowDataTable

        self._refuse_parameters(sql_bind_parameter_set)
        if self._connection is None and not self._mart.exists():
            raise MetricsError(f"nothing is published yet ({self._mart}): run `kpi refresh`")
        try:
            names, rows = self._read(stmt)
        except duckdb.Error as error:
            if OPEN_RACE not in str(error):
                raise
            names, rows = self._read(stmt)  # the connect met a publication's rename: again
        return MetricFlowDataTable.create_from_rows(names, rows)

    @contextmanager
    def _open(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The owner's connection, or a new read-only one to the mart, closed after use."""
        if self._connection is not None:
            yield self._connection
            return
        with duckdb.connect(str(self._mart), read_only=True) as con:
            con.execute("set TimeZone = 'UTC'")
            yield con

    def _read(self, stmt: str) -> tuple[list[str], list[tuple]]:
        with self._open() as con:
            cursor = con.execute(stmt)
            return [column[0] for column in cursor.description], cursor.fetchall()

    def execute(self, stmt: str, sql_bind_parameter_set=None) -> None:
        raise MetricsError("the published mart is read-only")

    def dry_run(self, stmt: str, sql_bind_parameter_set=None) -> None:
        self._refuse_parameters(sql_bind_parameter_set)
        with self._open() as con:
            con.execute(f"explain {stmt}")

    def close(self) -> None:
        return None

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        raise MetricsError("bind parameters are not supported")


# MetricFlow's time grains, finest first
GRAINS = ("day", "week", "month", "quarter", "year")
TIME = "metric_time"


@dataclass(frozen=True)
class ExactOnlyAt:
    """Where a metric whose parts do not add up is exact (its ``config.meta.exact_only_at``):
    read at the period ``time`` only, grouped by every key of ``by``; ``why`` not elsewhere."""

    time: str | None
    by: tuple[str, ...]
    why: str

    def refusal(self, metric: str, group_by: Sequence[str], time_dimensions: set[str]) -> str:
        """Why ``metric`` grouped by ``group_by`` would not be exact, or '' when it is."""
        keys = {name.split("__")[-1] for name in group_by}
        missing = [key for key in self.by if key not in keys]
        periods = [_period(name, time_dimensions) for name in group_by]
        periods = [period for period in periods if period is not None]
        other_period = self.time is not None and (
            not periods or any(p not in ("", self.time) for p in periods)
        )
        if not missing and not other_period:
            return ""
        needed = [f"{TIME}__{self.time}"] if other_period else []
        return (
            f"{metric} is exact only {self.where()} ({self.why}): "
            f"--group-by needs {','.join(needed + missing)}"
        )

    def where(self) -> str:
        """'per month, by supplier'."""
        where = [f"per {self.time}"] if self.time else []
        if self.by:
            *others, last = self.by
            where.append(f"by {', '.join(others)} and {last}" if others else f"by {last}")
        return ", ".join(where)


def _period(name: str, time_dimensions: set[str]) -> str | None:
    """The grain a group-by asks of a time dimension ('' for its own), None if not a time."""
    parts = name.split("__")
    grain = parts[-1] if len(parts) > 1 and parts[-1] in GRAINS else ""
    base = parts[:-1] if grain else parts
    if base[-1] == TIME or base[-1] in time_dimensions:
        return grain
    return None


@dataclass(frozen=True)
class Answer:
    columns: list[str]
    rows: list[tuple]
    sql: str


class Metrics:
    """The metrics of a data directory's published mart; with ``connection``, of the mart that
    read-only connection has open (its tables in ``schema``), e.g. for a report that reads one
    publication throughout."""

    def __init__(
        self,
        settings: Settings,
        connection: duckdb.DuckDBPyConnection | None = None,
        schema: str = PUBLISHED_SCHEMA,
    ):
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.dbt_manifest_parser import (
            parse_manifest_from_dbt_generated_manifest,
        )
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        semantic_manifest = json.loads(semantic_manifest_path(settings).read_text("utf-8"))
        move_to_published_mart(semantic_manifest, schema)
        self.manifest = parse_manifest_from_dbt_generated_manifest(json.dumps(semantic_manifest))
        self._engine = MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(self.manifest),
            sql_client=PublishedMartClient(published_path(settings), connection),
        )
        self.exact_only_at = _exact_only_at(self.manifest)
        self._time_dimensions = {
            dimension.name
            for model in self.manifest.semantic_models
            for dimension in model.dimensions
            if dimension.type.value == "time"
        }

    def metric_names(self) -> list[str]:
        return sorted(metric.name for metric in self.manifest.metrics)

    def require(self, names: Sequence[str]) -> None:
        """Refuse the first of ``names`` that is no metric, naming the closest ones."""
        known = self.metric_names()
        for name in names:
            if name not in known:
                raise MetricsError(_unknown("metric", name, known))

    def describe(self) -> list[dict]:
        """Each metric: name, label, type, description and what it can be grouped by."""
        described = []
        for metric in sorted(self.manifest.metrics, key=lambda m: m.name):
            dimensions = self._engine.simple_dimensions_for_metrics([metric.name], ())
            entities = self._engine.entities_for_metrics([metric.name])
            described.append(
                {
                    "name": metric.name,
                    "label": metric.label or metric.name,
                    "type": metric.type.value,
                    "description": metric.description or "",
                    "group_by": sorted(
                        {d.dunder_name for d in dimensions} | {e.name for e in entities}
                    ),
                    "exact_only_at": self.exact_only_at.get(metric.name),
                    # the KPI it is, if any: the catalogue's fields (docs/kpis.md)
                    "kpi": meta(metric).get("kpi"),
                }
            )
        return described

    def _request(
        self,
        metrics: Sequence[str],
        group_by: Sequence[str],
        where: Sequence[str],
        start: datetime | None,
        end: datetime | None,
        order: Sequence[str],
        limit: int | None,
    ):
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        self.require(metrics)
        for name in metrics:
            exact = self.exact_only_at.get(name)
            refusal = exact and exact.refusal(name, group_by, self._time_dimensions)
            if refusal:
                raise MetricsError(refusal)
        return MetricFlowQueryRequest.create(
            metric_names=list(metrics),
            group_by_names=list(group_by),
            where_constraints=list(where) or None,
            time_constraint_start=start,
            time_constraint_end=end,
            # the rows in the order of what they are grouped by, unless asked otherwise
            order_by_names=list(order) or list(group_by) or None,
            limit=limit,
        )

    def _run(self, run, request):
        """``run(request)``, any error of MetricFlow's said in one line."""
        try:
            return run(request)
        except MetricsError:
            raise
        except Exception as error:
            raise MetricsError(_one_line(error)) from error

    def query(self, metrics, group_by=(), where=(), start=None, end=None, order=(), limit=None):
        request = self._request(metrics, group_by, where, start, end, order, limit)
        result = self._run(self._engine.query, request)
        table = result.result_df
        return Answer(list(table.column_names), [tuple(row) for row in table.rows], result.sql)

    def explain(self, metrics, group_by=(), where=(), start=None, end=None, order=(), limit=None):
        request = self._request(metrics, group_by, where, start, end, order, limit)
        return self._run(self._engine.explain, request).sql_statement.sql


def meta(metric) -> dict:
    """A metric's ``config.meta`` (empty when it has none)."""
    return (metric.config.meta if metric.config else None) or {}


def _exact_only_at(manifest) -> dict[str, ExactOnlyAt]:
    """Each metric's ExactOnlyAt: its own, or else the ratio's it is a part of."""
    found = {}
    for metric in manifest.metrics:
        if "exact_only_at" in meta(metric):
            given = meta(metric)["exact_only_at"]
            found[metric.name] = ExactOnlyAt(
                given.get("time"), tuple(given.get("by", ())), given["why"]
            )
    for metric in manifest.metrics:
        if metric.name in found and metric.type.value == "ratio":
            for part in (metric.type_params.numerator, metric.type_params.denominator):
                found.setdefault(part.name, found[metric.name])
    return found


def _unknown(kind: str, name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown {kind} {name!r}{hint} (`kpi metrics` lists them)"


def _one_line(error: Exception) -> str:
    """MetricFlow's message, which can run to a page, in one line: what was asked that does
    not resolve and MetricFlow's closest suggestions, or else its first line."""
    text = str(error)
    asked = _block_after(text, "Object Builder Input:") or _block_after(text, "Query Input:")
    if asked and "Suggestions:" in text:
        listed = text.split("Suggestions:", 1)[1].split("]", 1)[0]
        closest = [name.strip().strip(",").strip("'\"") for name in listed.splitlines()]
        closest = [name for name in closest if name and name != "["][:3]
        return f"{asked} matches nothing the metrics can be grouped or filtered by; closest: " + (
            ", ".join(closest)
        )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _block_after(text: str, heading: str) -> str:
    if heading not in text:
        return ""
    lines = [line.strip() for line in text.split(heading, 1)[1].splitlines() if line.strip()]
    return lines[0] if lines else ""
