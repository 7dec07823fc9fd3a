"""Which days a DAG run covers.

Production runs daily for the previous local day (or, for the ledgers,
monthly for the previous month). A catch-up run names a whole month (param
`month`) so one run covers it instead of thirty. Taken from params or the
logical date explicitly: a manual run's data interval has no width.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from zhongwei.config import TIMEZONE

LOCAL = ZoneInfo(TIMEZONE)


@dataclass(frozen=True)
class Window:
    first: date
    last: date  # inclusive

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def months(self) -> list[str]:
        return sorted({d.strftime("%Y-%m") for d in self.days()})

    @classmethod
    def month(cls, month: str) -> "Window":
        """A month `2025-03`, or a range of months `2024-01:2025-02` (a backfill in one run)."""
        first_month, _, last_month = month.partition(":")
        y, m = (int(x) for x in first_month.split("-"))
        y2, m2 = (int(x) for x in (last_month or first_month).split("-"))
        nxt = date(y2 + m2 // 12, m2 % 12 + 1, 1)
        if (y2, m2) < (y, m):
            raise ValueError(f"empty month range {month!r}")
        return cls(date(y, m, 1), nxt - timedelta(days=1))

    @classmethod
    def day(cls, day: date) -> "Window":
        return cls(day, day)


def for_run(params: dict, logical_date: datetime, *, period: str = "day") -> Window:
    """The window of a run: `params.month` or `params.date` if given, else the
    period (day or month) before the logical date, in Asia/Shanghai."""
    if params.get("month"):
        return Window.month(params["month"])
    if params.get("date"):
        return Window.day(date.fromisoformat(params["date"]))
    local = logical_date.astimezone(LOCAL).date()
    if period == "month":
        previous = local.replace(day=1) - timedelta(days=1)
        return Window.month(previous.strftime("%Y-%m"))
    return Window.day(local - timedelta(days=1))
