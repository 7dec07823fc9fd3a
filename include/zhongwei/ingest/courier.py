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


def _unique(items: list[dict]) -> tuple[list[dict], int]:
    """Drop records served twice (a repeated page); return them and how many were dropped."""
    seen, unique = set(), []
    for item in items:
        key = json.dumps(item, sort_keys=True, ensure_ascii=False)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique, len(items) - len(unique)


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
