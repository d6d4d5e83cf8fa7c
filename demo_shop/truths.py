"""The planted truths: true parameters of the demo shop that the KPI mart must recover.

This module is the one place where they are declared. The simulation (``shop.py``,
``fulfilment.py``) reads its behaviour from here, and the tests recover every value from the
landing files with straightforward DuckDB SQL and compare it within the tolerance given here.

Every tolerance is stated for the default demo size -- ``DEMO`` below, the ``make run`` data:
183 days from 2025-06-01, 3,000 sessions per day, seed 42 -- and is about three to four
standard errors of the estimate at that size (smaller runs need wider bounds). "Latest
version" means, for tables with a ``version_column``, the row with the greatest value of it
per key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType


@dataclass(frozen=True)
class DemoSize:
    """The size the tolerances below are stated for (the ``make run`` demo)."""

    start: date = date(2025, 6, 1)
    days: int = 183
    sessions_per_day: int = 3_000
    seed: int = 42
    timezone: str = "Asia/Shanghai"


DEMO = DemoSize()


def _frozen(values: dict[str, float]) -> Mapping[str, float]:
    """A read-only mapping as a frozen dataclass default."""
    proxy = MappingProxyType(values)
    return field(default_factory=lambda: proxy)


CHANNELS = ("organic_search", "paid_search", "social", "email", "direct", "referral", "affiliate")


@dataclass(frozen=True)
class ChannelConversion:
    """Session conversion rate per channel (KPI ``session_conversion_rate``, catalogue §2).

    Recovery: over ALL sessions of the period, per ``sessions.channel``: sessions having at
    least one ``purchase`` event (events.session_id) ÷ sessions. Conversion depends on the
    channel only: promotion peaks raise traffic, platform and device do not change it, so the
    marginal per channel is the planted rate. (The number of purchases per channel and day is
    drawn as Binomial(sessions, rate); returning customers' purchases are part of that draw.)

    Tolerance: relative error ≤ ``relative_tolerance`` per channel at the demo size.
    """

    rates: Mapping[str, float] = _frozen(
        {
            "organic_search": 0.030,
            "paid_search": 0.036,
            "social": 0.015,
            "email": 0.060,
            "direct": 0.045,
            "referral": 0.025,
            "affiliate": 0.028,
        }
    )
    relative_tolerance: float = 0.12


@dataclass(frozen=True)
class TierRepurchase:
    """90-day repurchase probability per member tier (KPI ``repurchase_rate_90d``, §4).

    Recovery: take valid orders (latest version's status <> 'cancelled'). For each customer,
    the first valid order (min ordered_at) defines cohort month M (business date) and the tier
    T = customers.member_tier (tiers never change). Over all COMPLETE cohorts (end of M + 90
    days ≤ the last generated day), pooled per tier: customers with another valid order whose
    ordered_at is > the first and ≤ first + interval 90 day ÷ customers.

    By construction a next valid order follows within 1-89 days with probability
    ``probability[T]``, otherwise not before 92 days (or never); cancelled orders are extra
    orders and never replace a valid one.

    Tolerance: absolute ``tolerance`` per tier at the demo size.
    """

    probability: Mapping[str, float] = _frozen({"none": 0.20, "silver": 0.35, "gold": 0.55})
    tier_mix: Mapping[str, float] = _frozen({"none": 0.70, "silver": 0.22, "gold": 0.08})
    tolerance: float = 0.07


@dataclass(frozen=True)
class CampaignReturn:
    """ROAS of one campaign (KPI ``roas``, catalogue §7), exact by construction.

    Recovery: attribution = last non-direct touch, 7-day lookback, matched through the
    customer's visitor: for each valid order o of customer c, the session s with
    s.visitor_id = customers.visitor_id of c, s.campaign_id not null and
    o.ordered_at - interval 7 day ≤ s.started_at ≤ o.ordered_at with the greatest started_at
    (ties: greatest session_id) credits its campaign. Net revenue of an order = Σ quantity x
    unit_price - Σ line discount_amount - order discount_amount - Σ refunds.amount of the
    order. ROAS = Σ net revenue of orders credited to ``campaign_id`` ÷ Σ ad_spend.spend.

    The generator computes this attribution itself (``attribution.sql``) and sets the
    campaign's spend to match, so the only error is rounding spend to cents per day: absolute
    ``tolerance``.
    """

    campaign_id: str = "CMP-03"
    roas: float = 4.0
    tolerance: float = 0.01


@dataclass(frozen=True)
class ExperimentLift:
    """Relative lift in visitor conversion of an A/B test (catalogue §3).

    Recovery: units = experiment_assignments of ``experiment_id``; a unit converts when its
    visitor has a purchase event (through events.session_id → sessions.visitor_id) with
    event_at ≥ assigned_at and business date ≤ experiments.end_date. Relative lift =
    conversion(treatment) ÷ conversion(control) - 1.

    ``checkout_redesign`` (EXP-01) is shown to prospects only (visitors without a valid order
    when first seen in the window); treatment raises the chance that a prospect's session
    converts by ``relative_lift``. ``search_ranking`` (EXP-02) assigns every visitor and has no
    effect. Visitors with several sessions dilute a per-session lift slightly (about half a
    point); the tolerance covers it. Tolerance: absolute ``tolerance`` on the relative lift.
    """

    experiment_id: str
    relative_lift: float
    tolerance: float = 0.09


EXPERIMENT_WITH_LIFT = ExperimentLift(experiment_id="EXP-01", relative_lift=0.15)
EXPERIMENT_WITHOUT_LIFT = ExperimentLift(experiment_id="EXP-02", relative_lift=0.0)


@dataclass(frozen=True)
class CarrierOnTime:
    """On-time delivery rate per carrier (KPI ``on_time_delivery_rate``, catalogue §6).

    Recovery: latest version of each shipment; among shipments with status = 'delivered',
    per carrier: delivered_at ≤ promised_at ÷ delivered shipments (whole period).
    Tolerance: absolute ``tolerance`` per carrier at the demo size.
    """

    rates: Mapping[str, float] = _frozen(
        {
            "SF Express": 0.96,
            "JD Logistics": 0.94,
            "ZTO": 0.86,
            "YTO": 0.82,
            "STO": 0.76,
        }
    )
    mix: Mapping[str, float] = _frozen(
        {"SF Express": 0.25, "JD Logistics": 0.20, "ZTO": 0.22, "YTO": 0.18, "STO": 0.15}
    )
    tolerance: float = 0.035


@dataclass(frozen=True)
class CsatByDelivery:
    """CSAT (share of csat_score 4-5) after on-time vs late deliveries (KPI ``csat``, §8).

    Recovery: post-delivery surveys are those with ticket_id null and csat_score not null.
    Each is matched to the customer's latest-version shipment with status 'delivered' and the
    greatest delivered_at ≤ responded_at (orders.customer_id links shipment to customer); it
    is on time when delivered_at ≤ promised_at. CSAT = responses scoring 4-5 ÷ responses, per
    on-time / late. Surveys arrive 2-47 hours after the delivery.
    Tolerance: absolute ``tolerance`` for each group at the demo size.
    """

    on_time: float = 0.85
    late: float = 0.50
    tolerance: float = 0.07


CHANNEL_CONVERSION = ChannelConversion()
TIER_REPURCHASE = TierRepurchase()
CAMPAIGN_RETURN = CampaignReturn()
CARRIER_ON_TIME = CarrierOnTime()
CSAT_BY_DELIVERY = CsatByDelivery()
