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
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zhongwei.feeds import reasons
from zhongwei.feeds.columns import (
    Checked, Rules, amounts, instants, integers, json_column, per_distinct, rows_of, text_part, texts, vetted,
)
from zhongwei.feeds.common import (
    UTC_TIMESTAMP, Candidate, Collector, ParsedBatch, RowError, clip, enum_value, to_count, to_fen, to_instant,
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


def _on_value(getter: Callable[..., Any], key: str, value: object, **options: Any) -> Any:
    """A `jsonfields` getter applied to a field's value (the column engine holds values, not records)."""
    return getter({key: value}, key, **options)


def _company(value: object) -> str:
    company = _on_value(string, "company", value)
    if company not in COMPANY_WAYBILL_PATTERNS:
        raise RowError(reasons.UNKNOWN_COMPANY, f"company {company!r} is not in the contract")
    return company


def _waybill_no(company: str, value: object) -> str:
    waybill_no = _on_value(string, "waybill_no", value)
    if not COMPANY_WAYBILL_PATTERNS[company].match(waybill_no):
        raise RowError(reasons.BAD_WAYBILL_NO, f"waybill_no {waybill_no!r} does not match {company}'s pattern")
    return waybill_no


def _area(value: object, name: str, divisions: Divisions) -> str:
    return divisions.check(_on_value(string, name, value), name)


def _country(value: object) -> str:
    country = _on_value(string, "dest_country", value)
    if not _COUNTRY.match(country):
        raise RowError(reasons.MALFORMED_RECORD, f"dest_country {country!r} is not an ISO 3166 alpha-2 code")
    return country


def _destination(country: str, value: object, divisions: Divisions) -> str | None:
    """dest_area_code: required at home, a county (6 digits) or a division (12) when given."""
    dest = _on_value(optional_string, "dest_area_code", value)
    if dest is None and country == DOMESTIC:
        raise RowError(reasons.MALFORMED_RECORD, "dest_area_code is missing for a domestic waybill")
    if dest is not None:
        dest = divisions.check(dest, "dest_area_code", lengths=(6, 12))
    return dest


def _state(value: object) -> int:
    state = _on_value(integer, "state", value)
    if state not in EVENT_STATES:
        raise RowError(reasons.MALFORMED_RECORD, f"state {state!r} is not one of {sorted(EVENT_STATES)}")
    return state


def _enum(value: object, name: str, allowed: frozenset[str]) -> str:
    return enum_value(_on_value(string, name, value), name, allowed)


def _free_text(value: object, name: str) -> str | None:
    """Free text (area names, event context) as sent, with phone numbers masked."""
    return redact(_on_value(optional_string, name, value, free_text=True))


def _order_ref(value: object) -> tuple[str | None, str | None]:
    ref = _on_value(optional_object, "order_ref", value)
    if ref is None:
        return None, None
    order_no = ref.get("order_no")
    if isinstance(order_no, int) and not isinstance(order_no, bool):
        ref = {**ref, "order_no": str(order_no)}  # a JSON integer id is exact; a float is refused
    return string(ref, "platform"), string(ref, "order_no")


def _raw_record(record: object) -> str:
    return clip(redact_json_line(json.dumps(record, ensure_ascii=False, default=str)) or "")


def _not_an_object(record: object) -> str:
    return f"a JSON {type(record).__name__}, not an object"


# ---------------------------------------------------------------- on whole columns
#
# The rules run on whole columns (`zhongwei.feeds.columns`): each field is taken out of
# the records once, the common case is checked in Arrow, and everything else (wrong
# types, other spellings, mistakes) takes the value rules above, once per distinct value
# (short windows entirely so, `columns.json_column`). A record's reason is its first
# failing check, in the order of the columns below (the order the record-by-record parser
# checked them in: tests/feeds/expected holds what it made of hostile records).

_HASH_AND_MASK = pa.struct([("hash", pa.string()), ("masked", pa.string())])
_ORDER_REF = pa.struct([("platform", pa.string()), ("order_no", pa.string())])
_EVENT_STATES = pa.array(sorted(EVENT_STATES), pa.int64())
_OBJECT = object()  # stands for any JSON object where only its being one matters
assert all(p.pattern.startswith("^") and p.pattern.endswith("$") for p in COMPANY_WAYBILL_PATTERNS.values())
# Every company's number pattern in one RE2 pass over `company<US>waybill_no`. RE2's \d is
# ASCII only: what it accepts, the Python pattern accepts too; the rest takes `_waybill_no`.
_IDENTITY = "^(?:" + "|".join(
    f"{re.escape(company)}\x1f(?:{pattern.pattern[1:-1]})" for company, pattern in COMPANY_WAYBILL_PATTERNS.items()
) + ")$"

Fields = Callable[[str], list[Any]]


def _fields(records: list[dict[str, Any]]) -> Fields:
    """A field of every record, as a list (None where missing)."""
    return lambda key: [record.get(key) for record in records]


def _identity_columns(field: Fields, rules: Rules) -> tuple[pa.Array, pa.Array]:
    company = rules.check(json_column(field("company"), _company, pa.string()))
    numbers = field("waybill_no")
    pairs = list(zip(company.to_pylist(), numbers))

    def vectorised() -> Checked:
        written = texts(text_part(numbers))
        accepted = pc.match_substring_regex(pc.binary_join_element_wise(company, written, "\x1f"), _IDENTITY)
        return vetted(pairs, written, accepted, _company_waybill_no)

    return company, rules.check(json_column(pairs, _company_waybill_no, pa.string(), vectorised))


def _company_waybill_no(pair: tuple[str | None, object]) -> str | None:
    """`_waybill_no` of a (company, number); a row without a company has failed already."""
    company, value = pair
    return None if company is None else _waybill_no(company, value)


def _instants(field: Fields, key: str) -> Checked:
    values = field(key)
    rule = partial(to_instant, name=key, require_offset=True)
    return json_column(values, rule, UTC_TIMESTAMP, lambda: instants(values, rule, require_offset=True))


def _ints(values: list[Any], rule: Callable[[Any], Any], valid: Callable[[pa.Array], pa.Array]) -> Checked:
    return json_column(values, rule, pa.int64(), partial(integers, values, rule, valid))


def _json(field: Fields, key: str, rule: Callable[[Any], Any], type_: pa.DataType = pa.string()) -> Checked:
    return json_column(field(key), rule, type_)


def _order_ref_columns(field: Fields) -> Checked:
    """`_order_ref`: an object's platform and order_no as text in Arrow, the rest (integer ids, mistakes) by rule."""
    refs = field("order_ref")
    # What `_order_ref` reads of an object (its platform and order_no), so that equal ones are checked once.
    parts = [(ref.get("platform"), ref.get("order_no")) if isinstance(ref, dict) else ref for ref in refs]

    def vectorised() -> Checked:
        platform, order_no = (text_part([p[i] if isinstance(p, tuple) else None for p in parts]) for i in (0, 1))
        fast = pa.StructArray.from_arrays([texts(platform), texts(order_no)], fields=list(_ORDER_REF))
        given = pa.array([isinstance(p, tuple) for p in parts], pa.bool_())
        complete = pc.and_(pc.not_equal(pc.struct_field(fast, 0), ""), pc.not_equal(pc.struct_field(fast, 1), ""))
        accepted = pc.or_(pc.and_(given, complete), pa.array([p is None for p in parts], pa.bool_()))
        return vetted(parts, fast, accepted, _order_ref_of_parts)

    return json_column(parts, _order_ref_of_parts, _ORDER_REF, vectorised)


def _order_ref_of_parts(parts: object) -> tuple[str | None, str | None]:
    if isinstance(parts, tuple):
        parts = {"platform": parts[0], "order_no": parts[1]}
    return _order_ref(parts)


def _party_columns(field: Fields, key: str, deid: Deidentifier, rules: Rules) -> dict[str, pa.Array]:
    """A sender/receiver object as hashes and masks (its clear values go no further): the
    object checked first, then its name, phone and address."""
    parties = field(key)
    rules.check(json_column([_OBJECT if isinstance(p, dict) else p for p in parties], partial(_is_object, key=key),
                            pa.bool_()))
    member = _fields([p if isinstance(p, dict) else {} for p in parties])
    name = rules.check(_json(member, "name", lambda v: deid.name(_on_value(optional_string, "name", v)),
                             _HASH_AND_MASK))
    phone = rules.check(_json(member, "phone", lambda v: deid.phone(_on_value(optional_string, "phone", v)),
                              _HASH_AND_MASK))
    address = rules.check(_json(member, "address", lambda v: deid.hash(_on_value(optional_string, "address", v))))
    return {
        f"{key}_name_hash": pc.struct_field(name, 0), f"{key}_name_masked": pc.struct_field(name, 1),
        f"{key}_phone_hash": pc.struct_field(phone, 0), f"{key}_phone_masked": pc.struct_field(phone, 1),
        f"{key}_address_hash": address,
    }


def _is_object(value: object, key: str) -> None:
    if value is not _OBJECT:
        _on_value(obj, key, value)


def _waybill_columns(records: list[dict[str, Any]], divisions: Divisions, deid: Deidentifier,
                     ) -> tuple[dict[str, pa.Array], Rules]:
    field, rules = _fields(records), Rules()
    company, waybill_no = _identity_columns(field, rules)
    accepted_at = rules.check(_instants(field, "accepted_at"))
    received_at = rules.check(_instants(field, "received_at"))
    origin = rules.check(_json(field, "origin_area_code", partial(_area, name="origin_area_code", divisions=divisions)))
    country = rules.check(_json(field, "dest_country", _country))
    dest = rules.check(per_distinct(list(zip(country.to_pylist(), field("dest_area_code"))),
                                           partial(_country_destination, divisions=divisions), pa.string()))
    ref = rules.check(_order_ref_columns(field))
    weights = field("weight_g")
    weight = rules.check(_ints(weights, partial(to_count, name="weight_g", minimum=1, ints_only=True),
                               lambda ints: pc.greater_equal(ints, 1)))
    fees = field("fee_cny")
    fee_rule = partial(to_fen, name="fee_cny", strings_only=True)
    fee = rules.check(json_column(fees, fee_rule, pa.int64(), lambda: amounts(fees, fee_rule)))
    columns = {
        "company": company, "waybill_no": waybill_no, "accepted_at": accepted_at, "received_at": received_at,
        "origin_area_code": origin, "dest_country": country, "dest_area_code": dest,
        "weight_g": weight, "fee_fen": fee,
        "service": rules.check(_json(field, "service", partial(_enum, name="service", allowed=SERVICES))),
        "item_category": rules.check(_json(field, "item_category",
                                           partial(_enum, name="item_category", allowed=ITEM_CATEGORIES))),
        "e_waybill": rules.check(per_distinct(field("e_waybill"), partial(_on_value, boolean, "e_waybill"),
                                                     pa.bool_())),
        "packaging": rules.check(_json(field, "packaging", partial(_enum, name="packaging", allowed=PACKAGINGS))),
        "pickup_outlet_id": rules.check(_json(field, "pickup_outlet_id",
                                              partial(_on_value, optional_string, "pickup_outlet_id"))),
        "order_platform": pc.struct_field(ref, 0), "order_no": pc.struct_field(ref, 1),
    }
    for party in ("sender", "receiver"):
        columns.update(_party_columns(field, party, deid, rules))
    return columns, rules


def _country_destination(pair: tuple[str | None, object], divisions: Divisions) -> str | None:
    """`_destination` of a (country, dest_area_code); a row without a country has failed already."""
    country, value = pair
    return None if country is None else _destination(country, value, divisions)


def _event_columns(records: list[dict[str, Any]], divisions: Divisions) -> tuple[dict[str, pa.Array], Rules]:
    field, rules = _fields(records), Rules()
    company, waybill_no = _identity_columns(field, rules)
    state = rules.check(_ints(field("state"), _state, partial(pc.is_in, value_set=_EVENT_STATES)))
    columns = {
        "company": company, "waybill_no": waybill_no,
        "event_time": rules.check(_instants(field, "event_time")),
        "received_at": rules.check(_instants(field, "received_at")),
        "state": state,
        "sub_state": rules.check(per_distinct(
            field("sub_state"), partial(_on_value, integer, "sub_state", required=False), pa.int64())),
        "area_code": rules.check(_json(field, "area_code", partial(_area, name="area_code", divisions=divisions))),
        "area_name": rules.check(_json(field, "area_name", partial(_free_text, name="area_name"))),
        "outlet_id": rules.check(_json(field, "outlet_id", partial(_on_value, optional_string, "outlet_id"))),
        "context": rules.check(_json(field, "context", partial(_free_text, name="context"))),
    }
    return columns, rules


def _parse_columns(
    records: Iterable[object], source: str, table: str, schema: pa.Schema,
    convert: Callable[[list[dict[str, Any]]], tuple[dict[str, pa.Array], Rules]], key: tuple[str, ...],
) -> ParsedBatch:
    """A window's records through `convert` (its kind's columns and rules), then its repeats and conflicts."""
    records = list(records)
    col = Collector()
    col.arrived = len(records)
    at = [number for number, record in enumerate(records) if isinstance(record, dict)]
    columns, rules = convert(records if len(at) == len(records) else [records[number] for number in at])
    failed = rules.first_errors()
    errors = {at[row]: error for row, error in failed.items()}
    if len(at) < len(records):
        errors.update((number, RowError(reasons.MALFORMED_RECORD, _not_an_object(record)))
                      for number, record in enumerate(records) if not isinstance(record, dict))

    def location(number: int) -> str:
        return f"{source}:record {number + 1}"

    for number in sorted(errors):
        col.reject(location(number), errors[number], _raw_record(records[number]))
    good = np.ones(len(at), dtype=bool)
    good[list(failed)] = False
    rules.check_loaded(np.flatnonzero(good).tolist())  # a loaded value Arrow cannot hold fails the batch
    rows = pa.table({name: columns[name] for name in schema.names}).filter(pa.array(good)).cast(schema)
    numbers = np.asarray(at, dtype=np.int64)[good].tolist()
    keep = _unique_rows(rows, key, col, numbers, records, location)
    col.loaded += int(keep.sum())
    return col.finish({table: rows.filter(pa.array(keep))}, source=source)


def _unique_rows(rows: pa.Table, key: tuple[str, ...], col: Collector, numbers: list[int], records: list[object],
                 location: Callable[[int], str]) -> np.ndarray:
    """Which rows stay under `Collector.unique` (key `key`, content the whole row).

    Arrow finds the keys that may occur more than once; only their rows become candidates,
    which `Collector.unique` counts and rejects as it does every feed's.
    """
    keep = np.ones(len(rows), dtype=bool)
    # Keys joined into one text (a separator inside a value can only join more rows, never fewer).
    joined = pc.binary_join_element_wise(*(rows.column(k).cast(pa.string()) for k in key), "\x1f",
                                         null_handling="replace")
    counts = pc.value_counts(joined)
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if not len(repeated):
        return keep
    members = np.flatnonzero(pc.is_in(joined, value_set=repeated).to_numpy(zero_copy_only=False)).tolist()
    candidates = [
        Candidate(location(numbers[row]), row_key, (row, content), partial(_raw_record, records[numbers[row]]))
        for row, row_key, content in zip(members, rows_of([rows.column(k) for k in key], members),
                                         rows_of(rows.columns, members))
    ]
    kept, _ = col.unique(candidates, "/".join(key), lambda value: value[1])
    keep[members] = False
    keep[[c.value[0] for c in kept]] = True
    return keep


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
    convert = partial(_waybill_columns, divisions=divisions, deid=deidentifier)
    return _parse_columns(records, source, "waybills", WAYBILL_SCHEMA, convert, WAYBILL_KEY)


def parse_events(records: Iterable[object], source: str, known_divisions: Divisions | None = None) -> ParsedBatch:
    """Tracking-event records of one API window -> table `events` (free text redacted)."""
    divisions = default_divisions() if known_divisions is None else known_divisions
    convert = partial(_event_columns, divisions=divisions)
    return _parse_columns(records, source, "events", EVENT_SCHEMA, convert, EVENT_KEY)
