"""The value rules shared by all parsers: money, counts, times, codes, mappings."""
from __future__ import annotations

import csv
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from feedkit import DEID, OUTLET_ROW, variant, write_outlets
from zhongwei.reference import COMPANY_NAMES
from zhongwei.feeds import credit_code_valid, default_divisions, parse_outlet_ledger, reasons
from zhongwei.feeds.categories import CATEGORY_MAP_CSV, category_map
from zhongwei.feeds.common import RowError, norm_code, norm_text, to_count, to_date, to_fen, to_instant, to_year
from zhongwei.feeds.contract import COMPANY_WAYBILL_PATTERNS, EXPRESS_ALIASES


def _reason(call) -> str:
    with pytest.raises(RowError) as caught:
        call()
    return caught.value.reason


def test_money_is_exact_fen() -> None:
    assert to_fen("118.00", "x") == 11800 and to_fen("0.1", "x") == 10 and to_fen("１８.５", "x") == 1850
    assert to_fen(69.8, "x") == 6980 and to_fen(39.9, "x") == 3990 and to_fen(12, "x") == 1200
    assert to_fen("", "x", default=0) == 0 and to_fen("-0.00", "x") == 0
    assert _reason(lambda: to_fen("-1.00", "x")) == reasons.BAD_AMOUNT
    assert _reason(lambda: to_fen("1,000.00", "x")) == reasons.BAD_AMOUNT
    assert _reason(lambda: to_fen("1.005", "x")) == reasons.BAD_AMOUNT
    assert _reason(lambda: to_fen(float("nan"), "x")) == reasons.BAD_AMOUNT
    assert _reason(lambda: to_fen(True, "x")) == reasons.BAD_AMOUNT
    assert _reason(lambda: to_fen(18.0, "x", strings_only=True)) == reasons.MALFORMED_RECORD
    assert _reason(lambda: to_fen(None, "x")) == reasons.MALFORMED_RECORD


def test_counts() -> None:
    assert to_count("2", "q", minimum=1) == 2 and to_count(2.0, "q", minimum=1) == 2
    assert to_count(0, "q", minimum=0) == 0
    assert _reason(lambda: to_count(2.5, "q", minimum=1)) == reasons.BAD_AMOUNT
    assert _reason(lambda: to_count("-3", "q", minimum=0)) == reasons.BAD_AMOUNT
    assert _reason(lambda: to_count(2.0, "q", minimum=1, ints_only=True)) == reasons.MALFORMED_RECORD


def test_times_are_utc_and_local_means_shanghai() -> None:
    utc = timezone.utc
    assert to_instant("2025-03-04 09:12:44", "t") == datetime(2025, 3, 4, 1, 12, 44, tzinfo=utc)
    assert to_instant("2025/3/4 9:12", "t") == datetime(2025, 3, 4, 1, 12, tzinfo=utc)
    assert to_instant("2025-03-04T10:21:00+08:00", "t", require_offset=True) == datetime(2025, 3, 4, 2, 21, tzinfo=utc)
    assert to_instant("2025-03-04T02:21:00Z", "t", require_offset=True) == datetime(2025, 3, 4, 2, 21, tzinfo=utc)
    assert to_instant(45720.5, "t", excel=True) == datetime(2025, 3, 4, 4, 0, tzinfo=utc)  # serial, noon local
    assert to_instant("", "t", required=False) is None
    assert _reason(lambda: to_instant("2025-03-04 10:21:00", "t", require_offset=True)) == reasons.BAD_TIMESTAMP
    assert _reason(lambda: to_instant("1899-12-31 00:00:00", "t")) == reasons.BAD_TIMESTAMP
    assert _reason(lambda: to_instant(45720.5, "t")) == reasons.MALFORMED_RECORD  # no serials in text feeds


@pytest.mark.parametrize("text", ["2023-05-01", "2023/5/1", "2023年5月1日", "2023.5.1", "2023-05-01 00:00:00", 45047,
                                  45047.0, date(2023, 5, 1), datetime(2023, 5, 1)])
def test_date_spellings(text: object) -> None:
    assert to_date(text, "d") == date(2023, 5, 1)


