"""The shop's slowly changing world: suppliers, products, warehouses, campaigns, experiments.

Sizes here do not grow with traffic (a shop with more visitors does not have more suppliers);
dates are placed relative to the simulated period so any start and length gets a complete
set of launches, discontinuations, campaigns and experiments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import formatting
from .timeline import Timeline
from .truths import CHANNELS, EXPERIMENT_WITH_LIFT, EXPERIMENT_WITHOUT_LIFT

CATEGORIES = {
    "Electronics": ("Phones", "Audio", "Accessories"),
    "Home": ("Kitchen", "Bedding", "Storage"),
    "Beauty": ("Skincare", "Makeup", "Fragrance"),
    "Apparel": ("Women", "Men", "Shoes"),
    "Food": ("Snacks", "Tea", "Coffee"),
    "Baby": ("Diapers", "Toys", "Formula"),
    "Sports": ("Fitness", "Outdoor", "Cycling"),
}
CATEGORY_NAMES = tuple(CATEGORIES)
SUBCATEGORY_NAMES = tuple(s for subs in CATEGORIES.values() for s in subs)
# Typical list price per category, CNY.
CATEGORY_PRICE = np.array([399.0, 129.0, 189.0, 229.0, 59.0, 149.0, 259.0])
BRAND_NAMES = (
    "Xingyun", "Lumen", "Bolan", "Tianhe",  # Electronics
    "Jiali", "Muji-ish", "Hearth", "Anju",  # Home
    "Yuyan", "Florae", "Meiling", "Dewy",  # Beauty
    "Qingshan", "Urbano", "Linen&Co", "Stride",  # Apparel
    "Laoxiang", "Chaxiang", "Beanhouse", "Crunch",  # Food
    "Bao'an", "Tinytoes", "Leyuan", "Nurture",  # Baby
    "Feipao", "Summit", "Veloce", "Corefit",  # Sports
)  # fmt: skip
BRANDS_PER_CATEGORY = 4

SUPPLIER_COUNT = 20
SUPPLIER_COUNTRIES = ("CN", "CN", "CN", "CN", "CN", "CN", "CN", "CN", "CN", "CN",
                      "CN", "CN", "CN", "CN", "JP", "JP", "KR", "KR", "DE", "US")  # fmt: skip
SUPPLIER_WORDS = ("Huaxing", "Jinfeng", "Dongsheng", "Minghui", "Hengtai", "Ruifeng", "Kaiyuan",
                  "Baoli", "Xinda", "Yongan", "Fuda", "Tongxin", "Sakura", "Kobe", "Hanil",
                  "Daesung", "Rhein", "Pacific", "Longmen", "Guanghua")  # fmt: skip

WAREHOUSES = ("WH-SH", "WH-GZ", "WH-BJ")
WAREHOUSE_SHARE = np.array([0.45, 0.33, 0.22])

INITIAL_PRODUCTS = 240
SLOW_MOVER_SHARE = 0.08
DISCONTINUED_SHARE = 0.08


@dataclass(frozen=True)
class Suppliers:
    """Suppliers and how reliably they deliver purchase orders."""

    count: int
    lead_days: np.ndarray  # nominal lead time promised on a PO
    late_probability: np.ndarray
    partial_probability: np.ndarray
    renamed_day: np.ndarray  # business day of a name change, -1 if never

    @property
    def name(self) -> pa.Array:
        return pc.binary_join_element_wise(pa.array(SUPPLIER_WORDS), " Supply Co", "")


@dataclass(frozen=True)
class Products:
    """The catalogue. Active on day d when ``launch_day <= d < discontinued_day``."""

    count: int
    category: np.ndarray
    subcategory: np.ndarray
    brand: np.ndarray
    supplier: np.ndarray
    unit_cost: np.ndarray  # cents
    list_price: np.ndarray  # cents
    launch_day: np.ndarray  # may be negative: launched before the period
    created_day: np.ndarray  # day the catalogue first delivers the product (>= 0)
    discontinued_day: np.ndarray  # days + 1 when never within the period
    popularity: np.ndarray  # relative demand weight
    is_slow_mover: np.ndarray

    def active(self, day: int) -> np.ndarray:
        return (self.launch_day <= day) & (day < self.discontinued_day)

    @property
    def name(self) -> pa.Array:
        brand = formatting.choices(BRAND_NAMES, self.brand)
        sub = formatting.choices(SUBCATEGORY_NAMES, self.subcategory)
        model = formatting.ids("", np.arange(self.count) % 900 + 100, 3)
        return pc.binary_join_element_wise(brand, sub, model, " ")


def make_suppliers(timeline: Timeline, rng: np.random.Generator) -> Suppliers:
    renamed = np.full(SUPPLIER_COUNT, -1)
    if timeline.days > 30:  # two suppliers rebrand mid-period (a new version of the row)
        renamed[rng.choice(SUPPLIER_COUNT, 2, replace=False)] = timeline.fraction(0.5)
    far = np.isin(np.array(SUPPLIER_COUNTRIES), ["DE", "US"])
    return Suppliers(
        count=SUPPLIER_COUNT,
        lead_days=rng.integers(4, 12, SUPPLIER_COUNT) + np.where(far, 10, 0),
        late_probability=rng.uniform(0.03, 0.30, SUPPLIER_COUNT),
        partial_probability=rng.uniform(0.02, 0.20, SUPPLIER_COUNT),
        renamed_day=renamed,
    )


def make_products(timeline: Timeline, rng: np.random.Generator) -> Products:
    """A few hundred products; about one launch every three days of the period."""
    launches = min(150, max(4, timeline.days // 3))
    count = INITIAL_PRODUCTS + launches
    category = rng.integers(0, len(CATEGORIES), count)
    subcategory = category * 3 + rng.integers(0, 3, count)
    brand = category * BRANDS_PER_CATEGORY + rng.integers(0, BRANDS_PER_CATEGORY, count)
    list_yuan = CATEGORY_PRICE[category] * rng.lognormal(0.0, 0.45, count)
    list_price = (np.maximum(np.round(list_yuan / 10) * 10, 10) - 1) * 100  # 399.00-style
    unit_cost = np.round(list_price * rng.uniform(0.35, 0.70, count))
    first_launch = min(7, timeline.days - 1)  # launches fall inside even a short period
    launch_day = np.concatenate(
        [
            -rng.integers(30, 900, INITIAL_PRODUCTS),
            np.sort(rng.integers(first_launch, max(first_launch + 1, timeline.days - 7), launches)),
        ]
    )
    created_day = np.maximum(launch_day - 21, 0)
    slow = rng.random(count) < SLOW_MOVER_SHARE
    popularity = rng.lognormal(0.0, 1.0, count) * np.where(slow, 0.02, 1.0)
    discontinued_day = np.full(count, timeline.days + 1)
    stops = (rng.random(count) < DISCONTINUED_SHARE) & (np.arange(count) < INITIAL_PRODUCTS)
    discontinued_day[stops] = rng.integers(
        timeline.fraction(0.3), timeline.fraction(0.95) + 1, stops.sum()
    )
    return Products(
        count=count,
        category=category,
        subcategory=subcategory,
        brand=brand,
        supplier=rng.integers(0, SUPPLIER_COUNT, count),
        unit_cost=unit_cost.astype(np.int64),
        list_price=list_price.astype(np.int64),
        launch_day=launch_day,
        created_day=created_day,
        discontinued_day=discontinued_day,
        popularity=popularity,
        is_slow_mover=slow,
    )


@dataclass(frozen=True)
class CampaignPlan:
    name: str
    channel: str
    start: float  # share of the period
    end: float
    traffic_lift: float  # extra sessions of the channel while running


CAMPAIGN_PLANS = (
    CampaignPlan("Search Always-On Spring", "paid_search", 0.00, 0.30, 0.20),
    CampaignPlan("Festival Social Blast", "social", 0.02, 0.12, 0.25),
    CampaignPlan("Brand Search Push", "paid_search", 0.30, 0.60, 0.25),
    CampaignPlan("Newsletter Early Season", "email", 0.05, 0.25, 0.30),
    CampaignPlan("Affiliate Partners", "affiliate", 0.10, 0.70, 0.20),
    CampaignPlan("Back to School Social", "social", 0.35, 0.50, 0.20),
    CampaignPlan("Newsletter Mid Season", "email", 0.45, 0.65, 0.30),
    CampaignPlan("Holiday Week Search", "paid_search", 0.61, 0.72, 0.25),
    CampaignPlan("Mega Sale Search", "paid_search", 0.75, 0.92, 0.35),
    CampaignPlan("Mega Sale Social", "social", 0.78, 0.92, 0.30),
    CampaignPlan("Mega Sale Newsletter", "email", 0.80, 0.92, 0.40),
    CampaignPlan("Winter Affiliate", "affiliate", 0.85, 1.00, 0.20),
)
CAMPAIGN_IDS = tuple(f"CMP-{i + 1:02d}" for i in range(len(CAMPAIGN_PLANS)))
# Share of a channel's sessions that land from a running campaign's ads or mails.
CAMPAIGN_SESSION_SHARE = {"paid_search": 0.85, "social": 0.55, "email": 0.90, "affiliate": 0.75}
COST_PER_CLICK = {"paid_search": 2.8, "social": 1.6, "email": 1.2, "affiliate": 1.2}
CLICK_THROUGH = {"paid_search": 0.035, "social": 0.009, "email": 0.12, "affiliate": 0.015}
LANDING_RATE = 0.92  # clicks that become a tracked session


@dataclass(frozen=True)
class Campaigns:
    channel: np.ndarray  # index into CHANNELS
    start_day: np.ndarray
    end_day: np.ndarray  # inclusive
    traffic_lift: np.ndarray

    def running(self, day: int) -> np.ndarray:
        return (self.start_day <= day) & (day <= self.end_day)


def make_campaigns(timeline: Timeline) -> Campaigns:
    return Campaigns(
        channel=np.array([CHANNELS.index(p.channel) for p in CAMPAIGN_PLANS]),
        start_day=np.array([timeline.fraction(p.start) for p in CAMPAIGN_PLANS]),
        end_day=np.array([timeline.fraction(p.end) for p in CAMPAIGN_PLANS]),
        traffic_lift=np.array([p.traffic_lift for p in CAMPAIGN_PLANS]),
    )


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    start_day: int
    end_day: int  # inclusive
    relative_lift: float
    prospects_only: bool

    def running(self, day: int) -> bool:
        return self.start_day <= day <= self.end_day


PLANNED_SPLIT = '{"control":0.5,"treatment":0.5}'
VARIANTS = ("control", "treatment")


def make_experiments(timeline: Timeline) -> tuple[Experiment, ...]:
    return (
        Experiment(
            EXPERIMENT_WITH_LIFT.experiment_id,
            "checkout_redesign",
            timeline.fraction(0.20),
            timeline.fraction(0.55),
            EXPERIMENT_WITH_LIFT.relative_lift,
            prospects_only=True,
        ),
        Experiment(
            EXPERIMENT_WITHOUT_LIFT.experiment_id,
            "search_ranking",
            timeline.fraction(0.50),
            timeline.fraction(0.85),
            EXPERIMENT_WITHOUT_LIFT.relative_lift,
            prospects_only=False,
        ),
    )
