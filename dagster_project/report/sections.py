"""The report's contents, declared: which tiles, charts and tables it shows, from which tables.

Adding a chart is a query (returning ``series``, ``x``, ``y`` and optionally ``kpi_id``,
``unit`` and extra columns that travel with each point) and a :class:`ChartSpec` here: a
function in ``figures.py`` when it aggregates a KPI over days (it asks the metrics), else a
query of rows at a mart's own grain in ``sql/``. A part whose tables are not in the publication
is shown as not available.
"""

from __future__ import annotations

from dataclasses import dataclass

# The period compared by the window tiles, and how many whole weeks the trend charts show.
WINDOW_DAYS = 28
TREND_WEEKS = 26


@dataclass(frozen=True)
class TileSpec:
    kpi_id: str
    # a query (figures.TILES or sql/) returning kpi_id, period ('current'/'previous'),
    # period_start, period_end, is_full, value
    query: str
    tables: tuple[str, ...]
    # window: the latest days vs the days before; cohort / month: one period vs the one before
    period: str = "window"
    label: str | None = None


@dataclass(frozen=True)
class ChartSpec:
    id: str
    title: str
    query: str
    kind: str  # stacked_bars, grouped_bars, lines, combo, hbars, funnel, intervals
    tables: tuple[str, ...]
    subtitle: str = ""
    x_label: str = ""
    y_label: str = ""
    y2_label: str = ""
    # KPI ids drawn against the right-hand axis
    right_axis: tuple[str, ...] = ()
    # unit of series whose KPI is not in dim_kpis and whose query names none
    unit: str = "count"
    note: str = ""
    wide: bool = False


@dataclass(frozen=True)
class TableSpec:
    id: str
    title: str
    query: str
    tables: tuple[str, ...]
    subtitle: str = ""


@dataclass(frozen=True)
class SectionSpec:
    id: str
    title: str
    parts: tuple[ChartSpec | TableSpec, ...]


# the tables the window tiles' metrics read
_TRAFFIC, _ORDERS = ("kpi_traffic_daily",), ("kpi_orders_daily",)

TILES: tuple[TileSpec, ...] = (
    TileSpec("sessions", "tile_windows", _TRAFFIC, label="Sessions"),
    TileSpec("session_conversion_rate", "tile_windows", _TRAFFIC, label="Session conversion"),
    TileSpec("orders", "tile_windows", _ORDERS, label="Orders"),
    TileSpec("net_revenue", "tile_windows", _ORDERS),
    TileSpec("aov", "tile_windows", _ORDERS, label="AOV"),
    TileSpec(
        "repurchase_rate_90d",
        "tile_repurchase",
        ("kpi_repurchase_cohorts",),
        period="cohort",
        label="Repurchase rate 90d",
    ),
    TileSpec(
        "inventory_turnover_days",
        "tile_turnover_days",
        ("kpi_inventory_monthly",),
        period="month",
        label="Turnover days",
    ),
    TileSpec("roas", "tile_windows", ("kpi_campaigns_daily",), label="ROAS"),
)

TARGETS = TableSpec("targets", "Targets", "tile_targets", ("kpi_scorecard_monthly",))

_WEEKS = "the latest {weeks} whole weeks (Monday to Sunday) to {as_of}"
# typographic signs kept as escapes so the source stays plain ASCII where it matters
TIMES, MINUS, DASH = "\u00d7", "\u2212", "\u2013"

SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(
        id="traffic",
        title="Traffic & conversion",
        parts=(
            ChartSpec(
                id="traffic_by_channel",
                title="Sessions by channel",
                query="traffic_by_channel",
                kind="stacked_bars",
                tables=("kpi_traffic_daily",),
                subtitle="Weekly sessions, " + _WEEKS,
                y_label="Sessions per week",
                x_label="Week ending",
                wide=True,
            ),
            ChartSpec(
                id="funnel",
                title="Purchase funnel",
                query="funnel",
                kind="funnel",
                tables=("kpi_funnel_daily",),
                subtitle="Closed in-session funnel, {window_days} days to {as_of}",
                note="A session counts at a step only if it reached every earlier step in order.",
            ),
            ChartSpec(
                id="conversion_trend",
                title="Session conversion rate",
                query="conversion_trend",
                kind="lines",
                tables=("kpi_traffic_daily",),
                subtitle="Sessions with a purchase ÷ sessions, weekly, " + _WEEKS,
                y_label="Conversion",
                x_label="Week ending",
            ),
        ),
    ),
    SectionSpec(
        id="orders",
        title="Orders & customers",
        parts=(
            ChartSpec(
                id="orders_aov",
                title="Orders and AOV",
                query="orders_aov",
                kind="combo",
                tables=("kpi_orders_daily",),
                subtitle="Valid orders (bars) and AOV (line), weekly, " + _WEEKS,
                y_label="Orders per week",
                y2_label="AOV ({currency})",
                x_label="Week ending",
                right_axis=("aov",),
            ),
            ChartSpec(
                id="repurchase_cohorts",
                title="Repurchase rate by cohort",
                query="repurchase_cohorts",
                kind="grouped_bars",
                tables=("kpi_repurchase_cohorts",),
                subtitle="Customers reordering within 90 days of their first order, by first-order "
                "month and member tier",
                y_label="Repurchase rate 90d",
                x_label="Cohort (first-order month)",
                note="Hatched bars: incomplete cohorts (the 90-day window has not closed yet).",
            ),
        ),
    ),
    SectionSpec(
        id="merchandise",
        title="Merchandise & marketing",
        parts=(
            ChartSpec(
                id="turnover_days_by_category",
                title="Inventory turnover days by category",
                query="turnover_days_by_category",
                kind="hbars",
                tables=("kpi_inventory_monthly",),
                subtitle=f"Average inventory at cost ÷ COGS {TIMES} days, {{month}}; "
                "lower is better",
            ),
            ChartSpec(
                id="campaign_returns",
                title="Campaign ROAS and ROI",
                query="campaign_returns",
                kind="hbars",
                tables=("kpi_campaigns",),
                subtitle="Whole campaign, last non-direct touch (7-day lookback)",
                note=f"ROAS = attributed net revenue ÷ spend; "
                f"ROI = (revenue {MINUS} COGS {MINUS} spend) ÷ spend.",
            ),
        ),
    ),
    SectionSpec(
        id="experiments",
        title="A/B tests",
        parts=(
            ChartSpec(
                id="experiments",
                title="A/B test results",
                query="experiments",
                kind="intervals",
                tables=("kpi_experiments",),
                unit="rate",
                subtitle="Conversion lift of each variant against control, with 95% confidence "
                "interval",
                x_label="Absolute lift in conversion (percentage points)",
                wide=True,
            ),
        ),
    ),
    SectionSpec(
        id="service",
        title="Delivery & customer service",
        parts=(
            ChartSpec(
                id="delivery_on_time",
                title="On-time delivery by carrier",
                query="delivery_on_time",
                kind="lines",
                tables=("kpi_delivery_daily",),
                unit="rate",
                subtitle="Delivered by the promised time ÷ delivered, weekly, " + _WEEKS,
                y_label="On-time rate",
                x_label="Week ending",
            ),
            ChartSpec(
                id="csat_nps",
                title="CSAT and NPS",
                query="service_csat_nps",
                kind="lines",
                tables=("kpi_service_daily",),
                subtitle=f"CSAT (share scoring 4{DASH}5) and NPS ({MINUS}100..100), weekly, "
                + _WEEKS,
                y_label="CSAT",
                y2_label="NPS",
                x_label="Week ending",
                right_axis=("nps",),
            ),
        ),
    ),
    SectionSpec(
        id="scorecard",
        title="KPI scorecard",
        parts=(
            TableSpec(
                id="scorecard",
                title="Team scorecard",
                query="scorecard",
                tables=("kpi_scorecard_monthly",),
                subtitle="{month}: attainment = actual ÷ target (target ÷ actual when lower is "
                f"better); score = min(attainment, 1.2) {TIMES} weight",
            ),
        ),
    ),
)
