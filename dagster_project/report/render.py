"""Render the self-contained HTML KPI report from a (published) KPI mart file.

The mart is opened read-only, once: every figure comes from that one publication. Figures over
days (weekly trends, the window tiles, the funnel) are the KPI metrics (``figures.py``, through
MetricFlow); rows read at a mart's own grain are queries in ``sql/``. The page needs no
network: CSS is inline, charts are SVG drawn here, and the chart data is embedded as JSON
(``#report-data``) for checking.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from dagster_project.core.settings import Settings
from dagster_project.core.sql import SqlTemplates
from dagster_project.report import figures, sections
from dagster_project.report.formatting import (
    DASH,
    NO_VALUE,
    POINT_CHANGE_UNITS,
    format_change,
    format_month,
    format_value,
)
from dagster_project.report.model import (
    PALETTE,
    Chart,
    Point,
    Series,
    Table,
    Tile,
    Unavailable,
)
from dagster_project.report.sections import ChartSpec, SectionSpec, TableSpec, TileSpec
from dagster_project.report.svg import draw
from dagster_project.serve.metrics import Metrics, MetricsError

log = logging.getLogger(__name__)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# the report's queries of rows at a mart's own grain (sql/*.sql: plain SQL)
SQL = SqlTemplates(__package__)
# what reading a part can fail with: its SQL, or a metric query (said in one line)
READ_ERRORS = (duckdb.Error, MetricsError)
NOT_AVAILABLE = "Not available in this publication"
SOURCE_ABSENT = "Source absent"


@dataclass(frozen=True)
class ChartSummary:
    id: str
    title: str
    points: int


@dataclass(frozen=True)
class ReportSummary:
    """What a rendered report holds: for the asset's metadata and for tests."""

    out_file: Path
    as_of_date: dt.date | None
    is_published: bool
    charts: tuple[ChartSummary, ...]
    tiles: tuple[str, ...]
    unavailable: tuple[str, ...]
    # parts whose tables exist but could not be read (id, error)
    failed: tuple[tuple[str, str], ...] = field(default=())

    @property
    def point_counts(self) -> dict[str, int]:
        return {chart.id: chart.points for chart in self.charts}


def render_report(
    mart_db: Path,
    out_file: Path,
    *,
    schema: str = "main",
    currency: str | None = None,
    generated_at: dt.datetime | None = None,
) -> ReportSummary:
    """Write the HTML report of the mart in ``mart_db`` (schema ``schema``) to ``out_file``.

    ``currency`` defaults to the currency the mart names (``dim_shop``), else that of the
    settings. The file is written next to its destination and renamed over it, so a reader
    never sees half a report.
    """
    mart_db = Path(mart_db)
    if not mart_db.is_file():
        raise FileNotFoundError(f"no KPI mart at {mart_db}")
    if not _IDENTIFIER.fullmatch(schema):
        raise ValueError(f"not a schema name: {schema!r}")
    generated_at = generated_at or dt.datetime.now(dt.UTC)

    with _Mart(mart_db, schema) as mart:
        shop = _shop(mart)
        currency = currency or shop.get("currency") or Settings.from_env().currency
        page = _Page.build(mart, currency)

    data = {
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "as_of_date": page.as_of.isoformat() if page.as_of else None,
        "shop_name": shop.get("shop_name"),
        "currency": currency,
        "publication": page.publication,
        "tiles": [tile.to_json() for tile in page.tiles],
        "charts": [chart.to_json() for chart in page.charts],
        "tables": [table.to_json() for table in page.tables],
        "unavailable": [part.to_json() for part in page.unavailable],
    }
    html = _template().render(
        page=page,
        shop_name=shop.get("shop_name"),
        currency=currency,
        generated_at=generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        source=mart_db.name,
        window_days=sections.WINDOW_DAYS,
        report_data=_script_json(data),
    )
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    partial = out_file.with_name(f".{out_file.name}.partial")
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, out_file)

    return ReportSummary(
        out_file=out_file,
        as_of_date=page.as_of,
        is_published=page.publication is not None,
        charts=tuple(ChartSummary(c.id, c.title, c.point_count) for c in page.charts),
        tiles=tuple(tile.kpi_id for tile in page.tiles if tile.available),
        unavailable=tuple(part.id for part in page.unavailable),
        failed=tuple(page.failed),
    )


