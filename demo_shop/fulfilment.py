"""After the order is placed: payment, shipping, delivery, returns, refunds, service, surveys.

Runs once after the day loop, vectorised over all orders. Every later stage is a time drawn
from the previous one; stages that fall after the period simply have not happened yet, and
each change is re-delivered in the folder of its own business day (``versions``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .shop import COUPONS, Shop
from .truths import CARRIER_ON_TIME, CSAT_BY_DELIVERY
from .versions import NEVER, versions
from .writer import Column, LandingWriter

HOUR = 3600
DAY = 86_400
ORDER_STAGES = ("placed", "paid", "cancelled", "shipped", "delivered", "returned")
CARRIERS = tuple(CARRIER_ON_TIME.rates)
CARRIER_PROMISE_DAYS = np.array([2, 2, 3, 3, 4])
CARRIER_BASE_COST = np.array([1400, 1200, 700, 650, 600])  # cents per parcel
SHIPMENT_STATUSES = ("in_transit", "delivered", "returned", "lost")
LOST = 0.004
REFUSED = 0.005
RETURN_ON_TIME = 0.05
RETURN_LATE = 0.12
REFUND_REASONS = ("changed_mind", "damaged", "not_as_described", "wrong_size",
                  "late_delivery", "lost_in_transit", "refused_delivery")  # fmt: skip
TICKET_CHANNELS = ("chat", "phone", "email")
TICKET_CATEGORIES = ("delivery", "return_refund", "product_quality", "order_change",
                     "invoice", "account", "payment", "other")  # fmt: skip
GENERAL_TICKETS_PER_SESSION = 0.0015


@dataclass(frozen=True)
class Delivered:
    """What marketing needs to know about orders once everything has happened."""

    order_valid: np.ndarray  # latest status is not cancelled
    order_net: np.ndarray  # goods after discounts minus refunds, cents


def fulfil(shop: Shop, writer: LandingWriter, rng: np.random.Generator) -> Delivered:
    """Write orders, order_items, shipments, refunds, support_tickets and surveys."""
    o = shop.out
    ordered = o.get("order_at")
    n = len(ordered)
    cancelled = o.get("order_cancelled", bool)
    unpaid = cancelled & (rng.random(n) < 0.3)
    paid = np.where(unpaid, NEVER, ordered + rng.integers(30, 1200, n))
    cancel_at = np.where(
        unpaid,
        ordered + 1800 + rng.integers(0, 600, n),
        np.where(cancelled, paid + rng.integers(600, 20 * HOUR, n), NEVER),
    )
    shipped = np.where(cancelled, NEVER, paid + rng.integers(4 * HOUR, 40 * HOUR, n))

    carrier = rng.choice(len(CARRIERS), n, p=np.array(list(CARRIER_ON_TIME.mix.values())))
    ships = ~cancelled  # (arithmetic on NEVER would overflow: keep it out of every branch)
    promised = np.where(ships, shipped + CARRIER_PROMISE_DAYS[carrier] * DAY, NEVER)
    outcome = rng.random(n)
    lost = ships & (outcome < LOST)
    refused = ships & (outcome >= LOST) & (outcome < LOST + REFUSED)
    delivers = ~cancelled & ~lost & ~refused
    on_time = rng.random(n) < np.array(list(CARRIER_ON_TIME.rates.values()))[carrier]
    transit = np.where(
        on_time,
        (rng.uniform(0.3, 1.0, n) * (promised - shipped)).astype(np.int64),
        promised - shipped + HOUR + rng.exponential(30 * HOUR, n).astype(np.int64),
    )
    delivered = np.where(delivers, shipped + transit, NEVER)
    late = delivers & ~on_time
    failed_at = np.where(lost, promised + 3 * DAY, np.where(refused, promised + 2 * DAY, NEVER))
    customer_return = delivers & (rng.random(n) < np.where(late, RETURN_LATE, RETURN_ON_TIME))
    returned = np.where(customer_return, delivered + rng.integers(2 * DAY, 10 * DAY, n), failed_at)

    stages = np.column_stack([ordered, paid, cancel_at, shipped, delivered, returned])
    _write_orders(shop, writer, stages)
    _write_order_items(shop, writer)
    _write_shipments(shop, writer, carrier, shipped, promised, delivered, failed_at, refused)
    refund_per_order = _write_refunds(
        shop, writer, rng, returned, customer_return, late, lost, refused
    )
    issue = late | lost | refused
    tickets = _write_tickets(
        shop, writer, rng, cancel_at, delivered, promised, returned, customer_return, issue
    )
    _write_surveys(shop, writer, rng, delivered, late, tickets)
    valid = ~cancelled
    return Delivered(order_valid=valid, order_net=o.get("order_goods") - refund_per_order)


def _write_orders(shop: Shop, writer: LandingWriter, stages: np.ndarray) -> None:
    o = shop.out
    v = versions(stages, shop.t)
    coupon = o.get("order_coupon")[v.row]
    writer.write(
        "orders",
        {
            "order_id": Column("id", o.get("order_no")[v.row], prefix="O", width=9),
            "customer_id": Column("id", o.get("order_customer")[v.row], prefix="C", width=9),
            "session_id": Column("id", o.get("order_session")[v.row], prefix="S", width=10),
            "ordered_at": Column("timestamp", o.get("order_at")[v.row]),
            "status": Column("label", v.stage, labels=ORDER_STAGES),
            "platform": Column("label", o.get("order_platform")[v.row], labels=("web", "app")),
            "discount_amount": Column("amount", o.get("order_discount")[v.row]),
            "shipping_fee": Column("amount", o.get("order_shipping")[v.row]),
            "tax_amount": Column("amount", o.get("order_tax")[v.row]),
            "coupon_code": Column("label", coupon, coupon >= 0, labels=COUPONS),
            "updated_at": Column("timestamp", v.at),
        },
        v.day,
    )


def _write_order_items(shop: Shop, writer: LandingWriter) -> None:
    """Lines arrive with the first delivery of their order (its ordered day)."""
    o = shop.out
    line_order = o.get("line_order")
    ordered_day = shop.t.day_of(o.get("order_at"))[line_order]  # order_no == row index
    writer.write(
        "order_items",
        {
            "order_id": Column("id", line_order, prefix="O", width=9),
            "line_number": Column("integer", o.get("line_number")),
            "product_id": Column("id", o.get("line_product"), prefix="P", width=5),
            "quantity": Column("integer", o.get("line_qty")),
            "unit_price": Column("amount", o.get("line_price")),
            "discount_amount": Column("amount", o.get("line_discount")),
        },
        ordered_day,
    )


def _write_shipments(
    shop: Shop,
    writer: LandingWriter,
    carrier: np.ndarray,
    shipped: np.ndarray,
    promised: np.ndarray,
    delivered: np.ndarray,
    failed_at: np.ndarray,
    refused: np.ndarray,
) -> None:
    o = shop.out
    has_shipment = shipped < shop.t.end
    order_row = np.flatnonzero(has_shipment)
    final = np.minimum(delivered, failed_at)[order_row]
    v = versions(np.column_stack([shipped[order_row], final]), shop.t)
    row = order_row[v.row]
    final_status = np.where(delivered[row] < NEVER, 1, np.where(refused[row], 2, 3))
    status = np.where(v.stage == 0, 0, final_status)
    shows_delivery = (v.stage == 1) & (delivered[row] < NEVER)
    units = np.bincount(o.get("line_order"), o.get("line_qty"), len(shipped))[row]
    writer.write(
        "shipments",
        {
            "shipment_id": Column("id", v.row, prefix="SH", width=9),
            "order_id": Column("id", row, prefix="O", width=9),
            "carrier": Column("label", carrier[row], labels=CARRIERS),
            "shipped_at": Column("timestamp", shipped[row]),
            "promised_at": Column("timestamp", promised[row]),
            "delivered_at": Column("timestamp", delivered[row], shows_delivery),
            "shipping_cost": Column(
                "amount", CARRIER_BASE_COST[carrier[row]] + 60 * units.astype(np.int64)
            ),
            "status": Column("label", status, labels=SHIPMENT_STATUSES),
            "updated_at": Column("timestamp", v.at),
        },
        v.day,
    )


def _write_refunds(
    shop: Shop,
    writer: LandingWriter,
    rng: np.random.Generator,
    returned: np.ndarray,
    customer_return: np.ndarray,
    late: np.ndarray,
    lost: np.ndarray,
    refused: np.ndarray,
) -> np.ndarray:
    """Refund returned lines (customer returns) or whole orders (lost, refused parcels).

    Returns the refunded cents per order (inside the period), for net revenue.
    """
    o = shop.out
    n = len(returned)
    line_order = o.get("line_order")
    line_net = o.get("line_qty") * o.get("line_price") - o.get("line_discount")
    order_lines_net = np.bincount(line_order, line_net, n)
    coupon_share = np.round(
        o.get("order_discount")[line_order] * line_net / order_lines_net[line_order]
    ).astype(np.int64)
    # One line of each returned order surely comes back, the others sometimes.
    first_line = o.get("line_number") == 1
    line_back = customer_return[line_order] & (first_line | (rng.random(len(line_order)) < 0.4))
    line_rows = np.flatnonzero(line_back)
    order_rows = np.flatnonzero(lost | refused)
    refund_order = np.concatenate([line_order[line_rows], order_rows])
    amount = np.concatenate(
        [line_net[line_rows] - coupon_share[line_rows], o.get("order_goods")[order_rows]]
    )
    product = np.concatenate([o.get("line_product")[line_rows], np.full(len(order_rows), -1)])
    reason = np.concatenate(
        [
            np.where(
                late[line_order[line_rows]] & (rng.random(len(line_rows)) < 0.5),
                4,
                rng.choice(4, len(line_rows), p=[0.35, 0.2, 0.3, 0.15]),
            ),
            np.where(lost[order_rows], 5, 6),
        ]
    )
    refunded_at = returned[refund_order] + rng.integers(DAY, 3 * DAY, len(refund_order))
    keep = (refunded_at < shop.t.end) & (amount > 0)
    order_by_time = np.argsort(refunded_at[keep], kind="stable")
    rows = np.flatnonzero(keep)[order_by_time]
    writer.write(
        "refunds",
        {
            "refund_id": Column("id", np.arange(len(rows)), prefix="R", width=9),
            "order_id": Column("id", refund_order[rows], prefix="O", width=9),
            "product_id": Column("id", product[rows], product[rows] >= 0, prefix="P", width=5),
            "refunded_at": Column("timestamp", refunded_at[rows]),
            "amount": Column("amount", amount[rows]),
            "reason": Column("label", reason[rows], labels=REFUND_REASONS),
        },
        shop.t.day_of(refunded_at[rows]),
    )
    return np.bincount(refund_order[rows], amount[rows], n).astype(np.int64)


@dataclass(frozen=True)
class Tickets:
    customer: np.ndarray
    resolved: np.ndarray  # NEVER when unresolved
    reopened: np.ndarray
    delivery_issue: np.ndarray
    number: np.ndarray  # ticket number (ticket_id) of each row


def _write_tickets(
    shop: Shop,
    writer: LandingWriter,
    rng: np.random.Generator,
    cancel_at: np.ndarray,
    delivered: np.ndarray,
    promised: np.ndarray,
    returned: np.ndarray,
    customer_return: np.ndarray,
    issue: np.ndarray,
) -> Tickets:
    """Tickets about orders (many more after late or failed deliveries) and general ones."""
    t = shop.t
    o = shop.out
    n = len(delivered)
    cancelled = cancel_at < NEVER
    chance = np.select([cancelled, issue, customer_return], [0.05, 0.16, 0.35], default=0.03)
    raised = (rng.random(n) < chance) & (cancelled | (delivered < NEVER) | issue)
    order_row = np.flatnonzero(raised)
    created = np.select(
        [cancelled[order_row], issue[order_row], customer_return[order_row]],
        [
            cancel_at[order_row] + rng.integers(300, 5 * HOUR, len(order_row)),
            promised[order_row] + rng.integers(HOUR, 30 * HOUR, len(order_row)),
            returned[order_row] - rng.integers(HOUR, DAY, len(order_row)),
        ],
        default=delivered[order_row] + rng.integers(HOUR, 72 * HOUR, len(order_row)),
    )
    category = np.select(
        [cancelled[order_row], issue[order_row], customer_return[order_row]],
        [3, 0, 1],
        default=rng.choice([2, 3, 4], len(order_row), p=[0.5, 0.2, 0.3]),
    )
    # General questions, from customers registered before the ticket's day.
    registered_day = t.day_of(o.get("cust_registered_at"))
    general = rng.poisson(GENERAL_TICKETS_PER_SESSION * shop.sessions)
    general_day = rng.integers(0, t.days, general)
    registered_before = np.searchsorted(registered_day, general_day, side="left")
    has_customer = registered_before > 0
    general_day, registered_before = general_day[has_customer], registered_before[has_customer]
    general_customer = (rng.random(len(general_day)) * registered_before).astype(np.int64)

    customer = np.concatenate([o.get("order_customer")[order_row], general_customer])
    order = np.concatenate([order_row, np.full(len(general_customer), -1)])
    created = np.concatenate([created, t.local_times(general_day, rng)])
    category = np.concatenate(
        [category, rng.choice([5, 6, 7], len(general_customer), p=[0.4, 0.3, 0.3])]
    )
    delivery_issue = np.concatenate([issue[order_row], np.zeros(len(general_customer), bool)])
    k = len(customer)
    channel = rng.choice(3, k, p=[0.5, 0.2, 0.3])
    slow = np.where(delivery_issue, 2.0, 1.0)  # a late-delivery wave clogs the queue
    response_minutes = np.exp(np.log(np.array([2.0, 1.0, 240.0]))[channel] + rng.normal(0, 0.8, k))
    answered = rng.random(k) >= 0.04
    first_response = np.where(
        answered, created + 30 + (response_minutes * slow * 60).astype(np.int64), NEVER
    )
    resolution_hours = np.exp(np.log(np.array([4.0, 3.0, 20.0]))[channel] + rng.normal(0, 0.9, k))
    resolves = answered & (rng.random(k) >= 0.08)
    resolved = np.where(
        resolves,
        np.maximum(
            created + (resolution_hours * slow * HOUR).astype(np.int64), first_response + 60
        ),
        NEVER,
    )
    reopened = resolves & (rng.random(k) < np.where(delivery_issue, 0.20, 0.08))

    by_time = np.argsort(created, kind="stable")
    ticket_of = np.empty(k, dtype=np.int64)
    ticket_of[by_time] = np.arange(k)  # ticket numbers follow creation time
    inside = created < t.end
    stages = np.column_stack([created, first_response, resolved])
    stages[~inside] = NEVER
    v = versions(stages, t)
    r = v.row
    writer.write(
        "support_tickets",
        {
            "ticket_id": Column("id", ticket_of[r], prefix="T", width=8),
            "customer_id": Column("id", customer[r], prefix="C", width=9),
            "order_id": Column("id", order[r], order[r] >= 0, prefix="O", width=9),
            "channel": Column("label", channel[r], labels=TICKET_CHANNELS),
            "category": Column("label", category[r], labels=TICKET_CATEGORIES),
            "created_at": Column("timestamp", created[r]),
            "first_response_at": Column("timestamp", first_response[r], v.stage >= 1),
            "resolved_at": Column("timestamp", resolved[r], v.stage >= 2),
            "reopened": Column("boolean", reopened[r] & (v.stage >= 2)),
            "updated_at": Column("timestamp", v.at),
        },
        v.day,
    )
    resolved_inside = np.where(inside & (resolved < t.end), resolved, NEVER)
    return Tickets(
        customer=customer,
        resolved=resolved_inside,
        reopened=reopened,
        delivery_issue=delivery_issue,
        number=ticket_of,
    )


def _satisfaction(rng: np.random.Generator, happy: np.ndarray) -> tuple[np.ndarray, ...]:
    """CSAT 1-5 and NPS 0-10 from a latent happy/unhappy draw; some answer only one."""
    k = len(happy)
    csat = np.where(
        happy, rng.choice([4, 5], k, p=[0.4, 0.6]), rng.choice([1, 2, 3], k, p=[0.2, 0.3, 0.5])
    )
    nps = np.where(
        happy, rng.choice([7, 8, 9, 10], k, p=[0.1, 0.2, 0.3, 0.4]), rng.integers(0, 9, k)
    )
    answers = rng.choice(3, k, p=[0.6, 0.25, 0.15])  # both, CSAT only, NPS only
    return csat, answers != 2, nps, answers != 1


def _write_surveys(
    shop: Shop,
    writer: LandingWriter,
    rng: np.random.Generator,
    delivered: np.ndarray,
    late: np.ndarray,
    tickets: Tickets,
) -> None:
    """Post-delivery surveys (no ticket) and surveys after a resolved ticket."""
    o = shop.out
    t = shop.t
    got = np.flatnonzero(
        (delivered < t.end) & (rng.random(len(delivered)) < np.where(late, 0.35, 0.22))
    )
    happy_after_delivery = rng.random(len(got)) < np.where(
        late[got], CSAT_BY_DELIVERY.late, CSAT_BY_DELIVERY.on_time
    )
    answered_ticket = np.flatnonzero(
        (tickets.resolved < NEVER) & (rng.random(len(tickets.resolved)) < 0.35)
    )
    ticket_happiness = np.where(
        tickets.delivery_issue[answered_ticket],
        0.4,
        np.where(tickets.reopened[answered_ticket], 0.55, 0.7),
    )
    customer = np.concatenate([o.get("order_customer")[got], tickets.customer[answered_ticket]])
    ticket = np.concatenate([np.full(len(got), -1), tickets.number[answered_ticket]])
    responded = np.concatenate(
        [
            delivered[got] + rng.integers(2 * HOUR, 47 * HOUR, len(got)),
            tickets.resolved[answered_ticket] + rng.integers(HOUR, 24 * HOUR, len(answered_ticket)),
        ]
    )
    happy = np.concatenate(
        [happy_after_delivery, rng.random(len(answered_ticket)) < ticket_happiness]
    )
    csat, has_csat, nps, has_nps = _satisfaction(rng, happy)
    rows = np.flatnonzero(responded < t.end)
    rows = rows[np.argsort(responded[rows], kind="stable")]
    writer.write(
        "surveys",
        {
            "survey_id": Column("id", np.arange(len(rows)), prefix="SV", width=8),
            "ticket_id": Column("id", ticket[rows], ticket[rows] >= 0, prefix="T", width=8),
            "customer_id": Column("id", customer[rows], prefix="C", width=9),
            "responded_at": Column("timestamp", responded[rows]),
            "csat_score": Column("integer", csat[rows], has_csat[rows]),
            "nps_score": Column("integer", nps[rows], has_nps[rows]),
        },
        t.day_of(responded[rows]),
    )
