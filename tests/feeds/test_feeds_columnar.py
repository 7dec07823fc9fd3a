"""The columnar engine against the record-by-record parsers it replaces (issue 13).

For each platform moved to `zhongwei.feeds.columns`, both paths parse the same
files: generated months with every defect kind at 5 % (the range's broken month
brings conflicting copies and the lost files), and a hand-made file of the
spellings a generator does not write (full-width digits, exotic whitespace,
offsets, Chinese dates, summer time before 1992, open quotes, other scripts'
digits; for JSON Lines, values of the wrong JSON type, NaN, broken and non-object
lines; for Douyin's sheet also numbers, serials and dates as cells, and its
whole-order rules). Tables, quarantine entries (location, reason, detail, masked raw),
warnings, counts and file errors must be equal. It goes when the record parsers do.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from unittest.mock import patch

import pytest

from zhongwei.feeds import ParsedBatch, ecommerce, parse_platform_file, readers
from zhongwei.synth.defects import FILE_KINDS
from zhongwei.synth.generate import SynthConfig, generate

from feedkit import (
    DEID, DOUYIN_LINE, PDD_ROW, TAOBAO_ROW, ZWYP_ORDER, taobao_cells, variant, write_douyin, write_jsonl, write_pdd,
    write_taobao,
)

COLUMNAR = sorted(ecommerce._COLUMNAR)


def by_records(platform: str, path: Path) -> ParsedBatch:
    with patch.dict(ecommerce._COLUMNAR, clear=True):
        return parse_platform_file(platform, path, deid=DEID)


def assert_same(new: ParsedBatch, old: ParsedBatch) -> None:
    assert (new.rows_arrived, new.rows_loaded, new.duplicates, new.rows_ignored) == (
        old.rows_arrived, old.rows_loaded, old.duplicates, old.rows_ignored)
    assert new.file_error == old.file_error
    assert new.rejected == old.rejected
    assert new.warnings == old.warnings
    assert new.metadata == old.metadata
    for name, table in old.tables.items():
        assert new.tables[name].schema == table.schema, name
        assert new.tables[name].to_pylist() == table.to_pylist(), name


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("columnar") / "inbox"
    generate(SynthConfig(out=str(out), months="2025-02:2025-04", scale=0.002, seed=11, defect_rate=0.05))
    return out


@pytest.mark.parametrize("platform", COLUMNAR)
def test_generated_months_parse_alike(inbox: Path, platform: str) -> None:
    files = sorted(inbox.rglob(f"ecommerce/{platform}/orders_*"))
    assert len(files) > 80
    outcomes = {"rejected": 0, "warnings": 0, "duplicates": 0, "file_errors": 0, "conflicts": 0}
    for path in files:
        old, new = by_records(platform, path), parse_platform_file(platform, path, deid=DEID)
        assert_same(new, old)
        outcomes["rejected"] += len(old.rejected)
        outcomes["warnings"] += len(old.warnings)
        outcomes["duplicates"] += old.duplicates
        outcomes["file_errors"] += old.file_error is not None
        outcomes["conflicts"] += sum(r.reason == "conflicting_duplicate" for r in old.rejected)
    if platform not in FILE_KINDS.values():  # the generator loses none of its files: see the hand-made ones
        del outcomes["file_errors"]
    assert all(outcomes.values()), outcomes  # every kind of outcome was compared


def _pdd_hostile(path: Path) -> Path:
    def row(**cells: str) -> dict[str, str]:
        return {**PDD_ROW, **cells}

    rows = [
        row(订单号="２５０３０４-１２３", **{"用户实付金额(元)": "１２.５０"}),
        row(订单号=" 250304-124\u3000", 订单成交时间="2025-03-04T12:00:00+08:00", 收货人="李\u2003梅"),
        row(订单号="250304-125", 订单成交时间="2025/3/4 9:05", **{"商品数量(件)": "3.0"}),
        row(订单号="250304-126", 订单成交时间="2025年3月4日", 确认收货时间="20250305T101500"),
        row(订单号="250304-127", 订单成交时间="1991-06-01 10:00:00"),
        row(订单号="250304-128", 订单成交时间="2025-02-30 10:00:00"),
        row(订单号="250304-129", 订单成交时间="2025-W10-2"),
        row(订单号="٢٥٠٣٠٤-130"),
        row(订单号="250304-131\x1c", 售后状态="退款中", **{"退款金额(元)": "5.10"}),
        row(订单号="250304-132", **{"用户实付金额(元)": "-0.00", "退款金额(元)": "1.234"}),
        row(订单号="250304-133", **{"用户实付金额(元)": "-3", "商品数量(件)": "0"}, 订单状态="已发货,待签收"),
        row(订单号="250304-134", 订单状态="", 店铺id=""),
        row(订单号="250304-135", 订单成交时间="", 手机="+86 139-0000-3333", 街道="", 省="*", 快递公司="中通"),
        row(订单号="250304-136", 商品类目="未知类目", 快递单号=" ", 区="西湖区\u3000"),
        row(订单号="250304-136", 商品类目="未知类目", 快递单号=" ", 区="西湖区\u3000"),
        row(订单号="250304-137"), row(订单号="250304-137", 收货人="王芳"),
        row(订单号="250304-138", 订单成交时间="2099-12-31 23:59:59", 退款时间="2100-01-01 00:00:00"),
        row(订单号="250304-139", 订单成交时间="2025-03-04 24:00:00"),
        {c: "" for c in PDD_ROW},
    ]
    write_pdd(path, rows)
    with path.open("ab") as handle:  # rows no CSV writer produces
        handle.write('250304-140,"778812,open quote\r\n'.encode())
        handle.write(b"250304-141,778812,too,few\r\n")
        handle.write(",".join(["250304-142", "778812\xff", *list(PDD_ROW.values())[2:]]).encode("utf-8", "surrogateescape") + b"\r\n")
    return path


def _taobao_hostile(path: Path) -> Path:
    def row(**cells: str) -> list[object]:
        return taobao_cells({**TAOBAO_ROW, **cells})

    wrapped = row(订单编号="3871204598312345001")
    rows = [
        row(订单编号="３８７１２０４５９８３１２３４５００２", 收货地址="宁 夏回族自治区 中卫市 沙坡头区 文昌镇"),
        [*row()[:0], '="3871204598312345003', *row()[1:]],
        ["3871204598312345004", *row()[1:]],
        ['=" 3871204598312345005 "', *row()[1:]],
        ["=3871204598312345006", *row(订单创建时间="2025-03-04 08:00:00+08:00")[1:]],
        row(订单编号="3871204598312345007", 退款完成时间="2025-03-05 10:00:00", 退款金额="12.00",
            收货地址="上海 上海市 浦东新区 ***"),
        row(订单编号="3871204598312345008", 退款金额="12.00", 买家应付邮费="", 收货地址="宁夏 中卫市"),
        row(订单编号="3871204598312345009", 买家应付货款="12.345", 订单付款时间="2025.3.4 8:00"),
        row(订单编号="38712045983123450x0"),
        row(订单编号="3871204598312345011", 宝贝总数量="-1", 订单创建时间="2025-13-01 00:00:00"),
        wrapped, wrapped, row(订单编号="3871204598312345001", 联系手机="13700001111"),
        row(订单编号="3871204598312345012", 商品类目="新类目", 物流公司="顺丰速运"),
    ]
    return write_taobao(path, rows)


def _zwyp_hostile(path: Path) -> Path:
    """JSON's own ways to be wrong (types, constants, shapes) on top of the spellings."""
    item = ZWYP_ORDER["items"][0]
    numbers = iter(range(200, 300))

    def order(**fields: object) -> dict[str, object]:
        return variant(ZWYP_ORDER, **{"order_id": f"ZW2025030400{next(numbers)}", **fields})

    def items(*changes: dict[str, object]) -> list[dict[str, object]]:
        return [{**item, **change} for change in changes]

    twice = order(items=items({}, {"sku": "GQ-250", "category": "未知类目", "qty": 1}))
    conflict = order()
    lines: list[dict[str, object] | str] = [
        ZWYP_ORDER, "", "   ",
        order(order_id=12345), order(order_id="ＺＷ２０２５０３０４００９００"), order(order_id=" ZW订单9 "),
        order(order_id="ZW\x1c901"), order(order_id=None), order(order_id="ZW 902"),
        order(shop_id=42), order(shop_id=""), order(status=1), order(status="lost"), order(channel=True),
        order(channel="shop"), order(channel="store_pickup"), order(channel="store_pickup", pickup_outlet_id="ZW640521-0012"),
        order(pickup_outlet_id=7), order(channel="store_pickup", pickup_outlet_id=" "),
        order(items=None), order(items=[]), order(items=[1]), order(items={"qty": 1}), order(items=[item, "x"]),
        {k: v for k, v in order().items() if k != "items"},
        order(items=items({"qty": "2"})), order(items=items({"qty": True})), order(items=items({"qty": 2.0})),
        order(items=items({"qty": 0})), order(items=items({"qty": -1})), order(items=items({"qty": None})),
        order(items=[{k: v for k, v in item.items() if k != "qty"}]),
        order(items=items({"unit_price": 59.0})), order(items=items({"unit_price": "59.001"})),
        order(items=items({"unit_price": "-1"})), order(items=items({"unit_price": "５９.００"})),
        order(items=items({"unit_price": " 7 "})), order(items=items({"unit_price": "1e3"})),
        order(items=items({}, {"name": 5})), order(items=items({"sku": 5}, {"qty": 0})),
        order(items=items({"category": 3})), order(items=items({"category": None}, {"category": "新类目"})),
        order(items=items({"name": " 枸杞\u3000"}), shop_id=None),  # an item's error comes before shop_id's
        order(status="lost", order_id=None), order(created_at="lost", amount_paid=12),
        order(amount_paid=118), order(amount_paid="１１８.00"), order(amount_paid=None), order(shipping_fee=""),
        order(amount_refunded="12.00", refunded_at="2025-03-05T10:00:00+08:00", status="refunded"),
        order(amount_refunded="12.00"), order(amount_refunded=True), order(refunded_at=5),
        order(created_at="2025-03-04 09:12:44"), order(created_at="2025-03-04T09:12:44Z"),
        order(created_at="2025-03-04T09:12:44.5+08:00"), order(created_at="2025/3/4 9:05"),
        order(created_at="2025年3月4日"), order(created_at="1991-06-01T10:00:00"),
        order(created_at="1989-01-01T00:00:00+08:00"), order(created_at="2025-02-30T10:00:00+08:00"),
        order(created_at="2025-03-04T09:12:44+24:00"), order(created_at="2025-03-04T09:12:44-05:30"),
        order(created_at=12345), order(created_at=None), order(paid_at=True), order(paid_at=""),
        order(paid_at="２０２５-０３-０４T０９:１３:０２+08:00"),
        order(buyer=None), order(buyer="王芳"), order(buyer={"name": 1, "phone": "13995512345"}),
        order(buyer={"name": "王芳", "phone": 13995512345}), order(buyer={}),
        order(ship_to=None), order(ship_to="海原县"), order(ship_to={"area_code": 640522101203}),
        order(ship_to={"area_code": "640599999999", "address": "海原县李旺镇"}),
        order(ship_to={"area_code": "6405", "address": "海原县李旺镇"}),
        order(ship_to={"area_code": "１１０１０１００１００１", "address": 3}),
        order(ship_to={"area_code": "", "address": "***"}),
        order(express=None), order(express="ZTO"), order(express={"company": "中通快递", "waybill_no": 7}),
        order(express={"company": " 顺丰速运 ", "waybill_no": " "}),
        twice, twice, conflict, variant(conflict, items=items({}, {"qty": 3})),
        '{"order_id": "ZW2025030400990", "amount_paid": NaN}', '{"order_id": "ZW2025030400991", "qty": Infinity}',
        json.dumps(order(), ensure_ascii=False).replace('"amount_paid": "118.00"', '"amount_paid": 1e400'),
        '{"order_id": "ZW2025030400993", ',
        "[1, 2]", '"王芳 13995512345"', "42", "null", "order ZW2025030400994, buyer 王芳 13995512345",
        "\ufeff" + '{"order_id": "ZW2025030400995"}', '{"a": 1} {"b": 2}',
    ]
    write_jsonl(path, lines, encoding="utf-8-sig")
    with path.open("ab") as handle:  # lines no JSON writer produces
        handle.write('{"order_id": "ZW2025030400996", "shop_id": "zw-0042\udcff"}\r\n'.encode("utf-8", "surrogateescape"))
        whole = json.dumps(order(), ensure_ascii=False).encode()
        handle.write(whole[:whole.index("枸杞".encode()) + 1])  # the last line, cut inside a character
    return path


