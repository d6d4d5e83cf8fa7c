"""Day-by-day simulation of the shop's front end, order intake and stock.

One iteration per business day, vectorised over that day's sessions, events, orders and
products. Sessions and events (the big tables) are written as each day is simulated, so
memory stays flat whatever the length of the period; everything else is kept compactly as
numpy arrays and finished by ``fulfilment`` and ``marketing`` after the loop.

How the planted truths (``truths.py``) are kept exact in expectation:

* Purchases per channel and day are drawn as Binomial(sessions of the channel, rate). They
  are filled first by returning customers' scheduled purchases, then by prospects (visitors
  without a valid order yet). A shortfall is carried to the next day, so over the period the
  rate per channel is the planted one whatever the promotions, platforms or experiments do.
* After every valid order the customer's next valid order is scheduled 1-88 days later with
  the tier's 90-day repurchase probability, otherwise not before 92 days (or never). Only
  scheduled purchases are made by customers who already have a valid order, so nothing else
  can add a repurchase. Cancelled orders are extra orders on top.
* Prospects are picked among a day's sessions by weighted sampling without replacement
  (Efraimidis-Spirakis keys); a treatment prospect of the checkout experiment weighs
  ``1 + lift``, which raises its chance to convert by that factor.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from . import catalog
from .timeline import Timeline
from .truths import CHANNEL_CONVERSION, CHANNELS, TIER_REPURCHASE
from .writer import Column, LandingWriter

PLATFORMS = ("web", "app")
DEVICES = ("desktop", "mobile", "tablet")
TIERS = ("none", "silver", "gold")
EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "begin_checkout", "purchase", "sign_up")
# Order of events within a session; codes into EVENT_TYPES. The sign-up follows the first
# page view, so a registering visitor is a customer for the rest of the visit.
EVENT_SEQUENCE = np.array([0, 5, 0, 1, 2, 3, 4])
LANDING_PAGES = (
    "/",
    "/search",
    "/promo",
    "/account",
    *(f"/c/{c.lower()}" for c in catalog.CATEGORY_NAMES),
)
COUPONS = ("WELCOME10", "SAVE20", "FLASH15", "VIP30", "BIG50")
COUPON_CENTS = np.array([1000, 2000, 1500, 3000, 5000])

CHANNEL_SHARE = np.array([0.28, 0.20, 0.15, 0.06, 0.18, 0.07, 0.06])
CONVERSION = np.array([CHANNEL_CONVERSION.rates[c] for c in CHANNELS])
REPURCHASE = np.array([TIER_REPURCHASE.probability[t] for t in TIERS])
TIER_MIX = np.array([TIER_REPURCHASE.tier_mix[t] for t in TIERS])

NEW_VISITOR_SHARE = 0.55
RETURN_RECENCY_DAYS = 20  # returning visitors come mostly from the last few weeks' newcomers
APP_SHARE = 0.55
SIGN_UP_WITHOUT_ORDER = 0.012
ORDINARY_CANCEL = 0.05
EXTRA_CANCELLED_ORDER = 0.04  # chance, after a valid order, of a later cancelled one
LATE_REPURCHASE = 0.5  # chance of a next order after 92+ days when none within 90
LINES = np.array([0.55, 0.25, 0.13, 0.07])
FREE_SHIPPING_CENTS = 9_900
SHIPPING_FEE_CENTS = 1_000
VAT = 0.13
CASE_PACK = 10
SAFETY_DAYS = 5
COVER_DAYS = 25


@dataclass
class Collected:
    """Per-day arrays kept for the after-loop stages, concatenated once at the end."""

    parts: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))

    def add(self, **arrays: np.ndarray) -> None:
        for name, values in arrays.items():
            self.parts[name].append(np.asarray(values))

    def get(self, name: str, dtype: type = np.int64) -> np.ndarray:
        chunks = self.parts.get(name)
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=dtype)


class Growable:
    """A numpy array that doubles its capacity as visitors and customers accumulate."""

    def __init__(self, fill: int, dtype: type) -> None:
        self.data = np.full(1024, fill, dtype=dtype)
        self.fill = fill

    def reserve(self, size: int) -> None:
        if size > len(self.data):
            bigger = np.full(max(size, 2 * len(self.data)), self.fill, dtype=self.data.dtype)
            bigger[: len(self.data)] = self.data
            self.data = bigger


class Shop:
    """Runs the daily simulation; ``run`` writes sessions and events as it goes."""

    def __init__(
        self,
        timeline: Timeline,
        sessions_per_day: int,
        rng: np.random.Generator,
        writer: LandingWriter,
    ) -> None:
        self.t = timeline
        self.rng = rng
        self.writer = writer
        self.suppliers = catalog.make_suppliers(timeline, rng)
        self.products = catalog.make_products(timeline, rng)
        self.campaigns = catalog.make_campaigns(timeline)
        self.experiments = catalog.make_experiments(timeline)
        self.sessions_today = self._sessions_per_day(sessions_per_day)

        self.visitor_customer = Growable(-1, np.int64)
        self.visitor_has_valid = Growable(0, np.bool_)
        self.visitor_platform = Growable(0, np.int8)
        self.visitor_device = Growable(0, np.int8)
        self.visitor_variant = [Growable(-1, np.int8) for _ in self.experiments]
        self.visitors = 0
        self.customer_visitor = Growable(-1, np.int64)
        self.customer_tier = Growable(0, np.int8)
        self.customers = 0
        self.sessions = 0
        self.events = 0
        self.orders = 0
        self.debt = np.zeros(len(CHANNELS), dtype=np.int64)
        self.due: dict[int, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
        self.carried_events: dict[str, np.ndarray] | None = None

        self.out = Collected()  # orders, lines, customers, assignments, campaign sessions
        self.stock_log = Collected()  # inventory snapshots and purchase orders
        self._init_stock(sessions_per_day)

    # ------------------------------------------------------------------ traffic
    def _sessions_per_day(self, sessions_per_day: int) -> np.ndarray:
        """Sessions per day: calendar effects, scaled so the mean is ``sessions_per_day``."""
        level = self.t.traffic
        return np.round(level / level.mean() * sessions_per_day).astype(np.int64)

    def _channel_share(self, day: int) -> np.ndarray:
        """Base channel mix plus the traffic running campaigns add to their channel."""
        share = CHANNEL_SHARE.copy()
        running = self.campaigns.running(day)
        np.add.at(
            share,
            self.campaigns.channel[running],
            CHANNEL_SHARE[self.campaigns.channel[running]] * self.campaigns.traffic_lift[running],
        )
        return share / share.sum()

    # ------------------------------------------------------------------ stock
    def _init_stock(self, sessions_per_day: int) -> None:
        p = self.products
        units_per_order = LINES @ np.arange(1, 5) * 1.35
        daily_units = sessions_per_day * (CHANNEL_SHARE @ CONVERSION) * units_per_order
        self.demand = daily_units * 1.2 * p.popularity / p.popularity.sum()
        lead = self.suppliers.lead_days[p.supplier]
        per_warehouse = self.demand[:, None] * catalog.WAREHOUSE_SHARE[None, :]
        self.reorder_point = np.ceil(per_warehouse * (lead[:, None] + SAFETY_DAYS)) + 2
        self.order_up_to = self.reorder_point + np.ceil(per_warehouse * COVER_DAYS) + CASE_PACK
        opening = np.round(self.order_up_to * self.rng.uniform(0.5, 1.0, (p.count, 1)))
        slow_stock = np.round(
            catalog.WAREHOUSE_SHARE[None, :] * self.rng.uniform(60, 400, (p.count, 1))
        )
        opening = np.where(p.is_slow_mover[:, None], slow_stock, opening)
        self.stock = np.where((p.launch_day < 0)[:, None], opening, 0).astype(np.int64)
        self.on_order = np.zeros_like(self.stock)
        self.pos = 0
        self.receipts: dict[int, list[np.ndarray]] = defaultdict(list)
        self.po_product = Growable(-1, np.int64)
        self.po_warehouse = Growable(-1, np.int64)
        self.po_qty = Growable(0, np.int64)
        self.po_received_qty = Growable(0, np.int64)

    def _receive(self, day: int) -> None:
        for pos in self.receipts.pop(day, []):
            w = self.po_warehouse.data[pos]
            prod = self.po_product.data[pos]
            np.add.at(self.stock, (prod, w), self.po_received_qty.data[pos])
            np.add.at(self.on_order, (prod, w), -self.po_qty.data[pos])

    def _place_purchase_orders(self, day: int, mask: np.ndarray, qty: np.ndarray) -> None:
        """Order ``qty`` for every product x warehouse where ``mask``; schedule the receipt."""
        prod, wh = np.nonzero(mask)
        if len(prod) == 0:
            return
        qty = qty[prod, wh].astype(np.int64)
        n = len(prod)
        rng = self.rng
        supplier = self.products.supplier[prod]
        ordered_at = self.t.day_starts[day] + 9 * 3600 + rng.integers(0, 9 * 3600, n)
        lead = self.suppliers.lead_days[supplier] * 86_400
        expected_at = ordered_at + lead
        late = rng.random(n) < self.suppliers.late_probability[supplier]
        received_at = np.where(
            late,
            expected_at + rng.integers(1, 7, n) * 86_400,
            expected_at - rng.integers(0, 12 * 3600, n),
        )
        partial = rng.random(n) < self.suppliers.partial_probability[supplier]
        received_qty = np.where(partial, np.floor(qty * rng.uniform(0.6, 0.95, n)), qty).astype(
            np.int64
        )
        first = self.pos
        self.pos += n
        for g in (self.po_product, self.po_warehouse, self.po_qty, self.po_received_qty):
            g.reserve(self.pos)
        self.po_product.data[first : self.pos] = prod
        self.po_warehouse.data[first : self.pos] = wh
        self.po_qty.data[first : self.pos] = qty
        self.po_received_qty.data[first : self.pos] = received_qty
        np.add.at(self.on_order, (prod, wh), qty)
        receive_day = self.t.day_of(received_at)
        inside = receive_day < self.t.days
        for d in np.unique(receive_day[inside]):
            self.receipts[int(d)].append(first + np.flatnonzero(receive_day == d))
        self.stock_log.add(
            po_product=prod,
            po_warehouse=wh,
            po_supplier=supplier,
            po_ordered_at=ordered_at,
            po_expected_at=expected_at,
            po_received_at=received_at,
            po_qty=qty,
            po_received_qty=received_qty,
        )

    def _replenish(self, day: int) -> None:
        """End of day: reorder below the reorder point; first stock for upcoming launches."""
        p = self.products
        active = p.active(day) & (p.discontinued_day > day + 1)
        position = self.stock + self.on_order
        below = active[:, None] & (position < self.reorder_point)
        qty = np.ceil((self.order_up_to - position) / CASE_PACK) * CASE_PACK
        self._place_purchase_orders(day, below, qty)
        launching = (p.created_day == day) & (p.launch_day >= 0)
        initial = np.ceil(self.order_up_to / CASE_PACK) * CASE_PACK
        self._place_purchase_orders(day, np.repeat(launching[:, None], 3, axis=1), initial)

    def _sell(self, units: np.ndarray) -> None:
        """Take sold units from the warehouses holding most of the product first."""
        by_stock = np.argsort(-self.stock, axis=1, kind="stable")
        rows = np.arange(len(units))
        remaining = units.copy()
        for k in range(self.stock.shape[1]):
            col = by_stock[:, k]
            take = np.minimum(remaining, self.stock[rows, col])
            self.stock[rows, col] -= take
            remaining -= take

    def _pick_products(self, day: int, qty: np.ndarray) -> np.ndarray:
        """A product per order line, by popularity among active products in stock.

        Lines that would oversell a product are re-drawn among products that still have
        stock, so on-hand never goes negative and sales really drain the shelves.
        """
        p = self.products
        active = p.active(day)
        stock = self.stock.sum(axis=1)
        product = np.zeros(len(qty), dtype=np.int64)
        todo = np.arange(len(qty))
        left = stock.copy()
        for _ in range(50):
            weight = p.popularity * (active & (left > 0))
            if len(todo) == 0:
                break
            if weight.sum() == 0:
                raise RuntimeError(f"day {day}: the shop ran out of stock entirely")
            product[todo] = self.rng.choice(p.count, size=len(todo), p=weight / weight.sum())
            # Keep the lines that fit, in line order; the rest are drawn again.
            order = todo[np.argsort(product[todo], kind="stable")]
            cum = _group_cumsum(product[order], qty[order])
            fits = cum <= left[product[order]]
            np.subtract.at(left, product[order[fits]], qty[order[fits]])
            todo = np.sort(order[~fits])
        else:
            raise RuntimeError(f"day {day}: could not place {len(todo)} order lines")
        return product

    # ------------------------------------------------------------------ the day loop
    def run(self) -> None:
        for day in range(self.t.days):
            self._receive(day)
            self._simulate_day(day)
            self._snapshot(day)
            self._replenish(day)

    def _snapshot(self, day: int) -> None:
        active = np.flatnonzero(self.products.active(day))
        self.stock_log.add(
            snap_day=np.full(len(active) * 3, day),
            snap_product=np.repeat(active, 3),
            snap_warehouse=np.tile(np.arange(3), len(active)),
            snap_on_hand=self.stock[active].ravel(),
        )

    def _simulate_day(self, day: int) -> None:
        rng = self.rng
        t = self.t
        share = self._channel_share(day)
        counts = rng.multinomial(self.sessions_today[day], share)

        # Returning customers' scheduled purchases (valid repeats and extra cancelled ones).
        due = self.due.pop(day, [])
        sched_customer = np.concatenate([c for c, _ in due]) if due else np.zeros(0, np.int64)
        sched_cancel = np.concatenate([k for _, k in due]) if due else np.zeros(0, bool)
        n_sched = len(sched_customer)
        convert_mix = share * CONVERSION
        sched_channel = rng.choice(len(CHANNELS), n_sched, p=convert_mix / convert_mix.sum())
        scheduled_per_channel = np.bincount(sched_channel, minlength=len(CHANNELS))
        ordinary_counts = np.maximum(counts - scheduled_per_channel, 0)
        n_ord = int(ordinary_counts.sum())

        # Visitors of ordinary sessions: new ones, or recent ones coming back.
        is_new = (rng.random(n_ord) < NEW_VISITOR_SHARE) | (self.visitors == 0)
        n_new = int(is_new.sum())
        visitor = np.empty(n_ord, dtype=np.int64)
        visitor[is_new] = self.visitors + np.arange(n_new)
        recency = rng.exponential(
            max(50.0, RETURN_RECENCY_DAYS * NEW_VISITOR_SHARE * self.sessions_today.mean()),
            n_ord - n_new,
        )
        visitor[~is_new] = np.maximum(self.visitors - 1 - recency.astype(np.int64), 0)
        self._add_visitors(n_new)

        channel = np.concatenate(
            [np.repeat(np.arange(len(CHANNELS)), ordinary_counts), sched_channel]
        )
        visitor = np.concatenate([visitor, self.customer_visitor.data[sched_customer]])
        scheduled = np.concatenate([np.zeros(n_ord, bool), np.ones(n_sched, bool)])
        customer_of_sched = np.concatenate([np.full(n_ord, -1), sched_customer])
        cancel_of_sched = np.concatenate([np.zeros(n_ord, bool), sched_cancel])
        started = t.local_times(np.full(len(visitor), day), rng)
        order = np.argsort(started, kind="stable")
        channel, visitor, scheduled, started = (
            channel[order],
            visitor[order],
            scheduled[order],
            started[order],
        )
        customer_of_sched, cancel_of_sched = customer_of_sched[order], cancel_of_sched[order]
        n = len(visitor)

        first = np.zeros(n, dtype=bool)
        first[np.unique(visitor, return_index=True)[1]] = True
        prospect = ~self.visitor_has_valid.data[visitor]
        eligible = first & ~scheduled & prospect
        weight = eligible.astype(float)
        assigned = []
        for e, exp in enumerate(self.experiments):
            if not exp.running(day):
                continue
            variants = self.visitor_variant[e].data
            unseen = first & (variants[visitor] == -1)
            draw = (rng.random(n) < 0.5).astype(np.int8)
            if exp.prospects_only:
                draw = np.where(prospect, draw, -2).astype(np.int8)
            variants[visitor[unseen]] = draw[unseen]
            take = unseen & (draw >= 0)
            assigned.append((np.full(take.sum(), e), visitor[take], draw[take], started[take]))
            weight *= np.where(variants[visitor] == 1, 1.0 + exp.relative_lift, 1.0)
        if assigned:
            e, v, var, at = (np.concatenate(x) for x in zip(*assigned, strict=True))
            self.out.add(asg_experiment=e, asg_visitor=v, asg_variant=var, asg_at=at)

        # Purchases: Binomial per channel, scheduled ones first, prospects fill the rest.
        target = rng.binomial(counts, CONVERSION)
        wanted = target - scheduled_per_channel - self.debt
        self.debt = np.maximum(-wanted, 0)
        wanted = np.maximum(wanted, 0)
        key = np.where(weight > 0, np.log(rng.random(n)) / np.maximum(weight, 1e-12), -np.inf)
        converts = scheduled.copy()
        for c in range(len(CHANNELS)):
            pool = np.flatnonzero((channel == c) & (weight > 0))
            k = min(int(wanted[c]), len(pool))
            if k:
                converts[pool[np.argpartition(-key[pool], k - 1)[:k]]] = True

        # Registrations: every converting prospect without an account signs up; a few
        # visitors sign up without buying. Only in a visitor's first visit of the day.
        not_customer = self.visitor_customer.data[visitor] < 0
        signs_up = (
            not_customer & first & ~scheduled & (converts | (rng.random(n) < SIGN_UP_WITHOUT_ORDER))
        )
        new_customers = self._register(visitor[signs_up])
        customer = self.visitor_customer.data[visitor]

        # Orders and their lines (stock permitting).
        buyer = np.flatnonzero(converts)
        n_orders = len(buyer)
        cancelled = np.where(
            scheduled[buyer], cancel_of_sched[buyer], rng.random(n_orders) < ORDINARY_CANCEL
        )
        lines = rng.choice(4, n_orders, p=LINES) + 1
        line_order = np.repeat(np.arange(n_orders), lines)
        qty = 1 + (rng.random(len(line_order)) < 0.25) + (rng.random(len(line_order)) < 0.08)
        product = self._pick_products(day, qty)
        self._sell(np.bincount(product, weights=qty, minlength=self.products.count).astype(int))

        # Events (and from them purchase and sign-up times).
        event = self._events(day, started, converts, signs_up, lines, product, buyer)
        purchase_at = event["purchase_at"]
        self._customers_registered(new_customers, event["sign_up_at"])

        session_no = self.sessions + np.arange(n)
        self.sessions += n

        # Campaign of each session: part of a running campaign's channel traffic.
        campaign = self._campaign_of(day, channel)
        has_campaign = campaign >= 0
        self.out.add(
            cs_visitor=visitor[has_campaign],
            cs_started=started[has_campaign],
            cs_session=session_no[has_campaign],
            cs_campaign=campaign[has_campaign],
        )
        self._write_session_file(day, session_no, visitor, customer, started, channel, campaign)

        order_no = self.orders + np.arange(n_orders)
        self.orders += n_orders
        self._write_events(day, event, session_no, order_no, product)
        self._record_orders(
            day,
            order_no,
            buyer,
            customer,
            session_no,
            purchase_at,
            cancelled,
            visitor,
            line_order,
            product,
            qty,
        )

    def _add_visitors(self, n_new: int) -> None:
        first = self.visitors
        self.visitors += n_new
        for g in (
            self.visitor_customer,
            self.visitor_has_valid,
            self.visitor_platform,
            self.visitor_device,
            *self.visitor_variant,
        ):
            g.reserve(self.visitors)
        platform = (self.rng.random(n_new) < APP_SHARE).astype(np.int8)
        device = np.where(
            platform == 1,
            self.rng.choice([1, 2], n_new, p=[0.88, 0.12]),
            self.rng.choice([0, 1, 2], n_new, p=[0.55, 0.35, 0.10]),
        )
        self.visitor_platform.data[first : self.visitors] = platform
        self.visitor_device.data[first : self.visitors] = device

    def _register(self, visitors: np.ndarray) -> np.ndarray:
        n = len(visitors)
        ids = self.customers + np.arange(n)
        self.customers += n
        self.customer_visitor.reserve(self.customers)
        self.customer_tier.reserve(self.customers)
        self.customer_visitor.data[ids] = visitors
        self.customer_tier.data[ids] = self.rng.choice(3, n, p=TIER_MIX)
        self.visitor_customer.data[visitors] = ids
        return ids

    def _customers_registered(self, ids: np.ndarray, registered_at: np.ndarray) -> None:
        self.out.add(cust_id=ids, cust_registered_at=registered_at)

    def _campaign_of(self, day: int, channel: np.ndarray) -> np.ndarray:
        """Campaign id index per session (-1: none) for channels with running campaigns."""
        campaign = np.full(len(channel), -1, dtype=np.int64)
        running = np.flatnonzero(self.campaigns.running(day))
        for c in np.unique(self.campaigns.channel[running]):
            candidates = running[self.campaigns.channel[running] == c]
            lift = self.campaigns.traffic_lift[candidates]
            in_channel = np.flatnonzero(channel == c)
            share = catalog.CAMPAIGN_SESSION_SHARE[CHANNELS[c]]
            hit = in_channel[self.rng.random(len(in_channel)) < share]
            campaign[hit] = self.rng.choice(candidates, len(hit), p=lift / lift.sum())
        return campaign

    def _events(
        self,
        day: int,
        started: np.ndarray,
        converts: np.ndarray,
        signs_up: np.ndarray,
        lines: np.ndarray,
        product: np.ndarray,
        buyer: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Events of the day's sessions, a closed funnel: each step needs the previous one."""
        rng = self.rng
        n = len(started)
        line_count = np.zeros(n, dtype=np.int64)
        line_count[buyer] = lines
        views = np.where(
            converts,
            line_count + rng.poisson(1.0, n),
            np.where(rng.random(n) < 0.55, 1 + rng.poisson(0.8, n), 0),
        )
        carts = np.where(converts, line_count, (views > 0) & (rng.random(n) < 0.28))
        checkouts = np.where(converts, 1, (carts > 0) & (rng.random(n) < 0.35))
        steps = np.column_stack(
            [
                np.ones(n, dtype=np.int64),
                signs_up,
                rng.geometric(0.55, n) - 1,
                views,
                carts,
                checkouts,
                converts,
            ]
        ).astype(np.int64)
        per_step = steps.ravel()
        step = np.repeat(np.tile(np.arange(7), n), per_step)
        session = np.repeat(np.repeat(np.arange(n), 7), per_step)
        total = len(step)
        group = session * 7 + step
        new_group = np.concatenate([[True], group[1:] != group[:-1]])
        rank = np.arange(total) - np.maximum.accumulate(np.where(new_group, np.arange(total), 0))

        order_index = np.full(n, -1, dtype=np.int64)
        order_index[buyer] = np.arange(len(buyer))
        line_start = np.concatenate([[0], np.cumsum(lines)[:-1]]).astype(np.int64)
        event_product = np.full(total, -1, dtype=np.int64)
        shows_product = (step == 3) | (step == 4)
        of_line = shows_product & converts[session] & (rank < line_count[session])
        at = line_start[order_index[session[of_line]]] + rank[of_line]
        event_product[of_line] = product[at]
        browse = shows_product & ~of_line
        weight = self.products.popularity * self.products.active(day)
        cdf = np.cumsum(weight) / weight.sum()
        event_product[browse] = np.minimum(
            np.searchsorted(cdf, rng.random(int(browse.sum()))), len(cdf) - 1
        )

        gap = (rng.exponential(40.0, total) + 3).astype(np.int64)
        gap[new_group & (step == 0)] = 0
        within = _group_cumsum(session, gap)
        event_at = np.minimum(started[session] + within, self.t.end - 1)
        event_order = np.where(step == 6, order_index[session], -1)
        return {
            "session": session,
            "type": EVENT_SEQUENCE[step],
            "at": event_at,
            "product": event_product,
            "order": event_order,
            "purchase_at": event_at[step == 6],
            "sign_up_at": event_at[step == 1],
        }

    def _write_session_file(
        self,
        day: int,
        session_no: np.ndarray,
        visitor: np.ndarray,
        customer: np.ndarray,
        started: np.ndarray,
        channel: np.ndarray,
        campaign: np.ndarray,
    ) -> None:
        n = len(session_no)
        landing = np.where(
            self.t.discount[day] > 0,
            self.rng.choice(len(LANDING_PAGES), n, p=_landing_mix(promo=True)),
            self.rng.choice(len(LANDING_PAGES), n, p=_landing_mix(promo=False)),
        )
        self.writer.write_day(
            "sessions",
            {
                "session_id": Column("id", session_no, prefix="S", width=10),
                "visitor_id": Column("id", visitor, prefix="V", width=10),
                "customer_id": Column("id", customer, customer >= 0, prefix="C", width=9),
                "started_at": Column("timestamp", started),
                "platform": Column("label", self.visitor_platform.data[visitor], labels=PLATFORMS),
                "device": Column("label", self.visitor_device.data[visitor], labels=DEVICES),
                "channel": Column("label", channel, labels=CHANNELS),
                "campaign_id": Column(
                    "label", campaign, campaign >= 0, labels=catalog.CAMPAIGN_IDS
                ),
                "landing_page": Column("label", landing, labels=LANDING_PAGES),
            },
            day,
        )

    def _write_events(
        self,
        day: int,
        event: dict[str, np.ndarray],
        session_no: np.ndarray,
        order_no: np.ndarray,
        product: np.ndarray,
    ) -> None:
        """Write the events dated today; events past midnight wait for tomorrow's file."""
        total = len(event["at"])
        linked = event["order"] >= 0  # purchase events name their order (a day may have none)
        order = np.full(total, -1, dtype=np.int64)
        order[linked] = order_no[event["order"][linked]]
        rows = {
            "event": self.events + np.arange(total),
            "session": session_no[event["session"]],
            "at": event["at"],
            "type": event["type"],
            "product": event["product"],
            "order": order,
        }
        self.events += total
        if self.carried_events is not None:
            rows = {k: np.concatenate([self.carried_events[k], v]) for k, v in rows.items()}
        later = self.t.day_of(rows["at"]) > day
        self.carried_events = {k: v[later] for k, v in rows.items()}
        today = {k: v[~later] for k, v in rows.items()}
        self.writer.write_day(
            "events",
            {
                "event_id": Column("id", today["event"], prefix="E", width=11),
                "session_id": Column("id", today["session"], prefix="S", width=10),
                "event_at": Column("timestamp", today["at"]),
                "event_type": Column("label", today["type"], labels=EVENT_TYPES),
                "product_id": Column(
                    "id", today["product"], today["product"] >= 0, prefix="P", width=5
                ),
                "order_id": Column("id", today["order"], today["order"] >= 0, prefix="O", width=9),
            },
            day,
        )

    def _record_orders(
        self,
        day: int,
        order_no: np.ndarray,
        buyer: np.ndarray,
        customer: np.ndarray,
        session_no: np.ndarray,
        ordered_at: np.ndarray,
        cancelled: np.ndarray,
        visitor: np.ndarray,
        line_order: np.ndarray,
        product: np.ndarray,
        qty: np.ndarray,
    ) -> None:
        """Price the day's orders, keep them, and schedule each valid order's successor."""
        rng = self.rng
        n_orders = len(buyer)
        n_lines = len(line_order)
        markdown = np.where(rng.random(n_lines) < 0.15, rng.uniform(0.02, 0.10, n_lines), 0.0)
        unit_price = np.round(self.products.list_price[product] * (1 - markdown) / 10) * 10
        promoted = rng.random(n_lines) < 0.9
        line_discount = np.round(unit_price * qty * self.t.discount[day] * promoted)
        gross = np.bincount(line_order, unit_price * qty, n_orders)
        after_lines = gross - np.bincount(line_order, line_discount, n_orders)
        coupon_rate = 0.30 if self.t.discount[day] > 0 else 0.12
        coupon = np.where(rng.random(n_orders) < coupon_rate, rng.choice(5, n_orders), -1)
        coupon_cents = np.where(
            coupon >= 0, np.minimum(COUPON_CENTS[coupon], np.floor(after_lines * 0.3)), 0
        )
        coupon = np.where(coupon_cents > 0, coupon, -1)
        goods = after_lines - coupon_cents
        line_number = (
            1
            + np.arange(n_lines)
            - np.concatenate(
                [[0], np.cumsum(np.bincount(line_order, minlength=n_orders))[:-1]]
            ).astype(np.int64)[line_order]
        )
        buyer_customer = customer[buyer]
        self.out.add(
            order_no=order_no,
            order_customer=buyer_customer,
            order_session=session_no[buyer],
            order_at=ordered_at,
            order_platform=self.visitor_platform.data[visitor[buyer]],
            order_cancelled=cancelled,
            order_coupon=coupon,
            order_discount=coupon_cents.astype(np.int64),
            order_shipping=np.where(goods >= FREE_SHIPPING_CENTS, 0, SHIPPING_FEE_CENTS),
            order_tax=np.round(goods * VAT / (1 + VAT)).astype(np.int64),
            order_goods=goods.astype(np.int64),
            line_order=order_no[line_order],
            line_number=line_number,
            line_product=product,
            line_qty=qty.astype(np.int64),
            line_price=unit_price.astype(np.int64),
            line_discount=line_discount.astype(np.int64),
        )

        valid = ~cancelled
        self.visitor_has_valid.data[visitor[buyer[valid]]] = True
        repeaters = buyer_customer[valid]
        tier = self.customer_tier.data[repeaters]
        k = len(repeaters)
        within = rng.random(k) < REPURCHASE[tier]
        later = ~within & (rng.random(k) < LATE_REPURCHASE)
        gap = np.where(
            within,
            1 + np.floor(88 * rng.beta(1.3, 2.2, k)).astype(np.int64),
            92 + rng.exponential(60.0, k).astype(np.int64),
        )
        self._schedule(day, repeaters[within | later], gap[within | later], cancel=False)
        extra = rng.random(k) < EXTRA_CANCELLED_ORDER
        self._schedule(day, repeaters[extra], rng.integers(1, 61, int(extra.sum())), cancel=True)

    def _schedule(self, day: int, customers: np.ndarray, gap: np.ndarray, cancel: bool) -> None:
        due_day = day + gap
        inside = due_day < self.t.days
        customers, due_day = customers[inside], due_day[inside]
        if len(customers) == 0:
            return
        order = np.argsort(due_day, kind="stable")
        customers, due_day = customers[order], due_day[order]
        days, starts = np.unique(due_day, return_index=True)
        for d, chunk in zip(days, np.split(customers, starts[1:]), strict=True):
            self.due[int(d)].append((chunk, np.full(len(chunk), cancel)))


def _landing_mix(promo: bool) -> np.ndarray:
    """Share of landing pages: home, search, promo, account, then the categories."""
    head = np.array([0.30, 0.15, 0.25 if promo else 0.03, 0.04])
    rest = np.full(len(LANDING_PAGES) - 4, 1.0)
    rest = rest / rest.sum() * (1 - head.sum())
    return np.concatenate([head, rest])


def _group_cumsum(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running sum of ``values`` restarting at each new value of (sorted) ``groups``."""
    total = np.cumsum(values)
    start = np.concatenate([[True], groups[1:] != groups[:-1]])
    before = (total - values)[start]
    return total - before[np.cumsum(start) - 1]
