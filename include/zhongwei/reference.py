"""The reference lists every part of the platform shares, each defined once.

Lists that are data (the divisions, the courier companies) are dbt seeds, so
the warehouse joins them and Python reads the same files here; the enumerations
a partner contract fixes stay in `feeds.contract`. DAGs, the gate, the bulletin,
the GX suites (through `suite_parameters`) and the dbt models take them from
these two places; tests/test_reference_lists.py ties the copies that a format
forces (dbt's accepted_values, a dbt var) back to them.
"""
from __future__ import annotations

import csv
from zhongwei.config import SEEDS_DIR


def _seed(name: str) -> list[dict[str, str]]:
    with open(SEEDS_DIR / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


_divisions = _seed("zhongwei_divisions")
CITY_CODE: str = next(d["county_code"] for d in _divisions if d["level"] == "city")
# 6-digit county code -> name, in the seed's order (沙坡头区, 中宁县, 海原县)
COUNTIES: dict[str, str] = {d["county_code"]: d["name"] for d in _divisions if d["level"] == "county"}
COUNTY_CODES: tuple[str, ...] = tuple(COUNTIES)
# every region a monthly indicator is published for: the city, then its counties
REGION_CODES: tuple[str, ...] = (CITY_CODE, *COUNTY_CODES)

# The platforms and the format of their daily export, orders_YYYYMMDD.<ext> (ecommerce.md)
EXPORT_FILE_EXT: dict[str, str] = {"TAOBAO": "csv", "PDD": "csv", "DOUYIN": "xlsx", "ZWYP": "jsonl"}
PLATFORMS: tuple[str, ...] = tuple(EXPORT_FILE_EXT)

_companies = _seed("courier_companies")
# courier code -> the name the exchange contract gives it
COMPANY_NAMES: dict[str, str] = {c["company"]: c["company_name"] for c in _companies}
WAYBILL_PATTERNS: dict[str, str] = {c["company"]: c["waybill_pattern"] for c in _companies}
