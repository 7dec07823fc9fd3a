"""Accounting holds for any mix of good and bad records (a property test without
hypothesis: fixed-seed random files): arrived == loaded + rejected, blank rows are
ignored, and exactly the good records load."""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from feedkit import (
    DEID, DOUYIN_LINE, ENTERPRISE_ROW, EVENT, INFLUENCER_ROW, OUTLET_ROW, PDD_ROW, TAOBAO_ROW, TRAINING_ROW, WAYBILL,
    ZWYP_ORDER, taobao_cells, variant, write_csv, write_douyin, write_jsonl, write_outlets, write_pdd, write_registry,
    write_taobao,
)
from zhongwei.feeds import (
    ParsedBatch, parse_douyin, parse_events, parse_outlet_ledger, parse_pdd, parse_registry, parse_taobao,
    parse_waybills, parse_zwyp,
)
from zhongwei.feeds.contract import TAOBAO_COLUMNS

ROUNDS = 12
SEED = 20250304


def _check(batch: ParsedBatch, good: int, bad: int, blank: int = 0) -> None:
    assert batch.file_error is None
    assert batch.rows_arrived == batch.rows_loaded + len(batch.rejected) + batch.duplicates
    assert (batch.rows_loaded, len(batch.rejected), batch.rows_ignored, batch.duplicates) == (good, bad, blank, 0)


TAOBAO_DEFECTS = [
    {"买家实际支付金额": "-1.00"}, {"订单创建时间": "2025-13-01 00:00:00"}, {"订单状态": "未知"}, {"订单编号": ""},
    {"宝贝总数量": "两件"},
]


