"""The report's figures that aggregate KPIs over days: read through the metrics (MetricFlow over
the mart the report has open, ``serve/metrics.py``), so a week's or a window's conversion is
the metric's own Σ numerator ÷ Σ denominator, never summed again here.

Each function takes the metrics and the report's :class:`Period` and returns the rows a chart
draws (``series``, ``x``, ``y`` and optionally ``kpi_id``, ``unit`` and extra columns), or the
tile rows (``kpi_id``, ``period``, ``period_start``, ``period_end``, ``is_full``, ``value``).
Parts that read a mart's rows at their own grain (a campaign, a cohort, a month) stay plain
SQL in ``sql/``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dagster_project.serve.metrics import Metrics

WEEK = "metric_time__week"
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Period:
    """What the report covers: data from ``first_date``, as of ``as_of``."""

    as_of: dt.date
    first_date: dt.date
    weeks: int  # whole calendar weeks in the trend charts
    window_days: int  # days compared by the window tiles

    def whole_weeks(self) -> tuple[dt.date, dt.date] | None:
        """The Monday and Sunday bounding the latest ``weeks`` whole weeks (Monday to Sunday)
        that end on or before the as-of date and start on or after the first day of data:
        partial weeks would look like drops. None when no week is whole."""
        last_sunday = self.as_of - dt.timedelta(days=(self.as_of.weekday() + 1) % 7)
        first_monday = self.first_date + dt.timedelta(days=-self.first_date.weekday() % 7)
        start = max(first_monday, last_sunday - dt.timedelta(days=7 * self.weeks - 1))
        return (start, last_sunday) if start < last_sunday else None

    def window(self, back: int = 0) -> tuple[dt.date, dt.date]:
        """The ``window_days`` days ending on the as-of date, or ``back`` windows before."""
        end = self.as_of - dt.timedelta(days=back * self.window_days)
        return end - dt.timedelta(days=self.window_days - 1), end


def _query(
    metrics: Metrics,
    names: Sequence[str],
    group_by: Sequence[str],
    days: tuple[dt.date, dt.date],
) -> Rows:
    first, last = (dt.datetime.combine(day, dt.time()) for day in days)
    answer = metrics.query(names, group_by, start=first, end=last)
    rows = [dict(zip(answer.columns, row, strict=True)) for row in answer.rows]
    for row in rows:
        if isinstance(row.get(WEEK), dt.datetime):
            row[WEEK] = row[WEEK].date()
    return rows


def _weekly(metrics: Metrics, period: Period, names: Sequence[str], by: Sequence[str] = ()):
    """``names`` per whole week (and per ``by``), and the weeks' Sundays, oldest first."""
    weeks = period.whole_weeks()
    if weeks is None:
        return [], []
    rows = _query(metrics, names, [WEEK, *by], weeks)
    for row in rows:
        row["week_end"] = row.pop(WEEK) + dt.timedelta(days=6)
    sundays = [
        weeks[0] + dt.timedelta(days=6 + 7 * n) for n in range((weeks[1] - weeks[0]).days // 7 + 1)
    ]
    return rows, sundays


def _largest_first(metrics: Metrics, period: Period, rows: Rows, measure: str, by: str) -> Rows:
    """Weekly ``rows``, the values of ``by`` with the largest ``measure`` over the whole weeks
    first, each value's weeks in order."""
    weeks = period.whole_weeks()
    totals = _query(metrics, [measure], [by], weeks) if weeks else []
    order = sorted(totals, key=lambda row: (-(row[measure] or 0), row[by]))
    rank = {row[by]: n for n, row in enumerate(order)}
    return sorted(rows, key=lambda row: (rank.get(row[by], len(rank)), row["week_end"]))


def traffic_by_channel(metrics: Metrics, period: Period) -> Rows:
    """Sessions per channel and whole week, channels with the most sessions first."""
    rows, _ = _weekly(metrics, period, ["sessions"], ["channel"])
    rows = _largest_first(metrics, period, rows, "sessions", "channel")
    return [
        {
            "series": row["channel"].replace("_", " "),
            "kpi_id": "sessions",
            "x": row["week_end"],
            "y": row["sessions"],
        }
        for row in rows
    ]


def conversion_trend(metrics: Metrics, period: Period) -> Rows:
    """Weekly session conversion for the whole shop, then per platform."""
    metric = "session_conversion_rate"
    shop, _ = _weekly(metrics, period, [metric])
    platforms, _ = _weekly(metrics, period, [metric], ["platform"])
    platforms.sort(key=lambda row: (row["platform"], row["week_end"]))
    return [
        {"series": "All sessions", "kpi_id": metric, "x": row["week_end"], "y": row[metric]}
        for row in shop
    ] + [
        {"series": row["platform"], "kpi_id": metric, "x": row["week_end"], "y": row[metric]}
        for row in platforms
    ]


def orders_aov(metrics: Metrics, period: Period) -> Rows:
    """Weekly valid orders and AOV; a whole week without an order shows 0 orders, no AOV."""
    rows, sundays = _weekly(metrics, period, ["orders", "aov"])
    by_week = {row["week_end"]: row for row in rows}
    weekly = [by_week.get(sunday, {"orders": 0, "aov": None}) for sunday in sundays]
    return [
        {"series": "Orders", "kpi_id": "orders", "x": sunday, "y": row["orders"] or 0}
        for sunday, row in zip(sundays, weekly, strict=True)
    ] + [
        {"series": "AOV", "kpi_id": "aov", "x": sunday, "y": row["aov"]}
        for sunday, row in zip(sundays, weekly, strict=True)
    ]


def delivery_on_time(metrics: Metrics, period: Period) -> Rows:
    """Weekly on-time delivery per carrier, the carriers with the most deliveries first."""
    metric = "on_time_delivery_rate"
    rows, _ = _weekly(metrics, period, [metric], ["carrier"])
    rows = _largest_first(metrics, period, rows, f"{metric}_denominator", "carrier")
    return [
        {"series": row["carrier"], "kpi_id": metric, "x": row["week_end"], "y": row[metric]}
        for row in rows
    ]


def service_csat_nps(metrics: Metrics, period: Period) -> Rows:
    """Weekly CSAT (a rate) and NPS (a score, -100..100)."""
    rows, _ = _weekly(metrics, period, ["csat", "nps"])
    return [
        {"series": series, "kpi_id": kpi_id, "unit": unit, "x": row["week_end"], "y": row[kpi_id]}
        for series, kpi_id, unit in (("CSAT", "csat", "rate"), ("NPS", "nps", "score"))
        for row in rows
    ]


def funnel(metrics: Metrics, period: Period) -> Rows:
    """The closed in-session funnel over the window: sessions reaching each step, the step
    rate (the metric: ÷ the previous step) and the cumulative rate (÷ sessions, the first
    step's previous step)."""
    metric = "funnel_step_rate"
    step_number = "funnel_day__step_number"
    rows = _query(
        metrics,
        [f"{metric}_numerator", f"{metric}_denominator", metric],
        ["funnel_step", step_number],
        period.window(),
    )
    rows.sort(key=lambda row: row[step_number])
    sessions = rows[0][f"{metric}_denominator"] if rows else None
    if not sessions:
        return []
    points = [{"x": "sessions", "y": sessions, "step_rate": 1.0, "cumulative_rate": 1.0}] + [
        {
            "x": row["funnel_step"],
            "y": row[f"{metric}_numerator"],
            "step_rate": row[metric],
            "cumulative_rate": row[f"{metric}_numerator"] / sessions,
        }
        for row in rows
    ]
    return [
        {"series": "Sessions reaching the step", "kpi_id": metric, "unit": "count", **point}
        for point in points
    ]


def tile_windows(metrics: Metrics, period: Period, kpi_id: str) -> Rows:
    """The KPI over the latest window and over the window before (when it has data)."""
    rows = []
    for name, back in (("current", 0), ("previous", 1)):
        days = period.window(back)
        if days[1] < period.first_date:
            continue
        (answer,) = _query(metrics, [kpi_id], [], days)  # one row: no group-by
        rows.append(
            {
                "kpi_id": kpi_id,
                "period": name,
                "period_start": max(days[0], period.first_date),
                "period_end": days[1],
                "is_full": days[0] >= period.first_date,
                "value": answer[kpi_id],
            }
        )
    return rows


WEEKLY = (traffic_by_channel, conversion_trend, orders_aov, delivery_on_time, service_csat_nps)
CHARTS: dict[str, Callable[[Metrics, Period], Rows]] = {
    query.__name__: query for query in (*WEEKLY, funnel)
}


def why_empty(query: str, period: Period) -> str | None:
    """Why the chart of ``query`` has no rows, when the period alone says it."""
    weekly = {chart.__name__ for chart in WEEKLY}
    if query in weekly and period.whole_weeks() is None:
        return "The data holds no whole week (Monday to Sunday) up to the as-of date yet."
    return None


TILES: dict[str, Callable[[Metrics, Period, str], Rows]] = {"tile_windows": tile_windows}