def test_years_and_codes() -> None:
    assert to_year(2023.0, "y") == 2023 and to_year("2023年", "y") == 2023 and to_year("", "y") is None
    assert _reason(lambda: to_year("去年", "y")) == reasons.BAD_TIMESTAMP
    assert norm_code(" ｚｗ６４０５２１－００１２ ") == "ZW640521-0012" and norm_code("ZW640521—0012") == "ZW640521-0012"
    assert norm_text(4410928.0) == "4410928"
    assert _reason(lambda: norm_text(6.923481234567890e18)) == reasons.MALFORMED_RECORD


def test_credit_codes_against_the_samples() -> None:
    for code in ("91640521MA76YQ2N1C", "92640521MA77A1B2CB", "91640502MA77BB3K23", "91640502MA77CC4L3U"):
        assert credit_code_valid(code), code
    for code in ("91440300359484960X", "91640521MA76000000", "91640521MA76YQ2N1", "91640521MA76YQ2NIC"):
        assert not credit_code_valid(code), code


def test_category_map_is_the_contract_table() -> None:
    with CATEGORY_MAP_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["category_text", "canonical_category", "is_agri"]
    mapping = category_map()
    assert len(mapping) == len(rows) == 27
    assert mapping["中宁枸杞"].canonical == "goji" and mapping["滩羊肉"].is_agri
    assert mapping["文旅门票"].canonical == "services" and not mapping["文旅门票"].is_agri
    agri = {c.canonical for c in mapping.values() if c.is_agri}
    assert agri == {"goji", "melon", "fruit", "grain", "meat", "specialty"}


def test_courier_tables_match_the_exchange_contract() -> None:
    assert set(COMPANY_WAYBILL_PATTERNS) == set(COMPANY_NAMES)
    assert EXPRESS_ALIASES["中通快递"] == "ZTO" and EXPRESS_ALIASES["邮政快递包裹"] == "YZPY"
    assert EXPRESS_ALIASES["EMS"] == "EMS" and EXPRESS_ALIASES["中国邮政速递物流"] == "EMS"
    samples = {"EMS": ["1123456789012", "EA123456789CN"], "YZPY": ["9123456789012"], "SF": ["SF1234567890123"],
               "ZTO": ["731905531025", "73190553102532"], "YTO": ["YT5555508965056"], "YUNDA": ["4312345678901"],
               "STO": ["7712345678901", "2681234567890123"], "JTSD": ["JT0006968326954"], "JDL": ["JDX000123456789"],
               "DBL": ["DPK123456789012"]}
    for company, numbers in samples.items():
        assert all(COMPANY_WAYBILL_PATTERNS[company].match(n) for n in numbers), company
    assert not COMPANY_WAYBILL_PATTERNS["YUNDA"].match("43123456789012")  # 14 digits


def test_divisions_seed() -> None:
    divisions = default_divisions()
    assert "640521101205" in divisions and divisions.get("640521101205").level == "village"
    assert divisions.check("310115", "d", lengths=(6, 12)) == "310115"  # outside Zhongwei: format only
    assert _reason(lambda: divisions.check("640523", "d", lengths=(6, 12))) == reasons.UNKNOWN_AREA_CODE


def test_ledger_full_width_and_spaces_are_normalised(tmp_path: Path) -> None:
    row = variant(OUTLET_ROW, **{
        "网点编码": "ＺＷ６４０５２１－００１６", "行政区划代码": "６４０５２１１０１２０５ ", "经度": " 105.6612",
        "是否代收代寄": " 是 ", "状态": "运营 ", "合作快递品牌": "中通 / 韵达，申通", "开业日期": "２０２３年５月１日",
    })
    batch = parse_outlet_ledger(write_outlets(tmp_path / "网点台账_202503.xlsx", [row]), "640521", deid=DEID)
    assert batch.rejected == []
    outlet = batch.tables["outlets"].to_pylist()[0]
    assert outlet["outlet_code"] == "ZW640521-0016" and outlet["area_code"] == "640521101205"
    assert outlet["takes_parcels"] is True and outlet["brands"] == ["中通", "韵达", "申通"]
    assert outlet["opened_on"] == date(2023, 5, 1) and outlet["lng"] == 105.6612
