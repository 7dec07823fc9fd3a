"""The courier records on whole columns against the record-by-record parser (issue 13).

Both engines parse the same windows of decoded JSON records: generated months with
every defect kind at 5 % (repeats, conflicting copies, bad numbers, times, amounts
and types), cut into windows per company and received day as the exchange serves
them, and hand-made hostile records the generator never writes (wrong types
everywhere, bools and floats for integers, NaN, strings for objects, non-objects,
other timestamp spellings, foreign destinations, copies with the same key). Each is
parsed with the column engine's Arrow path and with its short-column Python path
(`ARROW_FROM`). The whole batch must be equal: tables, quarantine entries (location,
reason, detail, masked raw text, in order), warnings, counts and metadata.

Also: `zhongwei.ingest.courier._unique` drops the same records as serialising every one.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from zhongwei.feeds import ParsedBatch, columns, courier, parse_events, parse_waybills
from zhongwei.ingest.courier import _unique
from zhongwei.synth.generate import SynthConfig, generate

from feedkit import DEID, EVENT, WAYBILL, variant
from expectations import served
from test_feeds_columnar import assert_same

PARSERS: dict[str, Callable[[list[object], str], ParsedBatch]] = {
    "waybills": lambda records, source: parse_waybills(records, source, deid=DEID),
    "events": lambda records, source: parse_events(records, source),
}
# Every column through Arrow, or (as in small windows) every column in Python.
PATHS = {"arrow": 0, "python": 1 << 30}


def assert_alike(kind: str, records: list[object], source: str, path: str) -> ParsedBatch:
    with patch.dict(courier._COLUMNAR, clear=True):
        old = PARSERS[kind](records, source)
    with patch.object(columns, "ARROW_FROM", PATHS[path]):
        new = PARSERS[kind](records, source)
    assert_same(new, old)
    return old


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("courier-columnar") / "inbox"
    generate(SynthConfig(out=str(out), months="2025-02:2025-04", scale=0.002, seed=11, defect_rate=0.05))
    return out


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kind", PARSERS)
def test_generated_windows_parse_alike(inbox: Path, kind: str, path: str) -> None:
    files = sorted(inbox.rglob(f"courier/{kind}_*.jsonl"))
    assert files
    outcomes = {"loaded": 0, "rejected": 0, "duplicates": 0, "conflicts": 0}
    for file in files:
        for source, records in served(file).items():
            old = assert_alike(kind, records, source, path)
            outcomes["loaded"] += old.rows_loaded
            outcomes["rejected"] += len(old.rejected)
            outcomes["duplicates"] += old.duplicates
            outcomes["conflicts"] += sum(r.reason == "conflicting_duplicate" for r in old.rejected)
    assert all(outcomes.values()), outcomes  # every kind of outcome was compared


def _without(template: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in template.items() if k not in keys}


def _hostile_waybills() -> list[object]:
    w = WAYBILL

    def number(i: int) -> str:
        return f"SF{i:013d}"

    bad: list[object] = [
        "SF1234567890123", 7, None, [WAYBILL], True,
        variant(w, company=7), variant(w, company=True), variant(w, company=""), variant(w, company=" sf "),
        variant(w, company="ＳＦ", waybill_no=number(1)), variant(w, company="KYE"), variant(w, company=None),
        _without(w, "company"), variant(w, waybill_no=1234567890123), variant(w, waybill_no="SF12345"),
        variant(w, waybill_no=" SF0000000000002 "), variant(w, waybill_no="SF００００００００００００3"),
        variant(w, waybill_no="SF0000000000004\n"), variant(w, waybill_no=""), variant(w, waybill_no=None),
        variant(w, company="EMS", waybill_no="EA123456789CN"), variant(w, company="EMS", waybill_no="1" * 13),
        variant(w, company="ZTO", waybill_no="SF0000000000005"),
        variant(w, waybill_no=number(6), accepted_at="2025-03-04T10:21:00"),
        variant(w, waybill_no=number(7), accepted_at="2025-03-04 10:21:00+08:00"),
        variant(w, waybill_no=number(8), accepted_at="2025-03-04T02:21:00Z"),
        variant(w, waybill_no=number(9), accepted_at="2025-03-04T10:21:00.250+08:00"),
        variant(w, waybill_no=number(10), accepted_at="2025-03-04T10:21:00+0800"),
        variant(w, waybill_no=number(11), accepted_at="2025-02-30T10:21:00+08:00"),
        variant(w, waybill_no=number(12), accepted_at="2025-03-04T24:00:00+08:00"),
        variant(w, waybill_no=number(13), accepted_at="1989-12-31T23:00:00-05:00"),
        variant(w, waybill_no=number(14), accepted_at="2099-12-31T23:00:00-05:00"),
        variant(w, waybill_no=number(15), accepted_at="2100-01-01T00:00:00+08:00"),
        variant(w, waybill_no=number(16), accepted_at="2025-03-04T10:21:00+24:00"),
        variant(w, waybill_no=number(17), accepted_at=" 2025-03-04T10:21:00+05:45 "),
        variant(w, waybill_no=number(18), accepted_at="２０２５-03-04T10:21:00+08:00"),
        variant(w, waybill_no=number(19), accepted_at=1741054860), variant(w, waybill_no=number(20), accepted_at=None),
        variant(w, waybill_no=number(21), accepted_at="2025年3月4日 10:21"),
        variant(w, waybill_no=number(22), received_at="2025-03-04T10:25:13-00:00"),
        variant(w, waybill_no=number(23), received_at=["2025-03-04T10:25:13+08:00"]),
        variant(w, waybill_no=number(24), origin_area_code="640521999999"),
        variant(w, waybill_no=number(25), origin_area_code="6405211"),
        variant(w, waybill_no=number(26), origin_area_code=640521101205),
        variant(w, waybill_no=number(27), origin_area_code="110101001001"),
        variant(w, waybill_no=number(28), origin_area_code="６４０５２１１０１２０５"),
        variant(w, waybill_no=number(29), dest_country="US", dest_area_code=None),
        variant(w, waybill_no=number(30), dest_country="us"), variant(w, waybill_no=number(31), dest_country="CHN"),
        variant(w, waybill_no=number(32), dest_country=86), variant(w, waybill_no=number(33), dest_area_code=None),
        _without(w, "dest_area_code"), variant(w, waybill_no=number(34), dest_area_code="640521"),
        variant(w, waybill_no=number(35), dest_area_code="640599"), variant(w, waybill_no=number(36), dest_area_code=""),
        variant(w, waybill_no=number(37), dest_area_code=310115), variant(w, waybill_no=number(38), dest_country="JP",
                                                                      dest_area_code="13"),
        variant(w, waybill_no=number(39), dest_country=None, dest_area_code=7),
        variant(w, waybill_no=number(40), order_ref=None), variant(w, waybill_no=number(41), order_ref="DOUYIN"),
        variant(w, waybill_no=number(42), order_ref={"platform": "TAOBAO", "order_no": 3824302280376035447}),
        variant(w, waybill_no=number(43), order_ref={"platform": "TAOBAO", "order_no": 3.8e18}),
        variant(w, waybill_no=number(44), order_ref={"platform": "TAOBAO", "order_no": True}),
        variant(w, waybill_no=number(45), order_ref={"platform": "", "order_no": "1"}),
        variant(w, waybill_no=number(46), order_ref={}), variant(w, waybill_no=number(47), order_ref=[]),
        variant(w, waybill_no=number(48), order_ref={"platform": " PDD ", "order_no": "２５０３０４-１"}),
        variant(w, waybill_no=number(49), weight_g=True), variant(w, waybill_no=number(50), weight_g=1.0),
        variant(w, waybill_no=number(51), weight_g=2350.5), variant(w, waybill_no=number(52), weight_g=math.nan),
        variant(w, waybill_no=number(53), weight_g="2350"), variant(w, waybill_no=number(54), weight_g=0),
        variant(w, waybill_no=number(55), weight_g=-5), variant(w, waybill_no=number(56), weight_g=None),
        variant(w, waybill_no=number(57), weight_g=False), variant(w, waybill_no=number(58), weight_g=-0.0),
        variant(w, waybill_no=number(59), weight_g=0.0),
        variant(w, waybill_no=number(60), fee_cny=18), variant(w, waybill_no=number(61), fee_cny=18.0),
        variant(w, waybill_no=number(62), fee_cny="18.005"), variant(w, waybill_no=number(63), fee_cny="-0.00"),
        variant(w, waybill_no=number(64), fee_cny="１８.５"), variant(w, waybill_no=number(65), fee_cny=" 7 "),
        variant(w, waybill_no=number(66), fee_cny="1e3"), variant(w, waybill_no=number(67), fee_cny=""),
        variant(w, waybill_no=number(68), fee_cny=math.nan), variant(w, waybill_no=number(69), fee_cny="18.50"),
        variant(w, waybill_no=number(70), service="overnight"), variant(w, waybill_no=number(71), service=" express "),
        variant(w, waybill_no=number(72), service=1), variant(w, waybill_no=number(73), item_category=None),
        variant(w, waybill_no=number(74), item_category="ａｇｒｉ"), variant(w, waybill_no=number(75), e_waybill=1),
        variant(w, waybill_no=number(76), e_waybill="true"), variant(w, waybill_no=number(77), e_waybill=None),
        variant(w, waybill_no=number(78), e_waybill=False), variant(w, waybill_no=number(79), packaging=""),
        variant(w, waybill_no=number(80), packaging=["green"]), variant(w, waybill_no=number(81), pickup_outlet_id=12),
        variant(w, waybill_no=number(82), pickup_outlet_id="  "), variant(w, waybill_no=number(83), pickup_outlet_id=None),
        variant(w, waybill_no=number(84), sender=None), _without(variant(w, waybill_no=number(85)), "sender"),
        variant(w, waybill_no=number(86), sender="马建国 13909551234"), variant(w, waybill_no=number(87), sender=[]),
        variant(w, waybill_no=number(88), sender={}), variant(w, waybill_no=number(89), receiver={"name": 5}),
        variant(w, waybill_no=number(90), receiver={"name": "李娜", "phone": 13812345678}),
        variant(w, waybill_no=number(91), receiver={"name": "李娜", "phone": "138 1234 5678", "address": True}),
        variant(w, waybill_no=number(92), receiver={"name": "李*", "phone": "138****5678", "address": "***"}),
        variant(w, waybill_no=number(93), receiver={"name": " 李 娜 ", "phone": "+8613812345678", "address": ""}),
        variant(w, waybill_no=number(94), sender={"name": 1.5}, receiver=None),
        variant(w, waybill_no=number(95), company=None, weight_g="x", sender=None),  # several faults: the first
        variant(w, waybill_no=number(96), accepted_at="bad", fee_cny=5, receiver="x"),
        variant(w, waybill_no=number(97), company=None, weight_g=1 << 70),  # no int64 holds it: rejected before
    ]
    # The same key twice: equal copies are duplicates, differing copies conflict (also with a bad copy between).
    copies = [
        variant(w, waybill_no=number(200)), variant(w, waybill_no=number(200)),
        variant(w, waybill_no=number(201)), variant(w, waybill_no=number(201), weight_g=1),
        variant(w, waybill_no=number(201), weight_g="bad"), variant(w, waybill_no=number(201)),
        variant(w, waybill_no=number(202), receiver=variant(w["receiver"], phone="13812345679")),
        variant(w, waybill_no=number(202)),
        variant(w, waybill_no=number(203), received_at="2025-03-04T02:25:13Z"),
        variant(w, waybill_no=number(203), received_at="2025-03-04T10:25:13+08:00"),
        variant(w, waybill_no=number(204), fee_cny="18.0"), variant(w, waybill_no=number(204), fee_cny="18.00"),
        variant(w, waybill_no=number(205), dest_country="US", dest_area_code=None),
        variant(w, waybill_no=number(205), dest_country="US", dest_area_code="310115"),
    ]
    return [w, *bad, *copies, *(variant(w, waybill_no=number(300 + i)) for i in range(5))]


def _hostile_events() -> list[object]:
    e = EVENT
    bad: list[object] = [
        "event", 3.5, None, [e], False,
        variant(e, company="SFX"), variant(e, company=None), variant(e, waybill_no="#SF1234567890123"),
        variant(e, company="ZTO"), variant(e, state=9), variant(e, state=True), variant(e, state=3.0),
        variant(e, state="3"), variant(e, state=None), variant(e, state=14, sub_state=None),
        variant(e, state=0, sub_state=False), variant(e, sub_state=304.0), variant(e, sub_state="304"),
        variant(e, sub_state=math.nan), variant(e, event_time="2025-13-01T08:00:00+08:00"),
        variant(e, event_time="昨天下午"), variant(e, event_time="2025-03-06T15:02:00"),
        variant(e, event_time="2025-03-06T07:02:00Z"), variant(e, event_time="2025-03-06T15:02:00.5+08:00"),
        variant(e, event_time=None), variant(e, received_at={"at": 1}),
        variant(e, area_code="640521999999"), variant(e, area_code=None), variant(e, area_code=640521101205),
        variant(e, area_code=" 640521101205 "), variant(e, area_name=7), variant(e, area_name="  "),
        variant(e, area_name="中卫 13909551234 站"), variant(e, outlet_id=0), variant(e, outlet_id=" ZW640521-0012 "),
        variant(e, context=None), variant(e, context=["x"]), variant(e, context=" 电话 0955-7012345 "),
        variant(e, context="快件已签收\u3000"), variant(e, context="\ud800 lone surrogate", state=9),
        variant(e, state=99, area_code="1"),  # two faults: the state comes first
        variant(e, state=9, sub_state=1 << 40),
    ]
    copies = [
        variant(e, event_time="2025-03-06T16:00:00+08:00"), variant(e, event_time="2025-03-06T16:00:00+08:00"),
        variant(e, event_time="2025-03-06T17:00:00+08:00"),
        variant(e, event_time="2025-03-06T17:00:00+08:00", context="快件已签收（重复推送）"),
        variant(e, event_time="2025-03-06T18:00:00+08:00", sub_state=None),
        variant(e, event_time="2025-03-06T18:00:00+08:00", sub_state=None),
        variant(e, event_time="2025-03-06T19:00:00+08:00", sub_state=None, outlet_id=None),
        variant(e, event_time="2025-03-06T19:00:00+08:00", sub_state=None),
    ]
    return [e, *bad, *copies, *(variant(e, event_time=f"2025-03-06T20:{i:02d}:00+08:00") for i in range(5))]


HOSTILE = {"waybills": _hostile_waybills, "events": _hostile_events}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kind", PARSERS)
def test_hostile_records_parse_alike(kind: str, path: str) -> None:
    records = HOSTILE[kind]()
    old = assert_alike(kind, records, f"{kind}:SF:2025-03-04", path)
    assert old.rows_loaded and old.duplicates
    assert {"malformed_record", "conflicting_duplicate", "bad_timestamp", "unknown_area_code"} <= set(
        old.reason_counts())
    assert_alike(kind, records[::-1], "reversed", path)  # other first copies, other first faults
    assert_alike(kind, [], "empty", path)
    assert_alike(kind, records[:1] * 3, "one record thrice", path)


def test_only_records_served_twice_are_dropped(inbox: Path) -> None:
    """The cheap key only decides which records are serialised, never which are dropped."""

    def by_serialising(items: list[Any]) -> tuple[list[Any], int]:
        seen, unique = set(), []
        for item in items:
            text = json.dumps(item, sort_keys=True, ensure_ascii=False)
            if text not in seen:
                seen.add(text)
                unique.append(item)
        return unique, len(items) - len(unique)

    hostile = _hostile_waybills() + _hostile_events()
    reordered = [json.loads(json.dumps(r, sort_keys=True)) if isinstance(r, dict) else r for r in hostile]
    cases = [hostile + reordered + hostile[::3], [1, 1.0, True, "1", None, None, [1], [1], {}, {}], []]
    cases += [records for file in sorted(inbox.rglob("courier/*.jsonl")) for records in served(file).values()]
    dropped = 0
    for items in cases:
        unique, count = _unique(items)
        expected, expected_count = by_serialising(items)
        assert count == expected_count
        assert [id(item) for item in unique] == [id(item) for item in expected]
        dropped += count
    assert dropped > 50
