"""Courier feed: pull one company's waybills and events from the exchange.

The window (a day in production, a whole month when catching up) is fetched
one local day at a time, and each day is its own batch and partition
(`company=SF/received_date=2025-03-04`). A month's catch-up therefore writes
exactly the partitions thirty daily runs would, and either can rerun the other.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Iterator

from zhongwei.exchange.client import ExchangeClient
from zhongwei.feeds import parse_events, parse_waybills
from zhongwei.ingest.batches import Batch, load
from zhongwei.ingest.windows import LOCAL, Window
from zhongwei.lake import Lake, LedgerEntry
from zhongwei.quality.gx import Quality

KINDS = {"waybills": ("courier_waybills", parse_waybills), "events": ("courier_events", parse_events)}


# Fields that tell most records apart; records equal as JSON are equal on them.
_CHEAP_KEY = ("waybill_no", "received_at", "event_time", "state")


def _unique(items: list[dict]) -> tuple[list[dict], int]:
    """Drop records served twice (a repeated page); return them and how many were dropped.

    Twice means equal as JSON (`json.dumps` with sorted keys). Serialising every record
    cost a fifth of parsing it, so a record is serialised only when a cheap key (a few
    string fields) is already taken by another record.
    """
    first: dict[object, dict] = {}  # cheap key -> the first record with it, until a second one comes
    seen: dict[object, set[str]] = {}  # cheap key -> the JSON texts of its records
    unique = []
    for item in items:
        cheap = _cheap_key(item)
        if cheap not in first:
            first[cheap] = item
            unique.append(item)
            continue
        texts = seen.get(cheap)
        if texts is None:
            texts = seen[cheap] = {_json_text(first[cheap])}
        text = _json_text(item)
        if text not in texts:
            texts.add(text)
            unique.append(item)
    return unique, len(items) - len(unique)


def _json_text(item: object) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False)


def _cheap_key(item: object) -> object:
    """Equal for records equal as JSON (it may be equal for others too): the string fields as they are."""
    if not isinstance(item, dict):
        return None
    return tuple([value if value.__class__ is str else None for value in map(item.get, _CHEAP_KEY)])


def fetch_day(client: ExchangeClient, kind: str, company: str, day: date) -> tuple[list[dict], int]:
    start = datetime.combine(day, time(), LOCAL)
    items = [item for _, page in client.iter_pages(kind, company, start, start + timedelta(days=1)) for item in page]
    return _unique(items)


def day_batch(kind: str, company: str, day: date, records: list[dict], duplicates: int) -> Batch:
    feed, parse = KINDS[kind]
    source = f"{kind}:{company}:{day.isoformat()}"
    return Batch(feed=feed, source=company, batch_id=f"{company}__{day.isoformat()}",
                 partition={"company": company, "received_date": day.isoformat()},
                 origin=f"GET /v1/{kind}?company={company} received {day.isoformat()} (Asia/Shanghai)",
                 parsed=parse(records, source), table_names={kind: feed}, duplicates=duplicates)


def _day_batches(client: ExchangeClient, company: str, window: Window) -> Iterator[Batch]:
    """Fetched and parsed a day at a time, as `load` asks for them."""
    for kind in KINDS:
        for day in window.days():
            records, duplicates = fetch_day(client, kind, company, day)
            if records or duplicates:
                yield day_batch(kind, company, day, records, duplicates)


def ingest_company(lake: Lake, quality: Quality, client: ExchangeClient, company: str, window: Window,
                   run_name: str) -> list[LedgerEntry]:
    """Every day of the window, both kinds; days with nothing received write nothing."""
    return load(lake, quality, _day_batches(client, company, window), f"{run_name}-{company}")
