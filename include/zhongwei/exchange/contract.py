"""The courier exchange contract (寄递数据交换接口 v1): the names and rules server and client share."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

KINDS: tuple[str, ...] = ("waybills", "events")
DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 5000

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 timestamp that names an instant, i.e. carries a UTC offset.

    Raises ValueError saying which of the two it is not.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"is not an ISO 8601 timestamp: {text!r}") from None
    if moment.utcoffset() is None:
        raise ValueError(f"has no UTC offset: {text!r}")
    return moment


def epoch_us(moment: datetime) -> int:
    """Microseconds since 1970 UTC, exact (no float rounding), for comparing instants."""
    return (moment - _EPOCH) // _MICROSECOND
