"""Each planted truth is recovered from the landing files by its KPI, computed plainly.

The SQL follows the recovery recipe in each truth's docstring (``truths.py``); latest
versions are used for re-delivered tables. Expectations and tolerances come from there.
Attribution alone is not written again here: the campaign return reads the pipeline's own
(int_orders_attributed, built by dbt on the landing files), and a test checks it against the
rule the generator plants with, order by order.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from dagster_project.core import warehouse
from dagster_project.core.settings import Settings
from dagster_project.ingest import contract
from dagster_project.ingest.loader import TableLoader
from demo_shop import GenerationSummary
from demo_shop.marketing import credit_orders
from demo_shop.truths import (
    CAMPAIGN_RETURN,
    CARRIER_ON_TIME,
    CHANNEL_CONVERSION,
    CSAT_BY_DELIVERY,
    DEMO,
    EXPERIMENT_WITH_LIFT,
    EXPERIMENT_WITHOUT_LIFT,
    TIER_REPURCHASE,
    ExperimentLift,
)
from tests.dbt_cli import run_dbt

LAST_DAY = DEMO.start + timedelta(days=DEMO.days - 1)
TZ = DEMO.timezone
# What int_orders_attributed is built from.
ATTRIBUTION_SOURCES = ("orders", "customers", "sessions")


@pytest.fixture(scope="module")
def attributed(
    demo: tuple[Path, GenerationSummary], tmp_path_factory: pytest.TempPathFactory
) -> pa.Table:
    """int_orders_attributed as the pipeline builds it from the demo's landing files: its
    sources loaded into a warehouse of their own, then `dbt run` of the model and its parents."""
    out, _ = demo
    settings = replace(Settings.from_env(), data_dir=tmp_path_factory.mktemp("attributed"))
    with warehouse.connect(settings) as con:
        for name in ATTRIBUTION_SOURCES:
            TableLoader(con, out, contract.table(name)).load()
    result = run_dbt(
        settings.data_dir / "dbt",
        "run",
        "--quiet",
        "--select",
        "+int_orders_attributed",
        data_dir=settings.data_dir,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with warehouse.connect(settings, read_only=True) as con:
        return con.sql(
            "select order_id, campaign_id, attributed_session_id"
            " from intermediate.int_orders_attributed"
        ).to_arrow_table()


def test_session_conversion_rate_per_channel(landing: duckdb.DuckDBPyConnection) -> None:
    rates = dict(
        landing.execute(
            """
            with purchasing_sessions as (
                select distinct session_id from events where event_type = 'purchase'
            )
            select
                channel,
                count(purchasing_sessions.session_id) / count(*) as conversion_rate,
            from sessions
            left join purchasing_sessions using (session_id)
            group by channel
            """
        ).fetchall()
    )
    assert set(rates) == set(CHANNEL_CONVERSION.rates)
    for channel, planted in CHANNEL_CONVERSION.rates.items():
        assert rates[channel] == pytest.approx(
            planted, rel=CHANNEL_CONVERSION.relative_tolerance
        ), channel


def test_repurchase_rate_90d_per_member_tier(landing: duckdb.DuckDBPyConnection) -> None:
    rates = dict(
        landing.execute(
            f"""
            with valid_orders as (
                select order_id, customer_id, ordered_at,
                from latest_orders
                where status <> 'cancelled'
            ),
            first_orders as (
                select customer_id, min(ordered_at) as first_ordered_at,
                from valid_orders
                group by customer_id
            ),
            cohorts as (
                select
                    first_orders.*,
                    latest_customers.member_tier,
                    date_trunc(
                        'month', cast(timezone('{TZ}', first_ordered_at) as date)
                    ) as cohort_month,
                from first_orders
                inner join latest_customers using (customer_id)
            ),
            outcomes as (
                select
                    cohorts.customer_id,
                    any_value(cohorts.member_tier) as member_tier,
                    any_value(cohorts.cohort_month) as cohort_month,
                    count(valid_orders.order_id) > 0 as repurchased,
                from cohorts
                left join valid_orders
                    on valid_orders.customer_id = cohorts.customer_id
                    and valid_orders.ordered_at > cohorts.first_ordered_at
                    and valid_orders.ordered_at <= cohorts.first_ordered_at + interval 90 day
                group by cohorts.customer_id
            )
            select member_tier, avg(case when repurchased then 1.0 else 0.0 end),
            from outcomes
            where cast(cohort_month + interval 1 month - interval 1 day as date) + 90
                <= date '{LAST_DAY.isoformat()}'
            group by member_tier
            """
        ).fetchall()
    )
    assert set(rates) == set(TIER_REPURCHASE.probability)
    for tier, planted in TIER_REPURCHASE.probability.items():
        assert rates[tier] == pytest.approx(planted, abs=TIER_REPURCHASE.tolerance), tier
    assert rates["none"] < rates["silver"] < rates["gold"]


def test_campaign_roas(landing: duckdb.DuckDBPyConnection, attributed: pa.Table) -> None:
    con = landing.cursor()
    con.register("attributed", attributed)
    roas = con.execute(
        """
        with valid_orders as (
            select order_id, discount_amount,
            from latest_orders
            where status <> 'cancelled'
        ),
        lines as (
            select order_id, sum(quantity * unit_price - discount_amount) as goods,
            from order_items
            group by order_id
        ),
        refunded as (
            select order_id, sum(amount) as refunded, from refunds group by order_id
        ),
        order_net as (
            select
                valid_orders.order_id,
                lines.goods - valid_orders.discount_amount
                    - coalesce(refunded.refunded, 0) as net_revenue,
            from valid_orders
            inner join lines using (order_id)
            left join refunded using (order_id)
        )
        select
            (
                select sum(order_net.net_revenue)
                from order_net
                inner join attributed using (order_id)
                where attributed.campaign_id = $1
            )
            / (select sum(spend) from ad_spend where campaign_id = $1)
        """,
        [CAMPAIGN_RETURN.campaign_id],
    ).fetchone()[0]
    con.close()
    assert float(roas) == pytest.approx(CAMPAIGN_RETURN.roas, abs=CAMPAIGN_RETURN.tolerance)


def test_the_generator_attributes_every_order_as_the_pipeline_does(
    landing: duckdb.DuckDBPyConnection, attributed: pa.Table
) -> None:
    """The rule the generator plants CampaignReturn with (``credit_orders``), applied to the
    landing files, credits each valid order to the session and campaign the pipeline does."""
    orders = landing.sql(
        """
        select
            latest_orders.order_id as order_no,
            latest_customers.visitor_id as visitor,
            epoch(latest_orders.ordered_at) as ordered_at,
        from latest_orders
        inner join latest_customers using (customer_id)
        where latest_orders.status <> 'cancelled'
        """
    ).to_arrow_table()
    touches = landing.sql(
        """
        select
            visitor_id as visitor,
            epoch(started_at) as started_at,
            session_id as session_no,
            campaign_id as campaign,
        from latest_sessions
        where campaign_id is not null
        """
    ).to_arrow_table()
    credited = credit_orders(orders, touches)
    by_generator = dict(
        zip(
            credited["order_no"],
            zip(credited["session_no"], credited["campaign"], strict=True),
            strict=True,
        )
    )
    valid = set(orders["order_no"].to_pylist())
    by_pipeline = {
        row["order_id"]: (row["attributed_session_id"], row["campaign_id"])
        for row in attributed.to_pylist()
        if row["order_id"] in valid
    }
    disagreeing = sorted(
        order
        for order in by_generator.keys() | by_pipeline.keys()
        if by_generator.get(order) != by_pipeline.get(order)
    )
    assert len(by_generator) > 1000
    assert disagreeing == [], [
        (order, by_generator.get(order), by_pipeline.get(order)) for order in disagreeing[:5]
    ]


def _arms(landing: duckdb.DuckDBPyConnection, experiment_id: str) -> dict[str, tuple[int, int]]:
    """Units and converters per variant (catalogue §3: a purchase after assignment and no
    later than the experiment's end date)."""
    rows = landing.execute(
        f"""
        with purchases as (
            select sessions.visitor_id, events.event_at,
            from events
            inner join sessions using (session_id)
            where events.event_type = 'purchase'
        ),
        converters as (
            select distinct assignments.visitor_id,
            from experiment_assignments as assignments
            inner join experiments using (experiment_id)
            inner join purchases
                on purchases.visitor_id = assignments.visitor_id
                and purchases.event_at >= assignments.assigned_at
                and cast(timezone('{TZ}', purchases.event_at) as date) <= experiments.end_date
            where assignments.experiment_id = $1
        )
        select
            assignments.variant,
            count(*) as units,
            count(converters.visitor_id) as converted,
        from experiment_assignments as assignments
        left join converters using (visitor_id)
        where assignments.experiment_id = $1
        group by assignments.variant
        """,
        [experiment_id],
    ).fetchall()
    return {variant: (units, converted) for variant, units, converted in rows}


@pytest.mark.parametrize(
    "truth", [EXPERIMENT_WITH_LIFT, EXPERIMENT_WITHOUT_LIFT], ids=lambda t: t.experiment_id
)
def test_experiment_relative_lift(
    truth: ExperimentLift, landing: duckdb.DuckDBPyConnection
) -> None:
    arms = _arms(landing, truth.experiment_id)
    (n_c, x_c), (n_t, x_t) = arms["control"], arms["treatment"]
    lift = (x_t / n_t) / (x_c / n_c) - 1
    assert lift == pytest.approx(truth.relative_lift, abs=truth.tolerance)


def test_experiment_with_lift_is_significant_at_demo_size(
    landing: duckdb.DuckDBPyConnection,
) -> None:
    """The demo is big enough for the planted lift to be detected (pooled z-test, 5%)."""
    arms = _arms(landing, EXPERIMENT_WITH_LIFT.experiment_id)
    (n_c, x_c), (n_t, x_t) = arms["control"], arms["treatment"]
    pooled = (x_c + x_t) / (n_c + n_t)
    z = (x_t / n_t - x_c / n_c) / math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    assert z > 1.96


def test_on_time_delivery_rate_per_carrier(landing: duckdb.DuckDBPyConnection) -> None:
    rates = dict(
        landing.execute(
            """
            select
                carrier,
                avg(case when delivered_at <= promised_at then 1.0 else 0.0 end),
            from latest_shipments
            where status = 'delivered'
            group by carrier
            """
        ).fetchall()
    )
    assert set(rates) == set(CARRIER_ON_TIME.rates)
    for carrier, planted in CARRIER_ON_TIME.rates.items():
        assert rates[carrier] == pytest.approx(planted, abs=CARRIER_ON_TIME.tolerance), carrier


def test_csat_after_on_time_and_late_deliveries(landing: duckdb.DuckDBPyConnection) -> None:
    csat = dict(
        landing.execute(
            """
            with deliveries as (
                select latest_shipments.*, latest_orders.customer_id,
                from latest_shipments
                inner join latest_orders using (order_id)
                where latest_shipments.status = 'delivered'
            ),
            matched as (
                select
                    surveys.csat_score,
                    deliveries.delivered_at <= deliveries.promised_at as on_time,
                    row_number() over (
                        partition by surveys.survey_id order by deliveries.delivered_at desc
                    ) as match_rank,
                from surveys
                inner join deliveries
                    on deliveries.customer_id = surveys.customer_id
                    and deliveries.delivered_at <= surveys.responded_at
                where surveys.ticket_id is null and surveys.csat_score is not null
            )
            select on_time, avg(case when csat_score >= 4 then 1.0 else 0.0 end),
            from matched
            where match_rank = 1
            group by on_time
            """
        ).fetchall()
    )
    assert csat[True] == pytest.approx(CSAT_BY_DELIVERY.on_time, abs=CSAT_BY_DELIVERY.tolerance)
    assert csat[False] == pytest.approx(CSAT_BY_DELIVERY.late, abs=CSAT_BY_DELIVERY.tolerance)