# ------------------------------------------------------------------------------ reading


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _Mart:
    """A read-only connection to the mart, and the metrics over it."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path, self.schema = path, schema

    def __enter__(self) -> _Mart:
        self.con = duckdb.connect(str(self.path), read_only=True)
        self.con.execute("set TimeZone = 'UTC'")
        self.con.execute("set schema = ?", [self.schema])
        self.tables = frozenset(
            row["table_name"] for row in self.rows("tables", schema=self.schema)
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()

    @cached_property
    def metrics(self) -> Metrics:
        """The KPI metrics answering from this connection (the metric definitions: the data
        directory's dbt parse)."""
        return Metrics(Settings.from_env(), connection=self.con, schema=self.schema)

    def read(
        self, of_metrics: Mapping[str, Any], query: str, period: figures.Period, *args: Any
    ) -> list[dict[str, Any]]:
        """A part's rows: ``of_metrics[query](metrics, period, *args)`` when the part reads
        the metrics (figures.py), else the rows of ``sql/<query>.sql`` up to the as-of date."""
        if query in of_metrics:
            return of_metrics[query](self.metrics, period, *args)
        return self.rows(query, as_of=period.as_of)

    def missing(self, tables: Iterable[str]) -> list[str]:
        return [table for table in tables if table not in self.tables]

    def rows(self, query: str, **params: Any) -> list[dict[str, Any]]:
        cursor = SQL.query(self.con, f"{query}.sql", params)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, map(_plain, row), strict=True)) for row in cursor.fetchall()]


# ----------------------------------------------------------------------------- building


@dataclass
class _Section:
    id: str
    title: str
    parts: list[Chart | Table | Unavailable]


@dataclass
class _Page:
    as_of: dt.date | None
    publication: dict[str, Any] | None
    tiles: list[Tile]
    sections: list[_Section]
    failed: list[tuple[str, str]]

    @property
    def charts(self) -> list[Chart]:
        return [p for s in self.sections for p in s.parts if isinstance(p, Chart)]

    @property
    def tables(self) -> list[Table]:
        return [p for s in self.sections for p in s.parts if isinstance(p, Table)]

    @property
    def unavailable(self) -> list[Unavailable]:
        return [p for s in self.sections for p in s.parts if isinstance(p, Unavailable)]

    @classmethod
    def build(cls, mart: _Mart, currency: str) -> _Page:
        publication = None
        if "publication_log" in mart.tables:
            found = mart.rows("publication")
            publication = found[0] if found else None
        kpis = _kpis(mart, (publication or {}).get("absent_sources") or [])
        first_date = last_date = None
        if "kpi_daily" in mart.tables:
            (data_range,) = mart.rows("data_range")
            first_date, last_date = data_range["first_date"], data_range["last_date"]
        as_of = (publication or {}).get("as_of_date") or last_date
        period = figures.Period(
            as_of=as_of or dt.date.today(),
            first_date=first_date or dt.date(1970, 1, 1),
            weeks=sections.TREND_WEEKS,
            window_days=sections.WINDOW_DAYS,
        )
        context = _Context(
            as_of=as_of.strftime("%b %-d, %Y") if as_of else NO_VALUE,
            window_days=sections.WINDOW_DAYS,
            weeks=sections.TREND_WEEKS,
            currency=currency,
        )
        page = cls(
            as_of=as_of,
            publication=_publication_json(publication),
            tiles=[],
            sections=[],
            failed=[],
        )
        page.tiles = _tiles(mart, kpis, currency, period, page.failed)
        for spec in sections.SECTIONS:
            page.sections.append(_section(mart, spec, kpis, currency, period, context, page.failed))
        return page


