"""Defects on purpose: what real partner files get wrong, and the log of them.

Every defective record is written to `truth/defects.jsonl` with where it is
(file and line or sheet row, or the courier record's identity) and its kind,
so tests can check that the pipeline put each one in the quarantine.

Two kinds repeat a record in its file, the copy right after the original: a
verbatim repeat (`repeated_record`, loaded once and counted as a duplicate, one
entry at the copy) and a copy that says something else about the same key
(`conflicting_duplicate`, both copies rejected, one entry at each). Conflicts
fail their batch, so they go only into the range's broken month
(`Run.broken_month`), with the lost files.
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
# A second copy of a record with the same key and one field changed to another
# valid value: both copies are quarantined. Only in the broken month.
CONFLICT = "conflicting_duplicate"
# File-level kinds: the whole file cannot be taken in.
TRUNCATED_FILE = "truncated_file"
WRONG_ENCODING = "wrong_encoding"
SCHEMA_MISMATCH = "schema_mismatch"
# Not a rejection: the contract says an unknown category text is reported,
# counted as not 农产品, and the record kept.
UNKNOWN_CATEGORY = "unknown_category"
# Not a rejection either: the record written twice, byte for byte (cell for
# cell); it loads once, the copy counted as a duplicate.
REPEATED = "repeated_record"
# Kinds whose record stays in the truth.
KEPT = frozenset({UNKNOWN_CATEGORY, REPEATED})

# Each feed's record-level kinds in any month; `month_kinds` adds CONFLICT in the broken month.
WAYBILL_KINDS = [MALFORMED, BAD_WAYBILL_NO, UNKNOWN_COMPANY, UNKNOWN_AREA, BAD_TIMESTAMP, BAD_AMOUNT, REPEATED]
EVENT_KINDS = [MALFORMED, BAD_WAYBILL_NO, BAD_TIMESTAMP, REPEATED]
ORDER_KINDS = [MALFORMED, BAD_TIMESTAMP, BAD_AMOUNT, UNKNOWN_CATEGORY, REPEATED]
OUTLET_KINDS = [UNKNOWN_AREA, BAD_COORDINATES, BAD_TIMESTAMP, REPEATED]
ENTERPRISE_KINDS = [BAD_CREDIT_CODE, REPEATED]
CLASS_KINDS = [REPEATED]  # registry sheet 培训班次
INFLUENCER_KINDS = [REPEATED]  # registry sheet 达人孵化
FILE_KINDS = {TRUNCATED_FILE: "DOUYIN", WRONG_ENCODING: "TAOBAO", SCHEMA_MISMATCH: "PDD"}


def month_kinds(kinds: list[str], broken: bool) -> list[str]:
    """A feed's kinds in a month: CONFLICT, last, only in the broken month (so the
    other kinds keep their indices in every month)."""
    return [*kinds, CONFLICT] if broken else list(kinds)


def pick_defects(rng: np.random.Generator, n: int, rate: float, kinds: list[str],
                 conflicts: np.random.Generator | None = None, eligible: np.ndarray | None = None) -> np.ndarray:
    """An array of kind indices (-1 = clean) for n records: about a share `rate`
    of them, the kinds taking turns from a random start so each appears.

    When `kinds` ends with CONFLICT (the broken month's list), the other kinds are
    picked from `rng` exactly as in any other month, and about n * rate / len(kinds)
    conflicts from the separate stream `conflicts`, among the records left clean
    (and `eligible`, when given): a month's other defects do not depend on
    whether it is the broken month of the range asked for.
    """
    out = np.full(n, -1, dtype=np.int8)
    if rate <= 0 or n == 0:
        return out
    base = kinds[:-1] if kinds[-1] == CONFLICT else kinds
    k = min(n, int(rng.binomial(n, rate)))
    chosen = rng.choice(n, size=k, replace=False)
    out[chosen] = (np.arange(k) + rng.integers(len(base))) % len(base)
    if len(base) < len(kinds):
        free = out < 0 if eligible is None else (out < 0) & np.asarray(eligible, dtype=bool)
        candidates = np.flatnonzero(free)
        c = min(len(candidates), int(conflicts.binomial(n, rate / len(kinds))))
        out[conflicts.choice(candidates, size=c, replace=False)] = len(base)
    return out


def kept(picked: np.ndarray, kinds: list[str]) -> np.ndarray:
    """Which records stay in the truth: the clean ones and those of a KEPT kind."""
    return (picked < 0) | np.isin(picked, [i for i, k in enumerate(kinds) if k in KEPT])


def with_copies(records: list, copies: dict[int, object]) -> tuple[list, np.ndarray]:
    """`records` with copies[i] right after records[i]; and where each original
    record now is (0-based): every copy shifts the records after it by one."""
    n = len(records)
    if not copies:
        return records, np.arange(n)
    at = np.array(sorted(copies), dtype=np.int64)
    out, start = [], 0
    for i in at.tolist():
        out.extend(records[start:i + 1])
        out.append(copies[i])
        start = i + 1
    out.extend(records[start:])
    return out, np.arange(n) + np.searchsorted(at, np.arange(n))


def logged_at(kind: str, at: int) -> list[int]:
    """Where the entries of a record at `at` are logged, its copy (if any) at `at + 1`:
    a repeat at the copy only, a conflict at both, any other kind at the record."""
    if kind == REPEATED:
        return [at + 1]
    if kind == CONFLICT:
        return [at, at + 1]
    return [at]


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
