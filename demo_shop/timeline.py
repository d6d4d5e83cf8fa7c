"""Business days of the simulated period: their UTC bounds, traffic level and promotions.

Every timestamp is generated as UTC epoch seconds inside a business day of the shop's time
zone, so the landing folder of a row (its business date) is known exactly, also across
daylight-saving changes in zones that have them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

EPOCH = date(1970, 1, 1)

# Monday .. Sunday: weekends browse more.
WEEKDAY_TRAFFIC = np.array([0.95, 0.93, 0.95, 0.98, 1.04, 1.10, 1.07])

# Local hour of day -> share of sessions (evening peak, quiet night).
HOURLY_TRAFFIC = np.array(
    [1.6, 0.9, 0.5, 0.3, 0.25, 0.3, 0.6, 1.2, 2.2, 3.6, 4.6, 4.8,
     4.6, 4.4, 4.6, 4.7, 4.7, 4.6, 4.9, 5.6, 6.8, 7.6, 7.2, 4.6]
)  # fmt: skip
HOURLY_TRAFFIC = HOURLY_TRAFFIC / HOURLY_TRAFFIC.sum()


@dataclass(frozen=True)
class Promotion:
    """A shopping festival: traffic multiplier and line discount on its days."""

    name: str
    month: int
    day: int
    lead_days: int
    peak_traffic: float
    lead_traffic: float
    peak_discount: float
    lead_discount: float


# The Chinese e-commerce calendar: 6.18 (JD's anniversary), Double 11 and Double 12.
PROMOTIONS = (
    Promotion("618", 6, 18, 10, peak_traffic=4.0, lead_traffic=1.4,
              peak_discount=0.18, lead_discount=0.08),
    Promotion("double11", 11, 11, 10, peak_traffic=5.0, lead_traffic=1.5,
              peak_discount=0.22, lead_discount=0.10),
    Promotion("double12", 12, 12, 0, peak_traffic=2.0, lead_traffic=1.0,
              peak_discount=0.12, lead_discount=0.0),
)  # fmt: skip


MIN_DAYS = 7


class Timeline:
    """The ``days`` business days starting at ``start`` in ``timezone``."""

    def __init__(self, start: date, days: int, timezone: str) -> None:
        if days < MIN_DAYS:
            # launches, discontinuations and re-deliveries need room inside the period
            raise ValueError(f"days must be >= {MIN_DAYS}, got {days}")
        zone = ZoneInfo(timezone)
        self.start = start
        self.days = days
        self.dates = [start + timedelta(days=i) for i in range(days)]
        bounds = [start + timedelta(days=i) for i in range(days + 1)]
        # UTC epoch second at which each business day starts; the last entry ends the period.
        self.day_starts = np.array(
            [int(datetime(d.year, d.month, d.day, tzinfo=zone).timestamp()) for d in bounds],
            dtype=np.int64,
        )
        self.epoch_days = np.array([(d - EPOCH).days for d in self.dates], dtype=np.int64)
        self.day_lengths = np.diff(self.day_starts)
        self.traffic, self.discount = self._calendar_effects()

    @property
    def end(self) -> int:
        """First second after the period (nothing generated may happen at or after it)."""
        return int(self.day_starts[-1])

    def day_of(self, seconds: np.ndarray) -> np.ndarray:
        """Business day index of UTC epoch seconds (-1 before, ``days`` after the period)."""
        return np.searchsorted(self.day_starts, seconds, side="right") - 1

    def epoch_day(self, day: int) -> int:
        """Days since 1970-01-01 of business day ``day`` (may lie outside the period)."""
        return int(self.epoch_days[0]) + day

    def fraction(self, share: float) -> int:
        """The day index at ``share`` of the period (for placing campaigns, experiments)."""
        return min(self.days - 1, int(share * self.days))

    def local_times(self, day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Random UTC instants on business days ``day``, following the hourly profile."""
        hour = rng.choice(24, size=len(day), p=HOURLY_TRAFFIC)
        offset = hour * 3600 + rng.integers(0, 3600, size=len(day))
        return self.day_starts[day] + np.minimum(offset, self.day_lengths[day] - 1)

    def _calendar_effects(self) -> tuple[np.ndarray, np.ndarray]:
        """Relative traffic, line-promotion discount and peak flag of each day."""
        weekday = np.array([d.weekday() for d in self.dates])
        day_of_year = np.array([d.timetuple().tm_yday for d in self.dates])
        # Mild seasonality: quiet late summer, busier towards the winter holidays.
        season = 1.0 + 0.12 * np.cos(2 * np.pi * (day_of_year - 355) / 365.25)
        traffic = WEEKDAY_TRAFFIC[weekday] * season
        discount = np.zeros(self.days)
        for promo in PROMOTIONS:
            for i, d in enumerate(self.dates):
                peak = date(d.year, promo.month, promo.day)
                lead = (peak - d).days
                if lead == 0:
                    traffic[i] *= promo.peak_traffic
                    discount[i] = promo.peak_discount
                elif 0 < lead <= promo.lead_days:
                    traffic[i] *= promo.lead_traffic
                    discount[i] = promo.lead_discount
        return traffic, discount