class _Context(dict):
    """Placeholders of titles and subtitles; an unknown placeholder stays as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _shop(mart: _Mart) -> dict[str, Any]:
    """The shop the mart describes (name, currency); empty for a mart without ``dim_shop``."""
    if "dim_shop" not in mart.tables:
        return {}
    found = mart.rows("shop")
    return found[0] if found else {}


def _kpis(mart: _Mart, absent_sources: Iterable[str]) -> dict[str, dict[str, Any]]:
    if "dim_kpis" not in mart.tables:
        return {}
    absent = set(absent_sources)
    kpis = {}
    for row in mart.rows("kpis"):
        # publications from before sources were declared: every KPI counts as available
        sources = [source for source in (row.get("sources") or "").split(", ") if source]
        kpis[row["kpi_id"]] = {
            "name": row["kpi_name"],
            "unit": row["unit"],
            "higher_is_better": row["higher_is_better"],
            "mart": row["mart"],
            "is_available": row.get("is_available", True),
            "absent_sources": [source for source in sources if source in absent],
        }
    return kpis


def _absent_sources_of(kpis: Iterable[Mapping[str, Any]]) -> str | None:
    """Why ``kpis`` are left out when every one of them needs an absent source, else None."""
    kpis = list(kpis)
    if not kpis or any(kpi["is_available"] for kpi in kpis):
        return None
    absent = sorted({source for kpi in kpis for source in kpi["absent_sources"]})
    return f"This shop never delivered {', '.join(absent) or 'a source these KPIs need'}."


def _publication_json(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        key: value.isoformat() if isinstance(value, dt.date) else value
        for key, value in row.items()
    }


def _section(
    mart: _Mart,
    spec: SectionSpec,
    kpis: Mapping[str, Mapping[str, Any]],
    currency: str,
    period: figures.Period,
    context: _Context,
    failed: list[tuple[str, str]],
) -> _Section:
    parts: list[Chart | Table | Unavailable] = []
    for part in spec.parts:
        wide = getattr(part, "wide", False) or isinstance(part, TableSpec)
        absent = _absent_sources_of(k for k in kpis.values() if k["mart"] in part.tables)
        if absent:
            parts.append(Unavailable(part.id, part.title, SOURCE_ABSENT, absent, wide))
            continue
        missing = mart.missing(part.tables)
        if missing:
            tables = ", ".join(missing)
            parts.append(
                Unavailable(
                    part.id,
                    part.title,
                    NOT_AVAILABLE,
                    f"The publication has no {tables} table.",
                    wide,
                )
            )
            continue
        try:
            rows = mart.read(figures.CHARTS, part.query, period)
        except READ_ERRORS as error:
            message = str(error).splitlines()[0]
            log.warning("report part %s could not be read: %s", part.id, message)
            failed.append((part.id, message))
            parts.append(
                Unavailable(
                    part.id,
                    part.title,
                    "Could not be read",
                    f"The query {part.query} failed: {message}",
                    wide,
                )
            )
            continue
        if not rows:
            parts.append(
                Unavailable(
                    part.id,
                    part.title,
                    "No data",
                    figures.why_empty(part.query, period)
                    or "The publication has no rows up to the as-of date.",
                    wide,
                )
            )
            continue
        local = _Context(context)
        if "month" in rows[0]:
            local["month"] = format_month(rows[0]["month"])
        if isinstance(part, ChartSpec):
            parts.append(_chart(part, rows, kpis, currency, local))
        else:
            parts.append(_scorecard(part, rows, currency, local))
    return _Section(spec.id, spec.title, parts)


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _chart(
    spec: ChartSpec,
    rows: list[dict[str, Any]],
    kpis: Mapping[str, Mapping[str, Any]],
    currency: str,
    context: _Context,
) -> Chart:
    by_name: dict[str, Series] = {}
    for row in rows:
        row = dict(row)
        name = str(row.pop("series"))
        x = _json_value(row.pop("x"))
        y = row.pop("y")
        kpi_id = row.pop("kpi_id", None)
        unit = row.pop("unit", None) or kpis.get(kpi_id, {}).get("unit") or spec.unit
        series = by_name.get(name)
        if series is None:
            series = by_name[name] = Series(
                name=name,
                kpi_id=kpi_id,
                unit=unit,
                points=[],
                color=PALETTE[len(by_name) % len(PALETTE)],
                axis="right" if kpi_id in spec.right_axis else "left",
            )
        extra = {key: _json_value(value) for key, value in row.items()}
        series.points.append(Point(str(x), None if y is None else float(y), extra))
    return Chart(
        id=spec.id,
        title=spec.title.format_map(context),
        kind=spec.kind,
        subtitle=spec.subtitle.format_map(context),
        series=list(by_name.values()),
        x_label=spec.x_label.format_map(context),
        y_label=spec.y_label.format_map(context),
        y2_label=spec.y2_label.format_map(context),
        note=spec.note.format_map(context),
        wide=spec.wide,
    )


def _scorecard(
    spec: TableSpec, rows: list[dict[str, Any]], currency: str, context: _Context
) -> Table:
    body: list[tuple[str, list[tuple[str, str]]]] = []
    for team, team_rows in _grouped(rows, "owner_team").items():
        for n, row in enumerate(team_rows):
            unit = row["unit"]
            attainment = row["attainment"]
            body.append(
                (
                    "",
                    [
                        (team if n == 0 else "", "team"),
                        (row["kpi_name"], ""),
                        (format_value(row["actual"], unit, currency), "num"),
                        (format_value(row["target"], unit, currency), "num"),
                        (
                            format_value(attainment, "rate", currency),
                            f"num {_attainment_tone(attainment)}",
                        ),
                        (_score(row["score"]), "num"),
                    ],
                )
            )
        body.append(
            (
                "total",
                [
                    ("", "team"),
                    ("Team total", ""),
                    ("", ""),
                    ("", ""),
                    ("", ""),
                    (_score(team_rows[0]["team_score"]), "num"),
                ],
            )
        )
    return Table(
        id=spec.id,
        title=spec.title,
        subtitle=spec.subtitle.format_map(context),
        columns=["Team", "KPI", "Actual", "Target", "Attainment", "Score"],
        rows=body,
        values=[{k: _json_value(v) for k, v in row.items()} for row in rows],
    )


def _score(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.1f}"


def _grouped(rows: Iterable[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return groups


def _attainment_tone(attainment: float | None) -> str:
    if attainment is None:
        return ""
    if attainment >= 1:
        return "good"
    return "warn" if attainment >= 0.9 else "bad"


# -------------------------------------------------------------------------------- tiles


def _tiles(
    mart: _Mart,
    kpis: Mapping[str, Mapping[str, Any]],
    currency: str,
    period: figures.Period,
    failed: list[tuple[str, str]],
) -> list[Tile]:
    periods: dict[tuple[str, str], dict[str, Any]] = {}
    for spec in sections.TILES:
        if mart.missing(spec.tables):
            continue
        try:
            rows = mart.read(figures.TILES, spec.query, period, spec.kpi_id)
        except READ_ERRORS as error:
            failed.append((spec.kpi_id, str(error).splitlines()[0]))
            continue
        periods.update({(row["kpi_id"], row["period"]): row for row in rows})

    targets: dict[str, dict[str, Any]] = {}
    if not mart.missing(sections.TARGETS.tables):
        try:
            targets = {
                row["kpi_id"]: row for row in mart.rows(sections.TARGETS.query, as_of=period.as_of)
            }
        except duckdb.Error as error:
            failed.append((sections.TARGETS.id, str(error).splitlines()[0]))

    return [
        _tile(spec, kpis.get(spec.kpi_id, {}), periods, targets.get(spec.kpi_id), currency)
        for spec in sections.TILES
    ]


def _tile(
    spec: TileSpec,
    kpi: Mapping[str, Any],
    periods: Mapping[tuple[str, str], Mapping[str, Any]],
    target: Mapping[str, Any] | None,
    currency: str,
) -> Tile:
    unit = kpi.get("unit") or "count"
    label = spec.label or kpi.get("name") or spec.kpi_id
    current = periods.get((spec.kpi_id, "current"))
    previous = periods.get((spec.kpi_id, "previous"))
    absent = _absent_sources_of([kpi] if kpi else [])
    if absent:
        return Tile(spec.kpi_id, label, unit, None, NO_VALUE, "", available=False, reason=absent)
    if current is None:
        return Tile(
            spec.kpi_id, label, unit, None, NO_VALUE, "", available=False, reason=NOT_AVAILABLE
        )
    value = current["value"]
    tile = Tile(
        kpi_id=spec.kpi_id,
        label=label,
        unit=unit,
        value=value,
        value_text=format_value(value, unit, currency),
        period_text=_period_text(spec.period, current),
    )
    if previous is not None and previous["is_full"] and current["is_full"]:
        tile.previous = previous["value"]
        tile.previous_text = (
            f"{_previous_label(spec.period, previous)}: "
            f"{format_value(previous['value'], unit, currency)}"
        )
        tile.change = _change(value, previous["value"], unit)
        tile.change_text = format_change(tile.change, unit)
        tile.change_tone = _tone(tile.change, unit, kpi.get("higher_is_better", True))
    else:
        tile.previous_text = "No complete previous period"
    if target is not None:
        tile.attainment = target["attainment"]
        tile.attainment_tone = _attainment_tone(tile.attainment)
        month = target["month"].strftime("%b") if target["month"] else ""
        attained = NO_VALUE if tile.attainment is None else f"{tile.attainment:.0%}"
        tile.target_text = (
            f"{attained} of {month} target {format_value(target['target'], unit, currency)}"
        )
    return tile


def _period_text(period: str, row: Mapping[str, Any]) -> str:
    start, end = row["period_start"], row["period_end"]
    if period == "cohort":
        return f"Latest complete cohort: {format_month(start)}"
    if period == "month":
        return f"Latest complete month: {format_month(start)}"
    days = (end - start).days + 1
    return f"{days} days, {start:%b %-d} {DASH} {end:%b %-d, %Y}"


def _previous_label(period: str, row: Mapping[str, Any]) -> str:
    if period == "cohort":
        return f"{format_month(row['period_start'])} cohort"
    if period == "month":
        return format_month(row["period_start"])
    return f"{row['period_start']:%b %-d} {DASH} {row['period_end']:%b %-d}"


def _change(current: float | None, previous: float | None, unit: str) -> float | None:
    if current is None or previous is None:
        return None
    if unit in POINT_CHANGE_UNITS:
        return current - previous
    if previous == 0:
        return None
    return current / previous - 1


def _tone(change: float | None, unit: str, higher_is_better: bool) -> str:
    threshold = 0.0005 if unit in POINT_CHANGE_UNITS else 0.005
    if change is None or abs(change) < threshold:
        return "flat"
    return "good" if (change > 0) == bool(higher_is_better) else "bad"


# ------------------------------------------------------------------------------- output


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(__package__, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(draw=draw, legend=_legend)
    return env.get_template("report.html.j2")


def _legend(chart: Chart) -> list[dict[str, str]]:
    if chart.kind in {"hbars", "funnel", "intervals"}:
        return []
    entries = []
    for series in chart.series:
        bar = chart.kind in {"stacked_bars", "grouped_bars"} or (
            chart.kind == "combo" and series.axis == "left"
        )
        mark = "bar" if bar else ("dashed" if chart.kind == "combo" else "line")
        entries.append({"name": series.name, "color": series.color, "mark": mark})
    if any(p.extra.get("is_partial") for s in chart.series for p in s.points):
        entries.append({"name": "incomplete", "color": "#9ca3af", "mark": "hatch"})
    return entries if len(entries) > 1 else []


def _script_json(data: Any) -> str:
    # "<" escaped so no value can close the script element
    return json.dumps(data, ensure_ascii=False, default=str).replace("<", "\\u003c")