def _douyin_hostile(path: Path) -> Path:
    """Cells as a sheet holds them: numbers as floats and ints, serials, dates, text dates, empties."""
    def line(order: str, sub: str, **cells: object) -> dict[str, object]:
        return {**DOUYIN_LINE, "主订单编号": f"69234812345678{order}", "子订单编号": f"69234812345678{sub}", **cells}

    lines = [
        line("00100", "00101", 商品数量=2.0, 商品单价=39.9, 订单应付金额=79.8, 运费=6),
        line("00100", "00102", 商品数量=1, 商品单价="12.50", 订单应付金额="１２.５０", 运费=0.0, 店铺ID=4410928.0,
             售后状态="退款中", 退款金额=5.5),
        line("00100", "00103", 售后状态="退款成功", 退款金额=3, 退款时间=datetime(2025, 3, 5, 10, 0), 直播间ID=""),
        line("00100", "00104", 售后状态="退款成功", 退款金额="4.00", 退款时间="2025/3/6 9:05", 运费=None),
        line("00200", "00201", 订单提交时间=45720.5, 支付完成时间=datetime(2025, 3, 4, 20, 0), 订单完成时间=date(2025, 3, 6),
             退款时间=45722.25, 售后状态="退款成功", 退款金额=12.345),
        line("00300", "00301", 订单提交时间="2025年3月4日", 支付完成时间="2025-03-04T12:00:00+08:00",
             订单完成时间="20250305T101500", 直播间ID="", 流量来源="", 收件人="李\u2003娜"),
        line("00300", "00302", 订单提交时间="2025-03-04 08:00", 直播间ID="", 流量来源="商品卡", 商品类目="新类目"),
        line("00400", "00401", 直播间ID="", 流量来源="其他来源", 支付完成时间="", 商品类目=None),
        line("00500", "00501", 直播间ID="", 流量来源="短视频"), line("00500", "00502", 直播间ID="7345002", 流量来源="搜索"),
        line("00600", "00601"), line("00600", "00602", 店铺ID="9999999"), line("00600", "00603"),
        line("00700", "00701"), line("00700", "00702", 订单提交时间="2025-02-30 10:00:00"), line("00700", "00703"),
        line("00800", "00801", 街道="", 详细地址="", 省="*"), line("00800", "00801", 街道="", 详细地址="", 省="*"),
        line("00900", "00901"), line("00900", "00902", 收件人="王芳"), line("00900", "00902"), line("00900", "00903"),
        {c: None for c in DOUYIN_LINE},
        line("01000", "01001", 商品数量=0), line("01100", "01101", 商品单价=-1.0, 订单状态="未知状态"),
        line("01200", "01201", 订单应付金额="1.234"), line("01300", "01301", 运费=True),
        line("01400", "01401", 订单提交时间="1991-06-01 10:00:00"), line("01500", "01501", 订单提交时间="2025-03-04 24:00:00"),
        line("01600", "01601", 订单提交时间=0.0), line("01700", "01701", 支付完成时间=True),
        line("01800", "01801", 售后状态="bogus"), line("01900", "01901", 商品ID=1e17, 商品数量=0),
        line("02000", "02001", 子订单编号="69234812345678x"), line("02000", "02002"),
        {**DOUYIN_LINE, "主订单编号": 6.923481234567890e18}, {**DOUYIN_LINE, "主订单编号": ""},
        {**DOUYIN_LINE, "主订单编号": 6923481234567890, "子订单编号": 6923481234567891.0},
        line("02100", "02101", 订单提交时间="2025-03-04T20:15:01Z", 快递公司="中通", 区="浦东新区\u3000"),
        line("02200", "02201", 详细地址=13812345678, 收件人手机号=13812345678.0, 省=None),
        line("02300", "02301", 商品单价=1e30, 退款时间="soon"), line("02400", "02401", 订单提交时间=-0.0),
    ]
    return write_douyin(path, lines)


