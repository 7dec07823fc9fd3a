"""The platform category texts -> canonical category and the 农产品 flag.

`dbt_project/seeds/category_map.csv` is the single source: the parsers warn
about texts it does not know, and dbt loads it as a seed. A text it does not know is reported and counted as not 农产品,
never guessed (ecommerce.md).
"""
from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from zhongwei.config import SEEDS_DIR
from zhongwei.feeds import reasons

CATEGORY_MAP_CSV = SEEDS_DIR / "category_map.csv"
_TRUE = {"true": True, "false": False}


@dataclass(frozen=True)
class Category:
    canonical: str
    is_agri: bool


@lru_cache(maxsize=1)
def category_map() -> dict[str, Category]:
    """Category text (NFKC, stripped) -> its Category."""
    with CATEGORY_MAP_CSV.open(encoding="utf-8", newline="") as handle:
        return {
            unicodedata.normalize("NFKC", row["category_text"]).strip(): Category(
                row["canonical_category"], _TRUE[row["is_agri"]]
            )
            for row in csv.DictReader(handle)
        }


def category_notes(text: str | None) -> list[tuple[str, str]]:
    """The warning a line's category text deserves: none when the mapping knows it."""
    if text and text in category_map():
        return []
    return [(reasons.UNKNOWN_CATEGORY, f"category {text or '(empty)'!r} is not in the category mapping")]
