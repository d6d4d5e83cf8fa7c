"""Campaigns and their daily ad spend, priced so that one campaign has a known ROAS.

Clicks follow the sessions each campaign brought (a click becomes a tracked session with
``LANDING_RATE``); spend is clicks times a noisy cost per click. For the truth campaign the
spend is instead set from its attributed net revenue -- computed here with the attribution
rule of ``truths.CampaignReturn`` (``attribution.sql``) -- so ROAS equals the planted value up
to cent rounding. tests/demo_shop/test_truths.py checks that rule, order by order, against
the pipeline's own attribution (int_orders_attributed) built on the generated files.
"""

from __future__ import annotations

from importlib import resources

import duckdb
import numpy as np
import pyarrow as pa

from . import catalog
from .fulfilment import Delivered
from .shop import Shop
from .truths import CAMPAIGN_RETURN, CHANNELS
from .writer import Column, LandingWriter

ATTRIBUTION_SQL = resources.files(__package__).joinpath("attribution.sql").read_text()


def credit_orders(orders: pa.Table, touches: pa.Table) -> dict[str, np.ndarray]:
    """The orders credited to a campaign, last non-direct touch, 7 days (``attribution.sql``):
    each with its own columns and the ``session_no`` and ``campaign`` credited; orders without
    a campaign session in the lookback are left out.

    ``orders`` has ``order_no``, ``visitor`` and ``ordered_at``; ``touches`` (the campaign
    sessions) ``visitor``, ``started_at``, ``session_no`` and ``campaign``; times in epoch
    seconds.
    """
    with duckdb.connect() as con:
        con.register("orders", orders)
        con.register("touches", touches)
        return con.execute(ATTRIBUTION_SQL).fetchnumpy()


def attributed_net_revenue(shop: Shop, delivered: Delivered) -> np.ndarray:
    """Net revenue (cents) credited to each campaign, last non-direct touch, 7 days."""
    o = shop.out
    customer = o.get("order_customer")
    orders = pa.table(
        {
            "order_no": o.get("order_no"),
            "visitor": shop.customer_visitor.data[customer],
            "ordered_at": o.get("order_at"),
            "net": delivered.order_net,
        }
    ).filter(pa.array(delivered.order_valid))
    touches = pa.table(
        {
            "visitor": o.get("cs_visitor"),
            "started_at": o.get("cs_started"),
            "session_no": o.get("cs_session"),
            "campaign": o.get("cs_campaign"),
        }
    )
    credited = credit_orders(orders, touches)
    revenue = np.zeros(len(catalog.CAMPAIGN_IDS), dtype=np.int64)
    np.add.at(revenue, credited["campaign"].astype(np.int64), credited["net"].astype(np.int64))
    return revenue


def write_marketing(
    shop: Shop, writer: LandingWriter, delivered: Delivered, rng: np.random.Generator
) -> None:
    t = shop.t
    c = shop.campaigns
    n_campaigns = len(c.channel)
    o = shop.out
    session_day = t.day_of(o.get("cs_started"))
    sessions = np.zeros((n_campaigns, t.days), dtype=np.int64)
    np.add.at(sessions, (o.get("cs_campaign"), session_day), 1)

    campaign, day = np.nonzero(
        (np.arange(t.days)[None, :] >= c.start_day[:, None])
        & (np.arange(t.days)[None, :] <= c.end_day[:, None])
    )
    channel = [CHANNELS[i] for i in c.channel]
    cpc = np.array([catalog.COST_PER_CLICK[ch] for ch in channel])[campaign]
    ctr = np.array([catalog.CLICK_THROUGH[ch] for ch in channel])[campaign]
    landed = sessions[campaign, day]
    clicks = landed + rng.binomial(
        np.maximum(np.round(landed / catalog.LANDING_RATE) - landed, 0).astype(np.int64), 0.9
    )
    impressions = np.round(clicks / ctr * rng.lognormal(0, 0.1, len(clicks))).astype(np.int64)
    spend = np.round(clicks * cpc * 100 * rng.lognormal(0, 0.08, len(clicks))).astype(np.int64)

    truth = catalog.CAMPAIGN_IDS.index(CAMPAIGN_RETURN.campaign_id)
    revenue = attributed_net_revenue(shop, delivered)
    rows = campaign == truth
    if revenue[truth] > 0 and clicks[rows].sum() > 0:
        total = round(revenue[truth] / CAMPAIGN_RETURN.roas)
        share = clicks[rows] / clicks[rows].sum()
        planned = np.floor(share * total).astype(np.int64)
        planned[np.argmax(share)] += total - planned.sum()
        spend[rows] = planned

    writer.write(
        "ad_spend",
        {
            "spend_date": Column("date", t.epoch_days[0] + day),
            "campaign_id": Column("label", campaign, labels=catalog.CAMPAIGN_IDS),
            "impressions": Column("integer", impressions),
            "clicks": Column("integer", clicks.astype(np.int64)),
            "spend": Column("amount", spend),
        },
        day,
    )

    total_spend = np.bincount(campaign, spend, n_campaigns)
    budget = np.ceil(total_spend * rng.uniform(1.0, 1.25, n_campaigns) / 10_000) * 10_000
    target_revenue = np.round(budget * rng.uniform(3.0, 5.0, n_campaigns) / 100) * 100
    writer.write(
        "campaigns",
        {
            "campaign_id": Column("label", np.arange(n_campaigns), labels=catalog.CAMPAIGN_IDS),
            "name": Column("text", pa.array([p.name for p in catalog.CAMPAIGN_PLANS])),
            "channel": Column("label", c.channel, labels=CHANNELS),
            "start_date": Column("date", t.epoch_days[0] + c.start_day),
            "end_date": Column("date", t.epoch_days[0] + c.end_day),
            "budget": Column("amount", budget.astype(np.int64)),
            "target_revenue": Column("amount", target_revenue.astype(np.int64)),
            "target_orders": Column("integer", (target_revenue // 25_000).astype(np.int64)),
        },
        np.maximum(c.start_day - 7, 0),
    )
