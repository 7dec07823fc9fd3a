"""Courier exchange records (courier.md) -> waybill and tracking-event rows.

Input is what the exchange API serves: JSON objects already decoded, one per
record, which may still have missing fields or wrong types. A corrected waybill
and an event delivered again later are both kept: the warehouse keeps the latest
`received_at` and counts equal events once, as the contract says it must. Within
one window a record is unique on its key and its `received_at` (`WAYBILL_KEY`,
`EVENT_KEY`): an equal copy is a duplicate; copies that differ cannot be ordered,
so both are quarantined (`conflicting_duplicate`).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

import pyarrow as pa

from zhongwei.feeds import reasons
from zhongwei.feeds.common import (
    UTC_TIMESTAMP, Candidate, Collector, ParsedBatch, RowError, build_table, clip, enum_value, to_count, to_fen, to_instant,
)
from zhongwei.feeds.contract import COMPANY_WAYBILL_PATTERNS, EVENT_STATES, ITEM_CATEGORIES, PACKAGINGS, SERVICES
from zhongwei.feeds.divisions import Divisions, default_divisions
from zhongwei.feeds.jsonfields import boolean, integer, obj, optional_object, optional_string, string
from zhongwei.feeds.pii import Deidentifier, redact, redact_json_line

DOMESTIC = "CN"
_COUNTRY = re.compile(r"^[A-Z]{2}$")

_PARTY_COLUMNS = [
    (f"{party}_{part}", pa.string())
    for party in ("sender", "receiver")
    for part in ("name_hash", "name_masked", "phone_hash", "phone_masked", "address_hash")
]
WAYBILL_SCHEMA = pa.schema([
    ("company", pa.string()), ("waybill_no", pa.string()),
    ("accepted_at", UTC_TIMESTAMP), ("received_at", UTC_TIMESTAMP),
    ("origin_area_code", pa.string()), ("dest_country", pa.string()), ("dest_area_code", pa.string()),
    ("weight_g", pa.int64()), ("fee_fen", pa.int64()),
    ("service", pa.string()), ("item_category", pa.string()), ("e_waybill", pa.bool_()),
    ("packaging", pa.string()), ("pickup_outlet_id", pa.string()),
    ("order_platform", pa.string()), ("order_no", pa.string()),
    *_PARTY_COLUMNS,
])
# What a record is unique on within one window (the contract's identity plus received_at).
WAYBILL_KEY = ("company", "waybill_no", "received_at")
EVENT_KEY = ("company", "waybill_no", "event_time", "state", "sub_state", "area_code", "received_at")
EVENT_SCHEMA = pa.schema([
    ("company", pa.string()), ("waybill_no", pa.string()),
    ("event_time", UTC_TIMESTAMP), ("received_at", UTC_TIMESTAMP),
    ("state", pa.int16()), ("sub_state", pa.int32()),
    ("area_code", pa.string()), ("area_name", pa.string()), ("outlet_id", pa.string()),
    ("context", pa.string()),
])


# ---------------------------------------------------------------- fields


def _instant(record: Mapping[str, Any], key: str) -> datetime:
    moment = to_instant(record.get(key), key, require_offset=True)
    assert moment is not None  # required
    return moment


def _identity(record: Mapping[str, Any]) -> tuple[str, str]:
    """(company, waybill_no): a company of the contract and a number of its pattern."""
    company = string(record, "company")
    pattern = COMPANY_WAYBILL_PATTERNS.get(company)
    if pattern is None:
        raise RowError(reasons.UNKNOWN_COMPANY, f"company {company!r} is not in the contract")
    waybill_no = string(record, "waybill_no")
    if not pattern.match(waybill_no):
        raise RowError(reasons.BAD_WAYBILL_NO, f"waybill_no {waybill_no!r} does not match {company}'s pattern")
    return company, waybill_no


def _party(record: Mapping[str, Any], key: str, deid: Deidentifier) -> dict[str, str | None]:
    """A sender/receiver object as hashes and masks; its clear values go no further."""
    party = obj(record, key)
    name, phone, address = (optional_string(party, f) for f in ("name", "phone", "address"))
    name_hash, name_masked = deid.name(name)
    phone_hash, phone_masked = deid.phone(phone)
    return {
        f"{key}_name_hash": name_hash, f"{key}_name_masked": name_masked,
        f"{key}_phone_hash": phone_hash, f"{key}_phone_masked": phone_masked,
        f"{key}_address_hash": deid.hash(address),
    }


def _order_ref(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    ref = optional_object(record, "order_ref")
    if ref is None:
        return None, None
    order_no = ref.get("order_no")
    if isinstance(order_no, int) and not isinstance(order_no, bool):
        ref = {**ref, "order_no": str(order_no)}  # a JSON integer id is exact; a float is refused
    return string(ref, "platform"), string(ref, "order_no")


# ---------------------------------------------------------------- records


def _waybill(record: Mapping[str, Any], divisions: Divisions, deid: Deidentifier) -> dict[str, Any]:
    company, waybill_no = _identity(record)
    accepted_at, received_at = _instant(record, "accepted_at"), _instant(record, "received_at")
    origin = divisions.check(string(record, "origin_area_code"), "origin_area_code")
    country = string(record, "dest_country")
    if not _COUNTRY.match(country):
        raise RowError(reasons.MALFORMED_RECORD, f"dest_country {country!r} is not an ISO 3166 alpha-2 code")
    dest = optional_string(record, "dest_area_code")
    if dest is None and country == DOMESTIC:
        raise RowError(reasons.MALFORMED_RECORD, "dest_area_code is missing for a domestic waybill")
    if dest is not None:
        dest = divisions.check(dest, "dest_area_code", lengths=(6, 12))
    platform, order_no = _order_ref(record)
    return {
        "company": company, "waybill_no": waybill_no,
        "accepted_at": accepted_at, "received_at": received_at,
        "origin_area_code": origin, "dest_country": country, "dest_area_code": dest,
        "weight_g": to_count(record.get("weight_g"), "weight_g", minimum=1, ints_only=True),
        "fee_fen": to_fen(record.get("fee_cny"), "fee_cny", strings_only=True),
        "service": enum_value(string(record, "service"), "service", SERVICES),
        "item_category": enum_value(string(record, "item_category"), "item_category", ITEM_CATEGORIES),
        "e_waybill": boolean(record, "e_waybill"),
        "packaging": enum_value(string(record, "packaging"), "packaging", PACKAGINGS),
        "pickup_outlet_id": optional_string(record, "pickup_outlet_id"),
        "order_platform": platform, "order_no": order_no,
        **_party(record, "sender", deid), **_party(record, "receiver", deid),
    }


def _event(record: Mapping[str, Any], divisions: Divisions) -> dict[str, Any]:
    company, waybill_no = _identity(record)
    state = integer(record, "state")
    if state not in EVENT_STATES:
        raise RowError(reasons.MALFORMED_RECORD, f"state {state!r} is not one of {sorted(EVENT_STATES)}")
    return {
        "company": company, "waybill_no": waybill_no,
        "event_time": _instant(record, "event_time"), "received_at": _instant(record, "received_at"),
        "state": state, "sub_state": integer(record, "sub_state", required=False),
        "area_code": divisions.check(string(record, "area_code"), "area_code"),
        "area_name": redact(optional_string(record, "area_name", free_text=True)),
        "outlet_id": optional_string(record, "outlet_id"),
        "context": redact(optional_string(record, "context", free_text=True)),
    }


def _raw_record(record: object) -> str:
    return clip(redact_json_line(json.dumps(record, ensure_ascii=False, default=str)) or "")


def _parse(
    records: Iterable[object], source: str, table: str, schema: pa.Schema,
    convert: Callable[[Mapping[str, Any]], dict[str, Any]], key: tuple[str, ...],
) -> ParsedBatch:
    col, candidates = Collector(), []
    for number, record in enumerate(records, start=1):
        col.arrived += 1
        location = f"{source}:record {number}"
        try:
            if not isinstance(record, dict):
                raise RowError(reasons.MALFORMED_RECORD, f"a JSON {type(record).__name__}, not an object")
            row = convert(record)
        except RowError as error:
            col.reject(location, error, _raw_record(record))
            continue
        candidates.append(Candidate(location, tuple(row[k] for k in key), row, partial(_raw_record, record)))
    kept, _ = col.unique(candidates, "/".join(key), lambda row: row)
    return col.finish({table: build_table(col.accept_all(kept), schema)}, source=source)


def parse_waybills(
    records: Iterable[object], source: str, known_divisions: Divisions | None = None, *,
    deid: Deidentifier | None = None,
) -> ParsedBatch:
    """Waybill records of one API window -> table `waybills`.

    `source` names the window in quarantine locations (`<source>:record N`, N
    counting from 1 in the order served). Sender and receiver leave as hashes
    and masks only.
    """
    divisions = default_divisions() if known_divisions is None else known_divisions
    deidentifier = deid or Deidentifier.from_settings()
    return _parse(records, source, "waybills", WAYBILL_SCHEMA, lambda r: _waybill(r, divisions, deidentifier),
                  WAYBILL_KEY)


def parse_events(records: Iterable[object], source: str, known_divisions: Divisions | None = None) -> ParsedBatch:
    """Tracking-event records of one API window -> table `events` (free text redacted)."""
    divisions = default_divisions() if known_divisions is None else known_divisions
    return _parse(records, source, "events", EVENT_SCHEMA, lambda r: _event(r, divisions), EVENT_KEY)