def test_taobao_mixes(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    for round_no in range(ROUNDS):
        rows: list[list[object]] = []
        good = bad = blank = 0
        for index in range(rng.randint(0, 40)):
            kind = rng.choice(["good", "good", "warned", "bad", "short", "blank"])
            row = variant(TAOBAO_ROW, 订单编号=f"38712045983{index:08d}")
            if kind == "blank":
                rows.append([])
                blank += 1
                continue
            if kind == "warned":
                row["商品类目"] = "宠物用品"
            if kind == "bad":
                row.update(rng.choice(TAOBAO_DEFECTS))
            cells = taobao_cells(row)
            rows.append(cells[: rng.randint(1, len(cells) - 1)] if kind == "short" else cells)
            good, bad = good + (kind in ("good", "warned")), bad + (kind in ("bad", "short"))
        path = write_csv(tmp_path / f"r{round_no}" / "orders_20250304.csv", TAOBAO_COLUMNS, rows, "gb18030")
        _check(parse_taobao(path, deid=DEID), good, bad, blank)


def test_douyin_mixes(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    for round_no in range(ROUNDS):
        lines: list[dict[str, Any]] = []
        good = bad = 0
        for order in range(rng.randint(0, 8)):
            size = rng.randint(1, 3)
            spoiled = [rng.random() < 0.2 for _ in range(size)]
            for line in range(size):
                row = variant(DOUYIN_LINE, 主订单编号=f"69234812345{order:08d}", 子订单编号=f"69234812346{order:06d}{line:02d}")
                if spoiled[line]:
                    row.update(rng.choice([{"订单应付金额": -1.0}, {"订单状态": "?"}, {"商品数量": 0}]))
                lines.append(row)
            good, bad = (good + size, bad) if not any(spoiled) else (good, bad + size)
            if rng.random() < 0.2:  # a line without 主订单编号 belongs to no order it could spoil
                lines.append(variant(DOUYIN_LINE, 主订单编号=""))
                bad += 1
        rng.shuffle(lines)  # siblings need not be adjacent
        path = write_douyin(tmp_path / f"r{round_no}" / "orders_20250304.xlsx", lines)
        batch = parse_douyin(path, deid=DEID)
        _check(batch, good, bad)
        assert len(batch.tables["order_lines"]) == good


def test_zwyp_mixes(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    for round_no in range(ROUNDS):
        lines: list[Any] = []
        good = bad = blank = 0
        for index in range(rng.randint(0, 30)):
            kind = rng.choice(["good", "good", "bad", "cut", "blank"])
            order = variant(ZWYP_ORDER, order_id=f"ZW20250304{index:05d}")
            if kind == "blank":
                lines.append("   ")
                blank += 1
                continue
            if kind == "bad":
                order.update(rng.choice([{"amount_paid": "-1"}, {"status": "lost"}, {"items": []}, {"buyer": None}]))
            lines.append(order)
            if kind == "cut":
                text = json.dumps(order, ensure_ascii=False)
                lines[-1] = text[: rng.randint(1, len(text) - 1)]
            good, bad = good + (kind == "good"), bad + (kind in ("bad", "cut"))
        path = write_jsonl(tmp_path / f"r{round_no}" / "orders_20250304.jsonl", lines)
        _check(parse_zwyp(path, deid=DEID), good, bad, blank)


def test_courier_mixes() -> None:
    rng = random.Random(SEED)
    defects = [{"company": "XX"}, {"waybill_no": "SF1"}, {"fee_cny": "-2"}, {"weight_g": None},
               {"accepted_at": "yesterday"}, {"origin_area_code": "640500000001"}]
    for _ in range(ROUNDS * 3):
        records: list[Any] = []
        good = bad = 0
        for index in range(rng.randint(0, 50)):
            kind = rng.choice(["good", "good", "bad", "junk"])
            number = f"SF{index:013d}"  # a window holds a waybill once (else: a duplicate)
            records.append(variant(WAYBILL, **{"waybill_no": number, **rng.choice(defects)}) if kind == "bad" else
                           rng.choice([None, 7, "x", []]) if kind == "junk" else variant(WAYBILL, waybill_no=number))
            good, bad = good + (kind == "good"), bad + (kind != "good")
        _check(parse_waybills(records, "window", deid=DEID), good, bad)


def test_outlet_mixes(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    for round_no in range(ROUNDS // 2):
        rows, good, bad = [], 0, 0
        for index in range(rng.randint(0, 12)):
            row = variant(OUTLET_ROW, 网点编码=f"ZW640521-{index:04d}")
            if rng.random() < 0.3:
                row.update(rng.choice([{"状态": "?"}, {"经度": 120.0}, {"行政区划代码": "640502101205"}, {"开业日期": "昨天"}]))
                bad += 1
            else:
                good += 1
            rows.append(row)
        path = write_outlets(tmp_path / f"r{round_no}" / "网点台账_202503.xlsx", rows)
        _check(parse_outlet_ledger(path, "640521", deid=DEID), good, bad, blank=2)  # the blank and 合计 rows


JUNK: list[object] = [None, "", "  ", "abc", "-1", "1e30", "２０２５年２月３０日", "=\"1\"", "0.001", "是", "合计", 0, -7,
                      1.5, 1e30, 6.9e18, True, "13812345678", "ZW640521-0001", "2025-03-04 25:00:00", "\u3000"]


def test_junk_cells_never_crash_a_parser(tmp_path: Path) -> None:
    """Any cell may hold anything: every parser either loads or rejects the row."""
    rng = random.Random(SEED)

    def junk(template: dict[str, Any]) -> dict[str, Any]:
        row = dict(template)
        for column in rng.sample(list(row), rng.randint(1, 4)):
            row[column] = rng.choice(JUNK)
        return row

    def text(row: dict[str, Any]) -> dict[str, str]:
        return {k: "" if v is None else str(v) for k, v in row.items()}

    for round_no in range(ROUNDS):
        folder = tmp_path / f"r{round_no}"
        outlets = [junk(variant(OUTLET_ROW, 网点编码=f"ZW640521-{i:04d}")) for i in range(5)]
        batches = [  # (batch, physical records written: 5, plus the ledger's blank and 合计 rows)
            (parse_taobao(write_taobao(folder / "TAOBAO" / "orders_20250304.csv",
                                       [text(junk(TAOBAO_ROW)) for _ in range(5)]), deid=DEID), 5),
            (parse_pdd(write_pdd(folder / "PDD" / "orders_20250304.csv", [text(junk(PDD_ROW)) for _ in range(5)]),
                       deid=DEID), 5),
            (parse_douyin(write_douyin(folder / "DOUYIN" / "orders_20250304.xlsx",
                                       [junk(DOUYIN_LINE) for _ in range(5)]), deid=DEID), 5),
            (parse_zwyp(write_jsonl(folder / "ZWYP" / "orders_20250304.jsonl", [junk(ZWYP_ORDER) for _ in range(5)]),
                        deid=DEID), 5),
            (parse_waybills([junk(WAYBILL) for _ in range(5)], "window", deid=DEID), 5),
            (parse_events([junk(EVENT) for _ in range(5)], "window"), 5),
            (parse_outlet_ledger(write_outlets(folder / "网点台账_202503.xlsx", outlets), "640521", deid=DEID), 7),
            (parse_registry(write_registry(folder / "电商企业及培训台账_202503.xlsx", [junk(ENTERPRISE_ROW)] * 2,
                                           [junk(TRAINING_ROW)] * 2, [junk(INFLUENCER_ROW)])), 5),
        ]
        for batch, written in batches:
            assert batch.file_error is None
            assert batch.rows_arrived == batch.rows_loaded + len(batch.rejected) + batch.duplicates
            assert batch.rows_arrived + batch.rows_ignored == written


@pytest.mark.parametrize("items", [
    [{"qty": 2**63}],  # no int64 holds it
    [{"name": "\ud800"}],  # a lone surrogate from a JSON escape: no UTF-8 text holds it
    [{"unit_price": "100000000000000000000.00"}],
    [{"qty": 10**9, "unit_price": "100000000000.00"}],  # each fits; their product does not
    [{"qty": 1, "unit_price": "90000000000000000.00"}] * 2,  # each line fits; the order's goods do not
])
def test_a_value_no_column_holds_fails_the_batch_only_when_loaded(tmp_path: Path, items: list[dict]) -> None:
    """Never loaded as null or wrapped around: a loaded order fails its batch; a rejected one is only rejected."""
    lines = [{**ZWYP_ORDER["items"][0], "sku": f"S{n}", **item} for n, item in enumerate(items)]
    order = variant(ZWYP_ORDER, items=lines)
    path = write_jsonl(tmp_path / "ZWYP" / "orders_20250304.jsonl", [json.dumps(order)])  # JSON escapes
    with pytest.raises((OverflowError, UnicodeEncodeError, pa.ArrowException)):
        parse_zwyp(path, deid=DEID)
    write_jsonl(path, [json.dumps(variant(order, status="lost"))])
    batch = parse_zwyp(path, deid=DEID)
    assert (batch.rows_loaded, [r.reason for r in batch.rejected]) == (0, ["malformed_record"])
