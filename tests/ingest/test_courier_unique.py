"""Records the exchange serves twice are dropped exactly as serialising every record would."""
from __future__ import annotations

import json
from typing import Any

from zhongwei.ingest.courier import _unique


def by_serialising(items: list[Any]) -> tuple[list[Any], int]:
    seen, unique = set(), []
    for item in items:
        text = json.dumps(item, sort_keys=True, ensure_ascii=False)
        if text not in seen:
            seen.add(text)
            unique.append(item)
    return unique, len(items) - len(unique)


def test_only_records_served_twice_are_dropped() -> None:
    waybill = {"company": "SF", "waybill_no": "SF1234567890123", "received_at": "2025-03-04T10:00:00+08:00",
               "fee_cny": "12.00", "sender": {"name": "王芳"}}
    event = {"company": "SF", "waybill_no": "SF1234567890123", "event_time": "2025-03-04T11:00:00+08:00",
             "state": 2, "received_at": "2025-03-04T12:00:00+08:00"}
    corrected = {**waybill, "fee_cny": "13.00"}  # same cheap key, another record
    reordered = json.loads(json.dumps(waybill, sort_keys=True))
    cases = [
        [waybill, event, waybill, corrected, reordered, {**event, "state": 3}, event, corrected],
        [1, 1.0, True, "1", None, None, [1], [1], {}, {}, {"waybill_no": 5}, {"waybill_no": 5.0}],
        [{**waybill, "waybill_no": n % 7} for n in range(50)],
        [],
    ]
    for items in cases:
        unique, count = _unique(items)
        expected, expected_count = by_serialising(items)
        assert count == expected_count
        assert [id(item) for item in unique] == [id(item) for item in expected]
