"""`zhongwei.ingest.courier._unique`: a record the exchange serves twice is dropped, and only such a record.

It serialises a record only when a cheap key collides; this holds it to serialising every record.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zhongwei.ingest.courier import _unique

from expectations import EXPECTED, served, unpack


def _by_serialising(items: list[Any]) -> tuple[list[Any], int]:
    seen, unique = set(), []
    for item in items:
        text = json.dumps(item, sort_keys=True, ensure_ascii=False)
        if text not in seen:
            seen.add(text)
            unique.append(item)
    return unique, len(items) - len(unique)


def test_only_records_served_twice_are_dropped(tmp_path: Path) -> None:
    hostile = [json.loads(line) for kind in ("waybills", "events")
               for line in (EXPECTED / "hostile" / f"{kind}.jsonl").read_text(encoding="utf-8").splitlines()]
    reordered = [json.loads(json.dumps(r, sort_keys=True)) if isinstance(r, dict) else r for r in hostile]
    cases = [hostile + reordered + hostile[::3], [1, 1.0, True, "1", None, None, [1], [1], {}, {}], []]
    month = unpack(tmp_path) / "generated" / "courier"
    cases += [records for file in sorted(month.glob("*.jsonl")) for records in served(file).values()]
    dropped = 0
    for items in cases:
        unique, count = _unique(items)
        expected, expected_count = _by_serialising(items)
        assert count == expected_count
        assert [id(item) for item in unique] == [id(item) for item in expected]
        dropped += count
    assert dropped > 50
