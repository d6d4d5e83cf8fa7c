"""Number formatting by KPI unit (dim_kpis: count, rate, ratio, currency, days, and score)."""

from __future__ import annotations

import datetime as dt
import math

# A rate is shown as a percentage, its change in percentage points; every other unit changes
# relatively. NPS-like scores (-100..100) change in points.
POINT_CHANGE_UNITS = frozenset({"rate", "score"})
MINUS = "\u2212"
# an en dash: for a missing value, and between the ends of a range
DASH = NO_VALUE = "\u2013"


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value: float | None, unit: str, currency: str, *, compact: bool = False) -> str:
    """A KPI value as a reader expects it: 2.80%, CNY 1,804,578, 50.5 days, 5.88."""
    if _missing(value):
        return NO_VALUE
    value = float(value)
    if unit == "rate":
        return f"{value:.2%}" if abs(value) < 0.1 else f"{value:.1%}"
    if unit == "currency":
        number = (
            compact_number(value) if compact else _grouped(value, 2 if abs(value) < 1000 else 0)
        )
        return f"{currency} {number}"
    if unit == "days":
        return f"{value:,.1f} days"
    if unit == "count":
        return compact_number(value) if compact else _grouped(value, 0)
    if unit == "score":
        return f"{value:+.1f}" if value else "0.0"
    return f"{value:,.2f}"


def format_tick(value: float, unit: str) -> str:
    """An axis tick: short, unit shown in the axis title rather than on every tick."""
    if unit == "rate":
        span = abs(value)
        return f"{value:.0%}" if span >= 0.1 or value == 0 else f"{value:.1%}"
    if unit in {"ratio"} and abs(value) < 10:
        return f"{value:g}"
    return compact_number(value)


def format_change(change: float | None, unit: str) -> str:
    """A change between periods: +0.15 pp for rates and scores, +4.2% for everything else."""
    if _missing(change):
        return NO_VALUE
    if unit == "rate":
        text = f"{change * 100:+.2f} pp"
    elif unit == "score":
        text = f"{change:+.1f} pts"
    else:
        text = f"{change:+.1%}"
    return text.replace("-", MINUS)


def compact_number(value: float) -> str:
    """12.3k, 1.80M: for ticks and tight labels."""
    magnitude = abs(value)
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= threshold:
            return f"{value / threshold:.3g}{suffix}"
    return f"{value:.3g}" if magnitude < 100 else f"{value:.0f}"


def _grouped(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def format_date_label(value: str, *, monthly: bool) -> str:
    """Axis label of an ISO date: 'Nov 30', or 'Nov 2025' for monthly data."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return value
    return day.strftime("%b %Y") if monthly else f"{day:%b} {day.day}"


def format_month(value: dt.date | None) -> str:
    return value.strftime("%b %Y") if value else NO_VALUE