@pytest.mark.parametrize("platform, write, name", [
    ("PDD", _pdd_hostile, "orders_20250304.csv"), ("TAOBAO", _taobao_hostile, "orders_20250304.csv"),
    ("DOUYIN", _douyin_hostile, "orders_20250304.xlsx"), ("ZWYP", _zwyp_hostile, "orders_20250304.jsonl"),
])
def test_hand_made_spellings_parse_alike(tmp_path: Path, platform: str, write, name: str) -> None:
    path = write(tmp_path / platform / name)
    old = by_records(platform, path)
    assert_same(parse_platform_file(platform, path, deid=DEID), old)
    reasons = {r.reason for r in old.rejected}
    assert {"malformed_record", "bad_amount", "bad_timestamp", "conflicting_duplicate"} <= reasons
    assert old.warnings and old.rows_loaded >= 5


@pytest.mark.parametrize("lines", [
    ["a,b,c", 'd,"e,f', "g,h,i", 'j,"k"x,l', "m,n,o", "", "p\x00q,r"],
    ['"open', '"open again', "x,y", '"last open'],
    ['a,"b ""c"" d",e', '"', '""', 'x,"y\u2028', "z"],
    [],
])
def test_one_csv_reader_reads_each_line_as_its_own(lines: list[str]) -> None:
    """The file-wide reader yields what a reader per line would: an open quote spoils its own line only."""
    assert list(readers._csv_rows(lines)) == [(n + 2, readers._line_fields(line)) for n, line in enumerate(lines)]


@pytest.mark.parametrize("lines, encoding", [
    ([ZWYP_ORDER, variant(ZWYP_ORDER, order_id="ZW2025030400999")], "gb18030"),  # wrong_encoding
    ([], "utf-8"), (["", " "], "utf-8-sig"), ([ZWYP_ORDER], "utf-8-sig"),
])
def test_jsonl_file_checks_parse_alike(tmp_path: Path, lines: list[object], encoding: str) -> None:
    path = write_jsonl(tmp_path / "ZWYP" / "orders_20250304.jsonl", lines, encoding=encoding)
    assert_same(parse_platform_file("ZWYP", path, deid=DEID), by_records("ZWYP", path))
