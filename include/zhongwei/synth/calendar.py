"""Time in the synthetic world: months, the plan's growth path, seasonality."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np

from zhongwei.ingest.windows import check_months

CST = timezone(timedelta(hours=8))

# Plan levels for 2025 (80亿元 online retail, 2000万件 parcels) and the yearly
# growth the plan quotes; earlier years follow the path back from 2025.
PARCELS_2025 = 20_000_000
PARCEL_GROWTH = 0.23
GMV_2025_CNY = 8_000_000_000
GMV_GROWTH = 0.12

# Share of a year's parcels per month: Spring Festival trough (Jan/Feb),
# 618 (June), the July-September goji / selenium-melon harvest, Double 11.
PARCEL_SEASON = np.array([0.072, 0.055, 0.080, 0.080, 0.083, 0.092, 0.088, 0.092, 0.092, 0.085, 0.106, 0.075])
GMV_SEASON = np.array([0.075, 0.058, 0.078, 0.078, 0.082, 0.095, 0.085, 0.090, 0.090, 0.084, 0.110, 0.075])
PARCEL_SEASON = PARCEL_SEASON / PARCEL_SEASON.sum()
GMV_SEASON = GMV_SEASON / GMV_SEASON.sum()


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        """A month YYYY-MM, as checked by check_months."""
        y, m = text.split("-")
        return cls(int(y), int(m))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def ordinal(self) -> int:
        return self.year * 12 + self.month - 1

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=CST)

    def end(self) -> datetime:
        return self.next().start()

    def next(self) -> "Month":
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def prev(self) -> "Month":
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)


def month_range(spec: str) -> list[Month]:
    """`2024-01:2025-06` (inclusive) or a single `2025-03`."""
    first, _, last = check_months(spec).partition(":")
    a, b = Month.parse(first), Month.parse(last or first)
    months = [a]
    while months[-1] < b:
        months.append(months[-1].next())
    return months


def yearly_level(level_2025: float, growth: float, year: int) -> float:
    return level_2025 * (1 + growth) ** (year - 2025)


def monthly_parcels(m: Month, scale: float) -> int:
    return int(round(yearly_level(PARCELS_2025, PARCEL_GROWTH, m.year) * PARCEL_SEASON[m.month - 1] * scale))


def monthly_gmv_fen(m: Month, scale: float) -> int:
    return int(round(yearly_level(GMV_2025_CNY, GMV_GROWTH, m.year) * GMV_SEASON[m.month - 1] * scale * 100))


def day_weights(m: Month) -> np.ndarray:
    """Relative volume of each day of the month (shopping festivals, weekends)."""
    w = np.ones(m.days)
    for i in range(m.days):
        d = date(m.year, m.month, i + 1)
        if d.weekday() >= 5:
            w[i] *= 0.9
    if m.month == 6:
        w[13:18] *= 2.2  # 618 pre-sales settle on the 18th
    if m.month == 11:
        w[9:12] *= 3.0  # Double 11
    if m.month == 2:
        w[5:15] *= 0.45  # Spring Festival holiday
    return w / w.sum()


def agri_lift(m: Month) -> float:
    """Harvest months lift agricultural goods (goji, selenium melon, apples)."""
    return {7: 1.6, 8: 1.8, 9: 1.7, 10: 1.3, 6: 1.2}.get(m.month, 1.0)


def progress(m: Month, start: Month = Month(2024, 1), end: Month = Month(2025, 12)) -> float:
    """0 at the start of the generated history, 1 at the plan's end (clipped)."""
    return float(np.clip((m.ordinal - start.ordinal) / (end.ordinal - start.ordinal), 0, 1.2))
