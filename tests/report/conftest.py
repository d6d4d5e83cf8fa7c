"""A tiny published KPI mart, built by hand, whose figures the tests can compute on paper.

61 days of data, 2025-05-01 (a Thursday) to 2025-06-30 (the as-of date, a Monday): the weekly
charts show the 8 whole weeks May 5 - Jun 29. The headline window is the last 28 days
(Jun 3 - Jun 30) against the 28 before (May 6 - Jun 2):

- sessions 100 a day before; in the window alternately 100 and 140 → 3,360 vs 2,800 (+20.0%);
- sessions with a purchase 3 a day before; in the window 10 (of 100) and 2 (of 140) on
  alternate days → 168 / 3,360 = 5.00% (the mean of daily rates would be 5.71%) vs 3.00%;
- orders 3 → 6 a day (+100.0%); net revenue 300 → 540 a day (+80.0%);
  AOV numerator 330 → 600 a day: 110.00 → 100.00 (-9.1%);
- spend 10 a day, attributed revenue 50 → 90 a day: ROAS 5.00 → 9.00 (+80.0%) (kpi_daily and
  the per-day marts agree: the report reads the metrics, over the per-day marts);
- repurchase cohorts Jan-Jun; complete through March (Mar 31 + 90 days ≤ Jun 30):
  March 30 / 100 = 30.0%, February 25 / 100 = 25.0% (+5.00 pp);
- whole-shop turnover days June 4,500 / 100 = 45.0, May 6,000 / 100 = 60.0 (-25.0%, good).

Columns and types are those of the real marts: their dbt contracts (and the publication log's
DDL), so the fixture follows the marts when they change.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_project.cli.docs import published_models
from dagster_project.core.settings import PROJECT_ROOT, Settings
from dagster_project.serve.metrics import SEMANTIC_MANIFEST

# The tables the hand-made mart holds, with the columns and types of the real ones: the dbt
# contracts of the published marts, and the publication log's own DDL.
CORE_TABLES = (
    "dim_kpis",
    "kpi_daily",
    "kpi_traffic_daily",
    "kpi_traffic_totals_daily",
    "kpi_funnel_daily",
    "kpi_orders_daily",
    "kpi_repurchase_cohorts",
    "kpi_inventory_monthly",
    "kpi_campaigns",
    "kpi_campaigns_daily",
)
OPTIONAL_TABLES = (
    "kpi_experiments",
    "kpi_delivery_daily",
    "kpi_service_daily",
    "kpi_scorecard_monthly",
)


def _create_tables(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> None:
    models = published_models()
    for table in tables:
        columns = ", ".join(f"{c['name']} {c['data_type']}" for c in models[table]["columns"])
        con.execute(f"create table {table} ({columns})")


def _create_publication_log(con: duckdb.DuckDBPyConnection) -> None:
    """The publication log as a publication carries it (a copy of the build's)."""
    con.execute(
        (PROJECT_ROOT / "dagster_project/publish/sql/create_publication_log.sql").read_text()
    )
    con.execute("create table publication_log as select * from audit.publication_log")
    con.execute("drop table audit.publication_log")


CORE_ROWS = """
create temp table days as
select
    cast(day as date) as kpi_date,
    cast(day as date) > date '2025-06-02' as in_window,
    (cast(day as date) - date '2025-05-01') % 2 = 0 as is_even,
from range(date '2025-05-01', date '2025-07-01', interval 1 day) as t (day);

create temp table base as
select
    kpi_date,
    case when in_window and not is_even then 140 else 100 end as sessions,
    case when not in_window then 3 when is_even then 10 else 2 end as converted,
    case when in_window then 6 else 3 end as orders,
    case when in_window then 540 else 300 end as net_revenue,
    case when in_window then 600 else 330 end as aov_numerator,
    10 as spend,
    case when in_window then 90 else 50 end as attributed_revenue,
from days;

insert into dim_kpis by name
select * from (values
    ('sessions', 'Visits', 1, 'count of sessions', 'count', true),
    ('session_conversion_rate', 'Conversion rate', 2, 'sessions with a purchase ÷ sessions',
     'rate', true),
    ('funnel_step_rate', 'Funnel step conversion', 2, 'step k ÷ step k-1', 'rate', true),
    ('orders', 'Order volume', 4, 'count of valid orders', 'count', true),
    ('net_revenue', 'Net revenue', 4, 'GMV - discounts - refunds', 'currency', true),
    ('aov', 'AOV', 4, '(GMV - discounts) ÷ orders', 'currency', true),
    ('repurchase_rate_90d', 'Repurchase rate (cohort)', 4, 'reorders in 90 days', 'rate', true),
    ('inventory_turnover_days', 'Turnover days (DIO)', 5, 'inventory ÷ COGS * days', 'days',
     false),
    ('roas', 'ROAS', 7, 'attributed revenue ÷ spend', 'ratio', true),
    ('campaign_roi', 'Campaign ROI', 7, '(revenue - COGS - spend) ÷ spend', 'ratio', true)
) as t (kpi_id, kpi_name, section, formula, unit, higher_is_better);
update dim_kpis set sources = '', is_available = true;

insert into kpi_daily by name
select kpi_date, 'sessions' as kpi_id, sessions as numerator, null as denominator,
    sessions as value, 'count' as unit,
from base
union all
select kpi_date, 'session_conversion_rate', converted, sessions, converted / sessions, 'rate'
from base
union all
select kpi_date, 'orders', orders, null, orders, 'count' from base
union all
select kpi_date, 'net_revenue', net_revenue, null, net_revenue, 'currency' from base
union all
select kpi_date, 'aov', aov_numerator, orders, aov_numerator / orders, 'currency' from base
union all
select kpi_date, 'roas', attributed_revenue, spend, attributed_revenue / spend, 'ratio'
from base;
update kpi_daily set dimension = 'all', dimension_value = 'all';

insert into kpi_traffic_totals_daily by name
select kpi_date, sessions, sessions as visitors,
    converted as session_conversion_rate_numerator,
    sessions as session_conversion_rate_denominator,
    converted / sessions as session_conversion_rate,
from base;

insert into kpi_traffic_daily by name
select kpi_date, 'organic_search' as channel, 'web' as platform, 'desktop' as device,
    sessions - 40 as sessions, converted as session_conversion_rate_numerator,
    sessions - 40 as session_conversion_rate_denominator,
from base
union all
select kpi_date, 'paid_search', 'app', 'mobile', 40, 0, 40 from base;

insert into kpi_funnel_daily by name
select base.kpi_date, 'organic_search' as channel, 'web' as platform, 'desktop' as device,
    steps.step_number, steps.funnel_step, 100 as sessions,
    steps.previous_step_sessions, steps.step_sessions,
    steps.step_sessions as funnel_step_rate_numerator,
    steps.previous_step_sessions as funnel_step_rate_denominator,
    steps.step_sessions / steps.previous_step_sessions as funnel_step_rate,
from base
cross join (values
    (1, 'product_view', 100, 60), (2, 'add_to_cart', 60, 30),
    (3, 'begin_checkout', 30, 15), (4, 'purchase', 15, 5)
) as steps (step_number, funnel_step, previous_step_sessions, step_sessions);

insert into kpi_orders_daily by name
select kpi_date, 'organic_search' as channel, 'web' as platform, orders,
    net_revenue, aov_numerator, orders as aov_denominator, aov_numerator / orders as aov,
from base;

insert into kpi_repurchase_cohorts by name
select cohort_month, tier as member_tier,
    numerator as repurchase_rate_90d_numerator, 100 as repurchase_rate_90d_denominator,
    numerator / 100 as repurchase_rate_90d,
    cohort_month <= date '2025-03-01' as is_complete, date '2025-06-30' as as_of_date,
from (values
    (date '2025-01-01', 20), (date '2025-02-01', 25), (date '2025-03-01', 30),
    (date '2025-04-01', 22), (date '2025-05-01', 15), (date '2025-06-01', 5)
) as cohorts (cohort_month, numerator)
cross join (values ('all'), ('gold')) as tiers (tier);

insert into kpi_inventory_monthly by name
select kpi_month, category, days_numerator as inventory_turnover_days_numerator,
    100 as inventory_turnover_days_denominator,
    days_numerator / 100 as inventory_turnover_days,
from (values
    (date '2025-05-01', 'all', 6000), (date '2025-05-01', 'Apparel', 7000),
    (date '2025-05-01', 'Home', 5000), (date '2025-06-01', 'all', 4500),
    (date '2025-06-01', 'Apparel', 5200), (date '2025-06-01', 'Home', 3100)
) as t (kpi_month, category, days_numerator);

insert into kpi_campaigns by name
select * from (values
    ('CMP-01', 'Summer Search', 'paid_search', date '2025-05-01', 400.00, 2400.00, 2000.00, 1.5),
    ('CMP-02', 'Newsletter', 'email', date '2025-06-01', 100.00, 1200.00, 900.00, 8.0)
) as t (campaign_id, name, channel, start_date, spend, roas_numerator, campaign_roi_numerator,
        ctr);
insert into kpi_campaigns_daily by name
select 'CMP-01' as campaign_id, kpi_date, spend, attributed_revenue,
    attributed_revenue as roas_numerator, spend as roas_denominator,
    attributed_revenue / spend as roas,
from base;

update kpi_campaigns set roas_denominator = spend, campaign_roi_denominator = spend,
    roas = roas_numerator / spend, campaign_roi = campaign_roi_numerator / spend;
"""

OPTIONAL_ROWS = """
insert into kpi_experiments by name
select * from (values
    ('EXP-01', 'control', true, 1000, 30, 0.030, null, null, null, null, false, false),
    ('EXP-01', 'treatment', false, 1000, 45, 0.045, 0.015, 0.0012, 0.0288, 0.046, true, false),
    ('EXP-02', 'control', true, 800, 40, 0.050, null, null, null, null, false, false),
    ('EXP-02', 'treatment', false, 820, 38, 0.046, -0.004, -0.025, 0.017, 0.71, false, true)
) as t (experiment_id, variant, is_control, units, converters, conversion_rate,
        absolute_lift, ci_lower, ci_upper, p_value, is_significant, has_sample_ratio_mismatch);

insert into kpi_delivery_daily by name
select kpi_date, carrier, on_time as on_time_delivery_rate_numerator,
    10 as on_time_delivery_rate_denominator, on_time / 10 as on_time_delivery_rate,
from days
cross join (values ('SF Express', 9), ('ZTO', 8)) as carriers (carrier, on_time);

insert into kpi_service_daily by name
select kpi_date, 'chat' as channel, 'delivery' as category,
    8 as csat_numerator, 10 as csat_denominator, 0.8 as csat,
    300 as nps_numerator, 10 as nps_denominator, 30 as nps,
from days;

insert into kpi_scorecard_monthly by name
select * from (values
    ('sessions', date '2025-06-01', 'Growth', 'all', 3500.0, 3000.0, 1.1667, 60.0, 70.0),
    ('roas', date '2025-06-01', 'Growth', 'all', 9.0, 10.0, 0.9, 40.0, 36.0),
    ('inventory_turnover_days', date '2025-06-01', 'Merchandising', 'all', 45.0, 50.0, 1.1111,
     100.0, 111.11),
    ('sessions', date '2025-05-01', 'Growth', 'all', 3000.0, 3000.0, 1.0, 60.0, 60.0),
    -- a target for one channel, owned by another team: not the shop-wide tile's target
    ('sessions', date '2025-06-01', 'Acquisition', 'channel:paid_search', 800.0, 1000.0, 0.8,
     100.0, 80.0)
) as t (kpi_id, month, owner_team, scope, actual, target, attainment, weight, score);

insert into publication_log by name
select * from (values
    ('run-1', date '2025-06-29', timestamptz '2025-06-30 18:00:00+00',
     timestamptz '2025-06-30 18:02:00+00', 38, 2, 'failed'),
    ('run-2', date '2025-06-30', timestamptz '2025-06-30 19:00:00+00',
     timestamptz '2025-06-30 19:03:00+00', 42, 0, 'published')
) as t (run_id, as_of_date, started_at, finished_at, checks_passed, checks_failed, outcome);
"""


def build_mart(path: Path, *, optional: bool = False, schema: str = "main") -> Path:
    """Write the hand-made mart to ``path``; with ``optional``, also the not-yet-published
    tables and a publication log."""
    con = duckdb.connect(str(path))
    try:
        if schema != "main":
            con.execute(f"create schema {schema}")
            con.execute(f"use {schema}")
        _create_tables(con, CORE_TABLES + (OPTIONAL_TABLES if optional else ()))
        if optional:
            _create_publication_log(con)
        con.execute(CORE_ROWS)
        if optional:
            con.execute(OPTIONAL_ROWS)
    finally:
        con.close()
    return path


@pytest.fixture(autouse=True)
def metric_definitions(semantic_manifest: Path) -> None:
    """The report reads the metrics as the data directory's dbt parse defines them: the
    session's parse, copied into each test's data directory (with its time, so it is current)."""
    target = Settings.from_env().dbt_target_dir / SEMANTIC_MANIFEST
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(semantic_manifest, target)


@pytest.fixture
def core_mart(tmp_path: Path) -> Path:
    """The tables published today: no A/B, delivery, service, scorecard or publication log."""
    return build_mart(tmp_path / "kpi_mart.duckdb")


@pytest.fixture
def full_mart(tmp_path: Path) -> Path:
    return build_mart(tmp_path / "kpi_mart_full.duckdb", optional=True)


@pytest.fixture
def mart_builder():
    """build_mart, for tests that need a variant of the mart."""
    return build_mart
