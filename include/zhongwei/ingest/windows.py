"""Which days a DAG run covers.

Production runs daily for the previous local day (or, for the ledgers,
monthly for the previous month). A catch-up run names a whole month (param
`month`) so one run covers it instead of thirty. Taken from params or the
logical date explicitly: a manual run's data interval has no width.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from zhongwei.config import TIMEZONE

LOCAL = ZoneInfo(TIMEZONE)
MONTH = r"\d{4}-(0[1-9]|1[0-2])"
MONTHS = rf"^{MONTH}(:{MONTH})?$"  # also the DAGs' `month` param's pattern, checked when a run is triggered


def check_months(value: str) -> str:
    """`value` if it is a month YYYY-MM, or a range YYYY-MM:YYYY-MM that does not end before it
    starts (`zw --month`, the DAGs' `month` param); else a ValueError saying what is allowed."""
    if not re.fullmatch(MONTHS, value):
        raise ValueError(f"{value!r} is not a month YYYY-MM (01-12) or a range YYYY-MM:YYYY-MM")
    first, _, last = value.partition(":")
    if last and last < first:
        raise ValueError(f"{value!r} ends before it starts: write the earlier month first")
    return value


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
        first_month, _, last_month = check_months(month).partition(":")
        y, m = (int(x) for x in first_month.split("-"))
        y2, m2 = (int(x) for x in (last_month or first_month).split("-"))
        nxt = date(y2 + m2 // 12, m2 % 12 + 1, 1)
        return cls(date(y, m, 1), nxt - timedelta(days=1))

    @classmethod
    def day(cls, day: date) -> "Window":
        return cls(day, day)


def _one_day(value: str) -> Window:
    try:
        return Window.day(date.fromisoformat(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a day YYYY-MM-DD") from None


def for_run(params: dict, logical_date: datetime, *, period: str = "day") -> Window:
    """The window of a run: `params.month` or `params.date` if given, else the
    period (day or month) before the logical date, in Asia/Shanghai. A param that does not
    read fails the task at once (AirflowFailException): a retry would read the same value."""
    for name, window in (("month", Window.month), ("date", _one_day)):
        if params.get(name):
            try:
                return window(params[name])
            except ValueError as bad:
                from airflow.sdk.exceptions import AirflowFailException

                raise AirflowFailException(f"param {name!r}: {bad}") from None
    local = logical_date.astimezone(LOCAL).date()
    if period == "month":
        previous = local.replace(day=1) - timedelta(days=1)
        return Window.month(previous.strftime("%Y-%m"))
    return Window.day(local - timedelta(days=1))
