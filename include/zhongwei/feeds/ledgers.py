"""The bureaus' monthly Excel ledgers: county outlet ledgers (outlets.md) and the
city's programme registry (registry.md).

Both are full snapshots typed by people, so every cell is NFKC-normalised and
stripped, dates come in four spellings, and blank rows and a totals row are
ignored rather than quarantined. A key occurs once per snapshot: a row repeated
with the same values (序号 aside) loads once and counts as a duplicate; rows that
say different things about one outlet or enterprise are all rejected
(`conflicting_duplicate`): a snapshot cannot hold both.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from zhongwei.feeds import reasons
from zhongwei.feeds.common import (
    Candidate, Collector, ParsedBatch, RowError, build_table, enum_value, file_stamp, label_text, norm_code, norm_text,
    optional_text, read_file_guarded, required_text, to_count, to_date, to_float, to_year, yes_no,
)
from zhongwei.feeds.contract import (
    BRAND_SEPARATORS, COUNTY_NAMES, CREDIT_CODE_CHARSET, CREDIT_CODE_LENGTH, ENTERPRISE_COLUMNS,
    ENTERPRISE_SHEET, ENTERPRISE_TYPES, HEADER_SEARCH_ROWS, INFLUENCER_COLUMNS, INFLUENCER_SHEET,
    INFLUENCER_STATUSES, LAT_RANGE, LNG_RANGE, OUTLET_CODE, OUTLET_COLUMNS, OUTLET_FILE_NAME, OUTLET_PII_COLUMNS,
    OUTLET_SHEET, OUTLET_STATUSES, OUTLET_TOTALS_MARK, OUTLET_TYPES, REGISTRY_FILE_NAME,
    SHOP_SEPARATOR, TRAINING_CATEGORIES, TRAINING_COLUMNS, TRAINING_SHEET,
)
from zhongwei.feeds.divisions import Divisions, default_divisions
from zhongwei.feeds.pii import Deidentifier, redact
from zhongwei.feeds.readers import Record, open_workbook, sheet_records, sheet_rows
from zhongwei.reference import COUNTY_CODES, PLATFORMS

OUTLET_SCHEMA = pa.schema([
    ("ledger_month", pa.string()), ("county_code", pa.string()), ("outlet_code", pa.string()),
    ("outlet_name", pa.string()), ("outlet_type", pa.string()), ("township_name", pa.string()),
    ("village_name", pa.string()), ("area_code", pa.string()), ("lng", pa.float64()), ("lat", pa.float64()),
    ("operator_name", pa.string()), ("operator_credit_code", pa.string()),
    ("operator_credit_code_valid", pa.bool_()), ("brands", pa.list_(pa.string())),
    ("takes_parcels", pa.bool_()), ("sells_agri", pa.bool_()), ("opened_on", pa.date32()),
    ("status", pa.string()), ("keeper_name_hash", pa.string()), ("keeper_name_masked", pa.string()),
    ("keeper_phone_hash", pa.string()), ("keeper_phone_masked", pa.string()), ("note", pa.string()),
    ("source_row", pa.int32()),
])
ENTERPRISE_SCHEMA = pa.schema([
    ("ledger_month", pa.string()), ("credit_code", pa.string()), ("name", pa.string()),
    ("county_name", pa.string()), ("county_code", pa.string()), ("enterprise_type", pa.string()),
    ("settled_in_base", pa.bool_()), ("settled_on", pa.date32()), ("is_demo", pa.bool_()),
    ("demo_year", pa.int16()), ("source_row", pa.int32()),
])
SHOP_SCHEMA = pa.schema([
    ("ledger_month", pa.string()), ("credit_code", pa.string()), ("platform", pa.string()), ("shop_id", pa.string()),
])
TRAINING_SCHEMA = pa.schema([
    ("ledger_month", pa.string()), ("class_code", pa.string()), ("title", pa.string()), ("category", pa.string()),
    ("start_on", pa.date32()), ("end_on", pa.date32()), ("trainees", pa.int32()), ("organiser", pa.string()),
    ("source_row", pa.int32()),
])
INFLUENCER_SCHEMA = pa.schema([
    ("ledger_month", pa.string()), ("host_id", pa.string()), ("platform", pa.string()), ("nickname", pa.string()),
    ("org_credit_code", pa.string()), ("started_on", pa.date32()), ("status", pa.string()),
    ("source_row", pa.int32()),
])
OUTLET_SCHEMAS = {"outlets": OUTLET_SCHEMA}
REGISTRY_SCHEMAS = {
    "enterprises": ENTERPRISE_SCHEMA, "enterprise_shops": SHOP_SCHEMA,
    "training_classes": TRAINING_SCHEMA, "influencers": INFLUENCER_SCHEMA,
}
TOTALS = "totals"
_CREDIT_WEIGHTS = [pow(3, i, 31) for i in range(CREDIT_CODE_LENGTH - 1)]
_CREDIT_VALUES = {char: value for value, char in enumerate(CREDIT_CODE_CHARSET)}
_REPORT_UNIT = re.compile(r"填报单位\s*:\s*(\S+)")
_REPORT_DATE = re.compile(r"填报日期\s*:\s*(\S+)")

Notes = list[tuple[str, str]]


def credit_code_valid(code: str) -> bool:
    """Whether an 18-character code carries the right GB 32100-2015 check character."""
    if len(code) != CREDIT_CODE_LENGTH or any(c not in _CREDIT_VALUES for c in code):
        return False
    total = sum(_CREDIT_VALUES[c] * w for c, w in zip(code, _CREDIT_WEIGHTS))
    return code[-1] == CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def _ledger_month(path: Path, pattern: re.Pattern[str]) -> str:
    return file_stamp(path, pattern, "%Y%m").strftime("%Y-%m")


def _row_content(row: dict[str, Any]) -> tuple[object, ...]:
    """A ledger row as parsed, its position (`source_row`) aside."""
    return tuple(v for k, v in row.items() if k != "source_row")


def _unique_rows(
    records: Iterable[Record], col: Collector, convert: Callable[[Record, Notes], dict[str, Any]],
    key: tuple[str, ...], key_label: str,
) -> list[Candidate]:
    """Convert rows, rejecting failures; each key once (`Collector.unique`), not yet accepted."""
    candidates = []
    for record in records:
        notes: Notes = []
        try:
            row = convert(record, notes)
        except RowError as error:
            col.reject(record.location, error, record.raw())
            continue
        candidates.append(Candidate(record.location, tuple(row[k] for k in key), row, record.raw, notes))
    return col.unique(candidates, key_label, _row_content)[0]


def _shops_listed_once(enterprises: list[Candidate], col: Collector) -> list[Candidate]:
    """A shop belongs to one enterprise in a snapshot: enterprises listing the same shop conflict."""
    listed_by: dict[tuple[str, str], list[Candidate]] = {}
    for e in enterprises:
        for shop in e.value["shops"]:
            listed_by.setdefault(shop, []).append(e)
    conflicting: dict[int, str] = {}
    for (platform, shop_id), group in listed_by.items():
        if len(group) > 1:
            detail = (f"店铺 {platform}:{shop_id} is listed by {len(group)} enterprises "
                      f"({', '.join(e.location for e in group)})")
            for e in group:
                conflicting.setdefault(id(e), detail)
    for e in enterprises:
        if id(e) in conflicting:
            col.reject(e.location, RowError(reasons.CONFLICTING_DUPLICATE, conflicting[id(e)]), e.raw())
    return [e for e in enterprises if id(e) not in conflicting]


# ---------------------------------------------------------------- outlet ledger


def _is_totals(values: Sequence[object]) -> str | None:
    return TOTALS if values and label_text(values[0]).replace(" ", "") == OUTLET_TOTALS_MARK else None


def _header_row(rows: list[list[object]]) -> int:
    """Index of the row holding 网点编码 (row 3 by contract; searched in case rows were inserted)."""
    for index, values in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if "网点编码" in {label_text(v) for v in values}:
            return index
    return 2


def _preamble(rows: list[list[object]]) -> dict[str, Any]:
    """Title, 填报单位 and 填报日期 from the rows above the header."""
    texts = [text for values in rows for text in map(label_text, values) if text]
    joined = " ".join(texts)
    unit, day = _REPORT_UNIT.search(joined), _REPORT_DATE.search(joined)
    try:
        reported_on = to_date(day.group(1), "填报日期") if day else None
    except RowError:
        reported_on = None
    return {"title": texts[0] if texts else None, "reporting_unit": unit.group(1) if unit else None,
            "reported_on": reported_on}


@dataclass(frozen=True)
class _OutletLedger:
    month: str
    county_code: str
    divisions: Divisions
    deid: Deidentifier

    def outlet(self, record: Record, notes: Notes) -> dict[str, Any]:
        cell = record.data
        code = norm_code(required_text(cell["网点编码"], "网点编码"))
        if not re.fullmatch(OUTLET_CODE.format(county=self.county_code), code):
            raise RowError(reasons.MALFORMED_RECORD, f"网点编码 {code!r} is not ZW{self.county_code}-<4 digits>")
        area = self.divisions.check(norm_code(required_text(cell["行政区划代码"], "行政区划代码")), "行政区划代码")
        division = self.divisions.get(area)
        if division is None or division.county_code != self.county_code:
            raise RowError(reasons.UNKNOWN_AREA_CODE, f"行政区划代码 {area!r} is not a division of county {self.county_code}")
        lng, lat = to_float(cell["经度"], "经度"), to_float(cell["纬度"], "纬度")
        if (lng is not None and not LNG_RANGE[0] <= lng <= LNG_RANGE[1]) or (
                lat is not None and not LAT_RANGE[0] <= lat <= LAT_RANGE[1]):
            raise RowError(reasons.COORDINATES_OUT_OF_AREA, f"({lng}, {lat}) is outside Zhongwei")
        credit = norm_code(cell["统一社会信用代码"]) or None
        valid = credit_code_valid(credit) if credit else None
        if valid is False:
            detail = f"operator credit code {credit!r} fails the GB 32100 check"
            notes.append((reasons.BAD_OPERATOR_CREDIT_CODE, detail))
        keeper_hash, keeper_masked = self.deid.name(cell["负责人"])
        phone_hash, phone_masked = self.deid.phone(cell["联系电话"])
        return {
            "ledger_month": self.month, "county_code": self.county_code, "outlet_code": code,
            "outlet_name": required_text(cell["网点名称"], "网点名称"),
            "outlet_type": enum_value(cell["网点类型"], "网点类型", OUTLET_TYPES),
            "township_name": optional_text(cell["所属乡镇"]), "village_name": optional_text(cell["所属村(社区)"]),
            "area_code": area, "lng": lng, "lat": lat,
            "operator_name": optional_text(cell["运营主体"]), "operator_credit_code": credit,
            "operator_credit_code_valid": valid,
            "brands": [b.strip() for b in BRAND_SEPARATORS.split(norm_text(cell["合作快递品牌"])) if b.strip()],
            "takes_parcels": yes_no(cell["是否代收代寄"], "是否代收代寄"),
            "sells_agri": yes_no(cell["是否销售兴农产品"], "是否销售兴农产品"),
            "opened_on": to_date(cell["开业日期"], "开业日期", required=False),
            "status": enum_value(cell["状态"], "状态", OUTLET_STATUSES),
            "keeper_name_hash": keeper_hash, "keeper_name_masked": keeper_masked,
            "keeper_phone_hash": phone_hash, "keeper_phone_masked": phone_masked,
            "note": redact(optional_text(cell["备注"])), "source_row": record.number,
        }


def parse_outlet_ledger(
    path: Path | str, county_code: str, *, deid: Deidentifier | None = None, divisions: Divisions | None = None,
) -> ParsedBatch:
    """A county's `网点台账_YYYYMM.xlsx` -> table `outlets` (the snapshot at that month's end).

    Batch metadata: ledger_month, county_code, source_file, title, reporting_unit,
    reported_on (填报日期), ignored_rows ({'blank': n, 'totals': n}).
    """
    if county_code not in COUNTY_CODES:
        raise ValueError(f"unknown county {county_code!r}; expected one of {list(COUNTY_CODES)}")
    path = Path(path)
    metadata = {"county_code": county_code, "source_file": path.name}

    def parse() -> ParsedBatch:
        ledger = _OutletLedger(
            month=_ledger_month(path, OUTLET_FILE_NAME), county_code=county_code,
            divisions=default_divisions() if divisions is None else divisions,
            deid=deid or Deidentifier.from_settings(),
        )
        rows = sheet_rows(open_workbook(path), OUTLET_SHEET)
        header_row = _header_row(rows)
        col = Collector()
        records = sheet_records(path, OUTLET_SHEET, rows, header_row, columns=OUTLET_COLUMNS,
                                pii_columns=OUTLET_PII_COLUMNS, col=col, classify=_is_totals)
        outlets = col.accept_all(_unique_rows(records, col, ledger.outlet, ("outlet_code",), "网点编码"))
        return col.finish({"outlets": build_table(outlets, OUTLET_SCHEMA)},
                          **metadata, ledger_month=ledger.month, **_preamble(rows[:header_row]))

    return read_file_guarded(path, OUTLET_SCHEMAS, parse, **metadata)


# ---------------------------------------------------------------- registry


def _shops(text: str) -> list[tuple[str, str]]:
    """`TAOBAO:58231907;DOUYIN:4410928` -> [(platform, shop_id)], repeats dropped."""
    shops: list[tuple[str, str]] = []
    for entry in filter(None, (e.strip() for e in text.split(SHOP_SEPARATOR))):
        platform, colon, shop_id = (part.strip() for part in entry.partition(":"))
        if not colon or platform.upper() not in PLATFORMS or not shop_id:
            expected = "/".join(PLATFORMS)
            raise RowError(reasons.MALFORMED_RECORD, f"店铺 entry {entry!r} is not PLATFORM:shop_id ({expected})")
        if (platform.upper(), shop_id) not in shops:
            shops.append((platform.upper(), shop_id))
    return shops


def _enterprise(month: str) -> Callable[[Record, Notes], dict[str, Any]]:
    def convert(record: Record, notes: Notes) -> dict[str, Any]:
        cell = record.data
        credit = norm_code(required_text(cell["统一社会信用代码"], "统一社会信用代码"))
        if not credit_code_valid(credit):
            raise RowError(reasons.BAD_CREDIT_CODE, f"统一社会信用代码 {credit!r} fails the GB 32100 check")
        county = enum_value(cell["所属县区"], "所属县区", COUNTY_NAMES)
        return {
            "ledger_month": month, "credit_code": credit, "name": required_text(cell["企业名称"], "企业名称"),
            "county_name": county, "county_code": COUNTY_NAMES[county],
            "enterprise_type": enum_value(cell["企业类型"], "企业类型", ENTERPRISE_TYPES),
            "settled_in_base": yes_no(cell["入驻电商谷"], "入驻电商谷"),
            "settled_on": to_date(cell["入驻日期"], "入驻日期", required=False),
            "is_demo": yes_no(cell["示范企业"], "示范企业"), "demo_year": to_year(cell["示范认定年度"], "示范认定年度"),
            "source_row": record.number, "shops": _shops(norm_text(cell["店铺"])),
        }
    return convert


def _training_class(month: str) -> Callable[[Record, Notes], dict[str, Any]]:
    def convert(record: Record, notes: Notes) -> dict[str, Any]:
        cell = record.data
        start_on, end_on = to_date(cell["开班日期"], "开班日期"), to_date(cell["结业日期"], "结业日期")
        assert start_on is not None and end_on is not None  # required
        if end_on < start_on:
            raise RowError(reasons.BAD_TIMESTAMP, f"结业日期 {end_on} is before 开班日期 {start_on}")
        return {
            "ledger_month": month, "class_code": norm_code(required_text(cell["班次编号"], "班次编号")),
            "title": required_text(cell["培训名称"], "培训名称"),
            "category": enum_value(cell["类别"], "类别", TRAINING_CATEGORIES),
            "start_on": start_on, "end_on": end_on,
            "trainees": to_count(cell["培训人数"], "培训人数", minimum=0),
            "organiser": optional_text(cell["承办单位"]), "source_row": record.number,
        }
    return convert


def _influencer(month: str) -> Callable[[Record, Notes], dict[str, Any]]:
    def convert(record: Record, notes: Notes) -> dict[str, Any]:
        cell = record.data
        return {
            "ledger_month": month, "host_id": required_text(cell["达人ID"], "达人ID"),
            "platform": norm_code(required_text(cell["平台"], "平台")), "nickname": optional_text(cell["昵称"]),
            "org_credit_code": norm_code(cell["孵化机构信用代码"]) or None,
            "started_on": to_date(cell["孵化开始日期"], "孵化开始日期"),
            "status": enum_value(cell["状态"], "状态", INFLUENCER_STATUSES), "source_row": record.number,
        }
    return convert


def parse_registry(path: Path | str) -> ParsedBatch:
    """The city's `电商企业及培训台账_YYYYMM.xlsx` -> tables `enterprises`,
    `enterprise_shops`, `training_classes`, `influencers`.

    All three sheets are checked (present, columns complete) before any row is
    read. rows_arrived counts the data rows of all three sheets. The registry
    holds no personal information (nicknames are public personas).
    """
    path = Path(path)
    metadata = {"source_file": path.name}

    def parse() -> ParsedBatch:
        month = _ledger_month(path, REGISTRY_FILE_NAME)
        workbook = open_workbook(path)
        col = Collector()
        records = {
            sheet: sheet_records(path, sheet, sheet_rows(workbook, sheet), 0, columns=columns, pii_columns=(), col=col)
            for sheet, columns in ((ENTERPRISE_SHEET, ENTERPRISE_COLUMNS), (TRAINING_SHEET, TRAINING_COLUMNS),
                                   (INFLUENCER_SHEET, INFLUENCER_COLUMNS))
        }
        enterprises = col.accept_all(_shops_listed_once(_unique_rows(
            records[ENTERPRISE_SHEET], col, _enterprise(month), ("credit_code",), "统一社会信用代码"), col))
        shops = [{"ledger_month": month, "credit_code": e["credit_code"], "platform": platform, "shop_id": shop}
                 for e in enterprises for platform, shop in e["shops"]]
        classes = col.accept_all(
            _unique_rows(records[TRAINING_SHEET], col, _training_class(month), ("class_code",), "班次编号"))
        hosts = col.accept_all(
            _unique_rows(records[INFLUENCER_SHEET], col, _influencer(month), ("platform", "host_id"), "平台/达人ID"))
        return col.finish({
            "enterprises": build_table(enterprises, ENTERPRISE_SCHEMA),
            "enterprise_shops": build_table(shops, SHOP_SCHEMA),
            "training_classes": build_table(classes, TRAINING_SCHEMA),
            "influencers": build_table(hosts, INFLUENCER_SCHEMA),
        }, **metadata, ledger_month=month)

    return read_file_guarded(path, REGISTRY_SCHEMAS, parse, **metadata)

