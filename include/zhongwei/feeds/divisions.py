"""Zhongwei's administrative divisions (12-digit NBS codes), from the dbt seed.

Parsers check area codes against it: a code that claims to be in Zhongwei
(starts with 6405) must exist, and a county ledger may only name its own county.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from zhongwei.config import SEEDS_DIR
from zhongwei.feeds import reasons
from zhongwei.feeds.common import RowError
from zhongwei.feeds.contract import ZHONGWEI_PREFIX

DIVISIONS_SEED = SEEDS_DIR / "zhongwei_divisions.csv"
CODE_LENGTH = 12


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str
    county_code: str


class Divisions:
    """Lookup of divisions by 12-digit code."""

    def __init__(self, divisions: list[Division]) -> None:
        self._by_code = {d.code: d for d in divisions}

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Division | None:
        return self._by_code.get(code)

    def check(self, code: str, name: str, *, lengths: tuple[int, ...] = (CODE_LENGTH,)) -> str:
        """`code` if it is well formed and, when it is in Zhongwei, known.

        A 6-digit code (a county, in courier destinations) is looked up as its
        12-digit form padded with zeros.
        """
        if not (code.isascii() and code.isdigit() and len(code) in lengths):
            digits = "/".join(map(str, lengths))
            raise RowError(reasons.UNKNOWN_AREA_CODE, f"{name} {code!r} is not a {digits}-digit code")
        if code.startswith(ZHONGWEI_PREFIX) and code.ljust(CODE_LENGTH, "0") not in self._by_code:
            raise RowError(reasons.UNKNOWN_AREA_CODE, f"{name} {code!r} is not a division of Zhongwei")
        return code


def read_divisions(path: Path) -> Divisions:
    with path.open(encoding="utf-8", newline="") as handle:
        return Divisions([
            Division(row["code"], row["name"], row["level"], row["county_code"]) for row in csv.DictReader(handle)
        ])


@lru_cache(maxsize=1)
def default_divisions() -> Divisions:
    """The seed's divisions, read once per process."""
    return read_divisions(DIVISIONS_SEED)
