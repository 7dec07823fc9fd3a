"""Defects on purpose: what real partner files get wrong, and the log of them.

Every defective record is written to `truth/defects.jsonl` with where it is
(file and line or sheet row, or the courier record's identity) and its kind,
so tests can check that the pipeline put each one in the quarantine.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

# Record-level kinds. A record carrying one of these must be quarantined.
MALFORMED = "malformed_record"
BAD_WAYBILL_NO = "bad_waybill_no"
UNKNOWN_COMPANY = "unknown_company"
UNKNOWN_AREA = "unknown_area_code"
BAD_TIMESTAMP = "bad_timestamp"
BAD_AMOUNT = "bad_amount"
BAD_CREDIT_CODE = "bad_credit_code"
BAD_COORDINATES = "coordinates_out_of_area"
# File-level kinds: the whole file cannot be taken in.
TRUNCATED_FILE = "truncated_file"
WRONG_ENCODING = "wrong_encoding"
SCHEMA_MISMATCH = "schema_mismatch"
# Not a rejection: the contract says an unknown category text is reported,
# counted as not 农产品, and the record kept.
UNKNOWN_CATEGORY = "unknown_category"

WAYBILL_KINDS = [MALFORMED, BAD_WAYBILL_NO, UNKNOWN_COMPANY, UNKNOWN_AREA, BAD_TIMESTAMP, BAD_AMOUNT]
EVENT_KINDS = [MALFORMED, BAD_WAYBILL_NO, BAD_TIMESTAMP]
ORDER_KINDS = [MALFORMED, BAD_TIMESTAMP, BAD_AMOUNT, UNKNOWN_CATEGORY]
OUTLET_KINDS = [UNKNOWN_AREA, BAD_COORDINATES, BAD_TIMESTAMP]
ENTERPRISE_KINDS = [BAD_CREDIT_CODE]
FILE_KINDS = {TRUNCATED_FILE: "DOUYIN", WRONG_ENCODING: "TAOBAO", SCHEMA_MISMATCH: "PDD"}


def pick_defects(rng: np.random.Generator, n: int, rate: float, kinds: list[str]) -> np.ndarray:
    """An array of kind indices (-1 = clean) for n records: about a share `rate`
    of them, the kinds taking turns from a random start so each appears."""
    out = np.full(n, -1, dtype=np.int8)
    if rate <= 0 or n == 0:
        return out
    k = min(n, int(rng.binomial(n, rate)))
    chosen = rng.choice(n, size=k, replace=False)
    out[chosen] = (np.arange(k) + rng.integers(len(kinds))) % len(kinds)
    return out


class DefectLog:
    """Appends one JSON line per injected defect and keeps counts."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(path, "w", encoding="utf-8")
        self.counts: Counter[tuple[str, str]] = Counter()

    def add(self, feed: str, kind: str, **where: object) -> None:
        self.counts[(feed, kind)] += 1
        self._f.write(json.dumps({"feed": feed, "kind": kind, **where}, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self._f.close()

    def summary(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for (feed, kind), n in sorted(self.counts.items()):
            out.setdefault(feed, {})[kind] = n
        return out
