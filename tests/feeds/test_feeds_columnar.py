"""The columnar engine against the record-by-record parsers it replaces (issue 13).

For each platform moved to `zhongwei.feeds.columns`, both paths parse the same
files: generated months with every defect kind at 5 % (the range's broken month
brings conflicting copies and the lost files), and a hand-made file of the
spellings a generator does not write (full-width digits, exotic whitespace,
offsets, Chinese dates, summer time before 1992, open quotes, other scripts'
digits). Tables, quarantine entries (location, reason, detail, masked raw),
warnings, counts and file errors must be equal. It goes when the record parsers do.
"""
from __future__ import annotations

from pathlib import Path
from unittest.mock import patch

import pytest

from zhongwei.feeds import ParsedBatch, ecommerce, parse_platform_file, readers
from zhongwei.synth.generate import SynthConfig, generate

from feedkit import DEID, PDD_ROW, TAOBAO_ROW, taobao_cells, write_pdd, write_taobao

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


@pytest.mark.parametrize("platform, write", [("PDD", _pdd_hostile), ("TAOBAO", _taobao_hostile)])
def test_hand_made_spellings_parse_alike(tmp_path: Path, platform: str, write) -> None:
    path = write(tmp_path / platform / "orders_20250304.csv")
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
