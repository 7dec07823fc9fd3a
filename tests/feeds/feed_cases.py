"""Hand-made bad inputs, one or more per reason code.

Each case writes a real partner file (or API records) into a folder, parses it,
and says what must come out: the reason, whether it is a rejected row, a
file-level error or a warning, and where (a location suffix such as 'line 3').
The rejection tests and the personal-information test both run every case.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from feedkit import (
    DEID, DOUYIN_LINE, ENTERPRISE_ROW, EVENT, INFLUENCER_ROW, OUTLET_ROW, PDD_ROW, TAOBAO_ROW, TRAINING_ROW,
    WAYBILL, ZWYP_ORDER, truncate, variant, write_douyin, write_jsonl, write_outlets, write_pdd, write_registry,
    write_taobao, write_xlsx,
)
from zhongwei.feeds import (
    ParsedBatch, parse_douyin, parse_events, parse_outlet_ledger, parse_pdd, parse_registry, parse_taobao,
    parse_waybills, parse_zwyp, reasons,
)
from zhongwei.feeds.contract import DOUYIN_COLUMNS, PDD_COLUMNS

ROW, FILE, WARNING = "rejected", "file_error", "warning"


@dataclass(frozen=True)
class Case:
    id: str
    reason: str
    kind: str  # ROW, FILE or WARNING
    build: Callable[[Path], ParsedBatch]
    at: str = ""  # location suffix of the finding (rows) or file name (files)
    detail: str = ""  # text the detail must contain

    def __str__(self) -> str:
        return self.id


# ---------------------------------------------------------------- courier


def _waybills(*bad: object) -> Callable[[Path], ParsedBatch]:
    return lambda tmp: parse_waybills([WAYBILL, *bad], "SF 2025-03-04", deid=DEID)


def _events(*bad: dict) -> Callable[[Path], ParsedBatch]:
    return lambda tmp: parse_events([EVENT, *bad], "SF 2025-03-06")


COURIER = [
    Case("waybill_unknown_company", reasons.UNKNOWN_COMPANY, ROW, _waybills(variant(WAYBILL, company="KYE")),
         "record 2"),
    Case("waybill_bad_no", reasons.BAD_WAYBILL_NO, ROW, _waybills(variant(WAYBILL, waybill_no="SF12345")), "record 2"),
    Case("waybill_unknown_origin", reasons.UNKNOWN_AREA_CODE, ROW,
         _waybills(variant(WAYBILL, origin_area_code="640521999999")), "record 2", "640521999999"),
    Case("waybill_short_origin", reasons.UNKNOWN_AREA_CODE, ROW,
         _waybills(variant(WAYBILL, origin_area_code="6405211")), "record 2"),
    Case("waybill_no_offset", reasons.BAD_TIMESTAMP, ROW,
         _waybills(variant(WAYBILL, accepted_at="2025-03-04T10:21:00")), "record 2", "offset"),
    Case("waybill_negative_fee", reasons.BAD_AMOUNT, ROW, _waybills(variant(WAYBILL, fee_cny="-1.00")), "record 2"),
    Case("waybill_text_fee", reasons.BAD_AMOUNT, ROW, _waybills(variant(WAYBILL, fee_cny="十八元")), "record 2"),
    Case("waybill_zero_weight", reasons.BAD_AMOUNT, ROW, _waybills(variant(WAYBILL, weight_g=0)), "record 2"),
    Case("waybill_weight_as_text", reasons.MALFORMED_RECORD, ROW, _waybills(variant(WAYBILL, weight_g="2350")),
         "record 2", "weight_g"),
    Case("waybill_fee_as_number", reasons.MALFORMED_RECORD, ROW, _waybills(variant(WAYBILL, fee_cny=18.0)), "record 2"),
    Case("waybill_missing_sender", reasons.MALFORMED_RECORD, ROW,
         _waybills({k: v for k, v in WAYBILL.items() if k != "sender"}), "record 2", "sender"),
    Case("waybill_bad_service", reasons.MALFORMED_RECORD, ROW, _waybills(variant(WAYBILL, service="overnight")),
         "record 2"),
    Case("waybill_not_an_object", reasons.MALFORMED_RECORD, ROW, _waybills(["SF1234567890123"]), "record 2"),
    Case("event_impossible_time", reasons.BAD_TIMESTAMP, ROW,
         _events(variant(EVENT, event_time="2025-02-30T10:00:00+08:00")), "record 2"),
    Case("event_unknown_state", reasons.MALFORMED_RECORD, ROW, _events(variant(EVENT, state=9)), "record 2"),
    Case("event_unknown_company", reasons.UNKNOWN_COMPANY, ROW, _events(variant(EVENT, company="SFX")), "record 2"),
    Case("event_missing_company", reasons.MALFORMED_RECORD, ROW, _events(variant(EVENT, company=None)), "record 2"),
    Case("waybill_conflicting_copy", reasons.CONFLICTING_DUPLICATE, ROW, _waybills(variant(WAYBILL, weight_g=1), variant(WAYBILL, waybill_no="SF1234567890999")),
         "record 2", "record 1"),
    Case("event_conflicting_copy", reasons.CONFLICTING_DUPLICATE, ROW, _events(variant(EVENT, outlet_id="ZW640521-0001"), variant(EVENT, state=5, sub_state=None)),
         "record 2", "record 1"),
]


# ---------------------------------------------------------------- TAOBAO


def _taobao(*rows, encoding: str = "gb18030", name: str = "orders_20250304.csv") -> Callable[[Path], ParsedBatch]:
    def build(tmp: Path) -> ParsedBatch:
        path = write_taobao(tmp / name, [TAOBAO_ROW, *rows], encoding=encoding)
        return parse_taobao(path, deid=DEID)
    return build


def _taobao_cut(tmp: Path) -> ParsedBatch:
    path = write_taobao(tmp / "orders_20250304.csv", [TAOBAO_ROW, variant(TAOBAO_ROW, 订单编号="3871204598312345999")])
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"\r\n", 0, len(data) - 2) + 2 + 60])  # cut 60 bytes into the last record
    return parse_taobao(path, deid=DEID)


def _empty(name: str, parse: Callable[..., ParsedBatch]) -> Callable[[Path], ParsedBatch]:
    def build(tmp: Path) -> ParsedBatch:
        path = tmp / name
        path.write_bytes(b"")
        return parse(path, deid=DEID)
    return build


_SHORT_ROW = list(TAOBAO_ROW.values())[:10]
TAOBAO = [
    Case("taobao_wrong_column_count", reasons.MALFORMED_RECORD, ROW, _taobao(_SHORT_ROW), "line 3", "fields"),
    Case("taobao_missing_created_at", reasons.MALFORMED_RECORD, ROW, _taobao(variant(TAOBAO_ROW, 订单创建时间="")),
         "line 3", "订单创建时间"),
    Case("taobao_excel_mangled_order_no", reasons.MALFORMED_RECORD, ROW,
         _taobao(variant(TAOBAO_ROW, 订单编号="3.87120459831235E+18")), "line 3"),
    Case("taobao_unknown_status", reasons.MALFORMED_RECORD, ROW, _taobao(variant(TAOBAO_ROW, 订单状态="已发货")), "line 3"),
    Case("taobao_negative_amount", reasons.BAD_AMOUNT, ROW, _taobao(variant(TAOBAO_ROW, 买家实际支付金额="-5.00")), "line 3"),
    Case("taobao_sub_fen_amount", reasons.BAD_AMOUNT, ROW, _taobao(variant(TAOBAO_ROW, 买家应付货款="118.005")), "line 3"),
    Case("taobao_impossible_date", reasons.BAD_TIMESTAMP, ROW,
         _taobao(variant(TAOBAO_ROW, 订单付款时间="2025-02-30 10:00:00")), "line 3", "订单付款时间"),
    Case("taobao_unknown_category", reasons.UNKNOWN_CATEGORY, WARNING,
         _taobao(variant(TAOBAO_ROW, 订单编号="3871204598312345999", 商品类目="宠物用品")), "line 3", "宠物用品"),
    Case("taobao_conflicting_order", reasons.CONFLICTING_DUPLICATE, ROW,
         _taobao(variant(TAOBAO_ROW, 买家实际支付金额="1.00"), variant(TAOBAO_ROW, 订单编号="3871204598312345999")),
         "line 3", "line 2, "),
    Case("taobao_cut_last_record", reasons.MALFORMED_RECORD, ROW, _taobao_cut, "line 3"),
    Case("taobao_utf8", reasons.WRONG_ENCODING, FILE, _taobao(encoding="utf-8"), "orders_20250304.csv", "utf-8"),
    Case("taobao_utf8_bom", reasons.WRONG_ENCODING, FILE, _taobao(encoding="utf-8-sig"), "orders_20250304.csv"),
    Case("taobao_empty_file", reasons.TRUNCATED_FILE, FILE, _empty("orders_20250304.csv", parse_taobao)),
    Case("taobao_bad_file_name", reasons.UNREADABLE_FILE, FILE, _taobao(name="orders_2025-03-04.csv")),
]


# ---------------------------------------------------------------- PDD


def _pdd(*rows, header=PDD_COLUMNS, encoding: str = "utf-8-sig") -> Callable[[Path], ParsedBatch]:
    def build(tmp: Path) -> ParsedBatch:
        renamed = [dict(zip(header, r.values())) for r in (PDD_ROW, *rows)]
        path = write_pdd(tmp / "orders_20250304.csv", renamed, header=header, encoding=encoding)
        return parse_pdd(path, deid=DEID)
    return build


_RENAMED = [("实付金额(元)" if c == "用户实付金额(元)" else c) for c in PDD_COLUMNS]
PDD = [
    Case("pdd_renamed_column", reasons.SCHEMA_MISMATCH, FILE, _pdd(header=_RENAMED), "orders_20250304.csv",
         "用户实付金额(元)"),
    Case("pdd_gb18030", reasons.WRONG_ENCODING, FILE, _pdd(encoding="gb18030"), "orders_20250304.csv", "gb18030"),
    Case("pdd_text_refund", reasons.BAD_AMOUNT, ROW, _pdd(variant(PDD_ROW, **{"退款金额(元)": "abc"})), "line 3"),
    Case("pdd_unknown_after_sales", reasons.MALFORMED_RECORD, ROW, _pdd(variant(PDD_ROW, 售后状态="仅退款")), "line 3"),
    Case("pdd_bad_order_no", reasons.MALFORMED_RECORD, ROW, _pdd(variant(PDD_ROW, 订单号="250304123")), "line 3"),
    Case("pdd_conflicting_order", reasons.CONFLICTING_DUPLICATE, ROW, _pdd(variant(PDD_ROW, 售后状态="退款中"), variant(PDD_ROW, 订单号="250304-999999999999999")), "line 3"),
]


# ---------------------------------------------------------------- DOUYIN

_SECOND_LINE = variant(DOUYIN_LINE, 子订单编号="6923481234567890125", 商品类目="红枣", 订单应付金额=25.9)
_OTHER_ORDER = variant(DOUYIN_LINE, 主订单编号="6923481234567890200", 子订单编号="6923481234567890201")


def _douyin(*lines, header=DOUYIN_COLUMNS) -> Callable[[Path], ParsedBatch]:
    def build(tmp: Path) -> ParsedBatch:
        return parse_douyin(write_douyin(tmp / "orders_20250304.xlsx", list(lines), header=header), deid=DEID)
    return build


def _douyin_damaged(how: str) -> Callable[[Path], ParsedBatch]:
    def build(tmp: Path) -> ParsedBatch:
        path = write_douyin(tmp / "orders_20250304.xlsx", [DOUYIN_LINE])
        if how == "cut":
            truncate(path)
        else:
            path.write_text("主订单编号,子订单编号\n", encoding="utf-8")  # a CSV saved under an xlsx name
        return parse_douyin(path, deid=DEID)
    return build


def _douyin_wrong_sheet(tmp: Path) -> ParsedBatch:
    path = write_xlsx(tmp / "orders_20250304.xlsx", {"Sheet1": [list(DOUYIN_COLUMNS), list(DOUYIN_LINE.values())]})
    return parse_douyin(path, deid=DEID)


DOUYIN = [
    # One bad line spoils its order: the sibling goes too, the other order loads.
    Case("douyin_incomplete_order", reasons.INCOMPLETE_ORDER, ROW,
         _douyin(DOUYIN_LINE, variant(_SECOND_LINE, 订单应付金额=-25.9), _OTHER_ORDER), "row 2", "row 3"),
    Case("douyin_bad_line_of_order", reasons.BAD_AMOUNT, ROW,
         _douyin(DOUYIN_LINE, variant(_SECOND_LINE, 订单应付金额=-25.9), _OTHER_ORDER), "row 3"),
    Case("douyin_empty_order_no", reasons.MALFORMED_RECORD, ROW, _douyin(_OTHER_ORDER, variant(DOUYIN_LINE, 主订单编号="")),
         "row 3", "主订单编号"),
    Case("douyin_order_no_as_float", reasons.MALFORMED_RECORD, ROW,
         _douyin(_OTHER_ORDER, variant(DOUYIN_LINE, 主订单编号=6923481234567890123)), "row 3", "digits"),
    Case("douyin_negative_qty", reasons.BAD_AMOUNT, ROW, _douyin(_OTHER_ORDER, variant(DOUYIN_LINE, 商品数量=-1)), "row 3"),
    Case("douyin_text_price", reasons.BAD_AMOUNT, ROW, _douyin(_OTHER_ORDER, variant(DOUYIN_LINE, 商品单价="三十九")),
         "row 3"),
    Case("douyin_bad_time", reasons.BAD_TIMESTAMP, ROW,
         _douyin(_OTHER_ORDER, variant(DOUYIN_LINE, 订单提交时间="2025-03-04 25:15:01")), "row 3"),
    Case("douyin_missing_column", reasons.SCHEMA_MISMATCH, FILE,
         _douyin(DOUYIN_LINE, header=[c for c in DOUYIN_COLUMNS if c != "运费"]), "orders_20250304.xlsx", "运费"),
    Case("douyin_missing_sheet", reasons.SCHEMA_MISMATCH, FILE, _douyin_wrong_sheet, "orders_20250304.xlsx", "订单明细"),
    Case("douyin_truncated", reasons.TRUNCATED_FILE, FILE, _douyin_damaged("cut"), "orders_20250304.xlsx"),
    Case("douyin_not_xlsx", reasons.UNREADABLE_FILE, FILE, _douyin_damaged("text"), "orders_20250304.xlsx"),
    # A line sent twice with different amounts: both copies go, and so does its sibling.
    Case("douyin_conflicting_line", reasons.CONFLICTING_DUPLICATE, ROW,
         _douyin(DOUYIN_LINE, _SECOND_LINE, variant(DOUYIN_LINE, 订单应付金额=1.0), _OTHER_ORDER), "row 4", "row 2"),
    Case("douyin_sibling_of_conflicting_line", reasons.INCOMPLETE_ORDER, ROW,
         _douyin(DOUYIN_LINE, _SECOND_LINE, variant(DOUYIN_LINE, 订单应付金额=1.0), _OTHER_ORDER), "row 3"),
]


# ---------------------------------------------------------------- ZWYP


def _zwyp(*lines, encoding: str = "utf-8") -> Callable[[Path], ParsedBatch]:
    def build(tmp: Path) -> ParsedBatch:
        path = write_jsonl(tmp / "orders_20250304.jsonl", [ZWYP_ORDER, *lines], encoding=encoding)
        return parse_zwyp(path, deid=DEID)
    return build


def _zwyp_cut(tmp: Path) -> ParsedBatch:
    path = write_jsonl(tmp / "orders_20250304.jsonl", [ZWYP_ORDER, variant(ZWYP_ORDER, order_id="ZW2025030400999")])
    text = path.read_text(encoding="utf-8")
    cut = text.rindex('"name": "王芳"') + len('"name": "王')  # cut inside the buyer's name
    path.write_bytes(text[:cut].encode("utf-8"))
    return parse_zwyp(path, deid=DEID)


ZWYP = [
    Case("zwyp_cut_line", reasons.MALFORMED_RECORD, ROW, _zwyp_cut, "line 2", "JSON"),
    Case("zwyp_sub_fen_price", reasons.BAD_AMOUNT, ROW,
         _zwyp(variant(ZWYP_ORDER, items=[{**ZWYP_ORDER["items"][0], "unit_price": "59.001"}])), "line 2"),
    Case("zwyp_conflicting_order", reasons.CONFLICTING_DUPLICATE, ROW, _zwyp(variant(ZWYP_ORDER, amount_paid="1.00"), variant(ZWYP_ORDER, order_id="ZW2025030400999")),
         "line 2", "line 1"),
    Case("zwyp_unknown_area", reasons.UNKNOWN_AREA_CODE, ROW,
         _zwyp(variant(ZWYP_ORDER, ship_to={"area_code": "640599999999", "address": "海原县李旺镇"})), "line 2"),
    Case("zwyp_pickup_without_outlet", reasons.MALFORMED_RECORD, ROW,
         _zwyp(variant(ZWYP_ORDER, channel="store_pickup")), "line 2", "pickup_outlet_id"),
    Case("zwyp_bad_created_at", reasons.BAD_TIMESTAMP, ROW, _zwyp(variant(ZWYP_ORDER, created_at="4 March")), "line 2"),
    Case("zwyp_not_json", reasons.MALFORMED_RECORD, ROW, _zwyp("order ZW2025030400999, buyer 王芳 13995512345"),
         "line 2"),
    Case("zwyp_gb18030", reasons.WRONG_ENCODING, FILE, _zwyp(encoding="gb18030"), "orders_20250304.jsonl", "gb18030"),
]


# ---------------------------------------------------------------- outlet ledger


def _outlets(*rows) -> Callable[[Path], ParsedBatch]:
    def build(tmp: Path) -> ParsedBatch:
        return parse_outlet_ledger(write_outlets(tmp / "网点台账_202503.xlsx", [OUTLET_ROW, *rows]), "640521", deid=DEID)
    return build


def _outlets_cut(tmp: Path) -> ParsedBatch:
    path = truncate(write_outlets(tmp / "网点台账_202503.xlsx", [OUTLET_ROW]))
    return parse_outlet_ledger(path, "640521", deid=DEID)


def _outlet(**changes) -> dict:
    return variant(OUTLET_ROW, **{"网点编码": "ZW640521-0099", **changes})


OUTLETS = [
    Case("outlet_code_of_other_county", reasons.MALFORMED_RECORD, ROW, _outlets(_outlet(网点编码="ZW640502-0012")),
         "row 5", "网点编码"),
    Case("outlet_area_of_other_county", reasons.UNKNOWN_AREA_CODE, ROW, _outlets(_outlet(行政区划代码="640502101205")),
         "row 5"),
    Case("outlet_unknown_area", reasons.UNKNOWN_AREA_CODE, ROW, _outlets(_outlet(行政区划代码="640521999999")), "row 5"),
    Case("outlet_out_of_area", reasons.COORDINATES_OUT_OF_AREA, ROW, _outlets(_outlet(经度=116.4, 纬度=39.9)), "row 5"),
    Case("outlet_swapped_coordinates", reasons.COORDINATES_OUT_OF_AREA, ROW, _outlets(_outlet(经度=37.43, 纬度=105.66)),
         "row 5"),
    Case("outlet_impossible_date", reasons.BAD_TIMESTAMP, ROW, _outlets(_outlet(开业日期="2023年13月1日")), "row 5"),
    Case("outlet_unknown_status", reasons.MALFORMED_RECORD, ROW, _outlets(_outlet(状态="营业")), "row 5", "状态"),
    Case("outlet_bad_yes_no", reasons.MALFORMED_RECORD, ROW, _outlets(_outlet(是否代收代寄="Y")), "row 5"),
    Case("outlet_conflicting_code", reasons.CONFLICTING_DUPLICATE, ROW,
         _outlets(_outlet(网点编码=OUTLET_ROW["网点编码"], 网点名称="鸣沙镇快递驿站"), _outlet()), "row 5", "row 4"),
    Case("outlet_bad_operator_code", reasons.BAD_OPERATOR_CREDIT_CODE, WARNING,
         _outlets(_outlet(统一社会信用代码="91640521MA76000000")), "row 5"),
    Case("outlet_truncated", reasons.TRUNCATED_FILE, FILE, _outlets_cut, "网点台账_202503.xlsx"),
]


# ---------------------------------------------------------------- registry


def _registry(enterprises=(), classes=(), hosts=(), drop_sheet=None) -> Callable[[Path], ParsedBatch]:
    def build(tmp: Path) -> ParsedBatch:
        path = write_registry(tmp / "电商企业及培训台账_202503.xlsx", [ENTERPRISE_ROW, *enterprises],
                              [TRAINING_ROW, *classes], [INFLUENCER_ROW, *hosts], drop_sheet=drop_sheet)
        return parse_registry(path)
    return build


def _registry_cut(tmp: Path) -> ParsedBatch:
    return parse_registry(truncate(write_registry(tmp / "电商企业及培训台账_202503.xlsx")))


_OTHER_ENTERPRISE = variant(ENTERPRISE_ROW, 统一社会信用代码="91640502MA77BB3K23")
REGISTRY = [
    Case("registry_bad_credit_code", reasons.BAD_CREDIT_CODE, ROW,
         _registry([variant(ENTERPRISE_ROW, 统一社会信用代码="91640521MA76000000")]), "sheet 企业名录 row 3"),
    Case("registry_bad_shop", reasons.MALFORMED_RECORD, ROW, _registry([variant(_OTHER_ENTERPRISE, 店铺="JD:123")]),
         "sheet 企业名录 row 3", "JD:123"),
    Case("registry_unknown_county", reasons.MALFORMED_RECORD, ROW, _registry([variant(_OTHER_ENTERPRISE, 所属县区="银川市")]),
         "sheet 企业名录 row 3"),
    Case("registry_negative_trainees", reasons.BAD_AMOUNT, ROW,
         _registry(classes=[variant(TRAINING_ROW, 班次编号="PX2025-009", 培训人数=-3)]), "sheet 培训班次 row 3"),
    Case("registry_class_ends_before_start", reasons.BAD_TIMESTAMP, ROW,
         _registry(classes=[variant(TRAINING_ROW, 班次编号="PX2025-009", 结业日期="2025-03-01")]), "sheet 培训班次 row 3"),
    Case("registry_unknown_host_status", reasons.MALFORMED_RECORD, ROW,
         _registry(hosts=[variant(INFLUENCER_ROW, 达人ID="dy_zw_host09", 状态="暂停")]), "sheet 达人孵化 row 3"),
    Case("registry_conflicting_enterprise", reasons.CONFLICTING_DUPLICATE, ROW,
         _registry([variant(ENTERPRISE_ROW, 企业名称="另一家公司")]), "sheet 企业名录 row 3", "row 2"),
    Case("registry_shop_of_two_enterprises", reasons.CONFLICTING_DUPLICATE, ROW,
         _registry([variant(_OTHER_ENTERPRISE, 店铺="DOUYIN:4410928")]), "sheet 企业名录 row 3", "listed by 2"),
    Case("registry_conflicting_class", reasons.CONFLICTING_DUPLICATE, ROW,
         _registry(classes=[variant(TRAINING_ROW, 培训人数=1)]), "sheet 培训班次 row 3"),
    Case("registry_conflicting_host", reasons.CONFLICTING_DUPLICATE, ROW,
         _registry(hosts=[variant(INFLUENCER_ROW, 昵称="另一个昵称")]), "sheet 达人孵化 row 3"),
    Case("registry_missing_sheet", reasons.SCHEMA_MISMATCH, FILE, _registry(drop_sheet="达人孵化"),
         "电商企业及培训台账_202503.xlsx", "达人孵化"),
    Case("registry_truncated", reasons.TRUNCATED_FILE, FILE, _registry_cut, "电商企业及培训台账_202503.xlsx"),
]

ALL_CASES: list[Case] = [*COURIER, *TAOBAO, *PDD, *DOUYIN, *ZWYP, *OUTLETS, *REGISTRY]
