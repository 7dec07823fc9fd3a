"""A record repeated inside one file or API window, in every feed: a copy equal to the first
loads once and is counted as a duplicate; copies that differ are a conflict (both quarantined,
tested with the other reason codes in feed_cases.py)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from feedkit import (
    DEID, DOUYIN_LINE, ENTERPRISE_ROW, EVENT, INFLUENCER_ROW, OUTLET_ROW, PDD_ROW, TAOBAO_ROW, TRAINING_ROW, WAYBILL,
    ZWYP_ORDER, variant, write_douyin, write_jsonl, write_outlets, write_pdd, write_registry, write_taobao,
)
from zhongwei.feeds import (
    ParsedBatch, parse_douyin, parse_events, parse_outlet_ledger, parse_pdd, parse_registry, parse_taobao,
    parse_waybills, parse_zwyp, reasons,
)

_SECOND_LINE = variant(DOUYIN_LINE, 子订单编号="6923481234567890125", 订单应付金额=25.9)
_OTHER_OUTLET = variant(OUTLET_ROW, 序号=2, 网点编码="ZW640521-0099")


def _positional(table) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "source_row"} for row in table.to_pylist()]


# feed -> (build the batch with a record repeated, build it with the record once)
CASES: dict[str, Callable[[Path, bool], ParsedBatch]] = {
    "waybills": lambda tmp, twice: parse_waybills([WAYBILL, *[WAYBILL] * twice], "SF 2025-03-04", deid=DEID),
    "events": lambda tmp, twice: parse_events([EVENT, *[EVENT] * twice], "SF 2025-03-06"),
    "taobao": lambda tmp, twice: parse_taobao(write_taobao(tmp / "orders_20250304.csv",
                                                           [TAOBAO_ROW, *[TAOBAO_ROW] * twice]), deid=DEID),
    "pdd": lambda tmp, twice: parse_pdd(write_pdd(tmp / "orders_20250304.csv", [PDD_ROW, *[PDD_ROW] * twice]),
                                        deid=DEID),
    # the repeated line sits between its order's lines: the order still has two lines, numbered 0 and 1
    "douyin": lambda tmp, twice: parse_douyin(write_douyin(tmp / "orders_20250304.xlsx",
                                                           [DOUYIN_LINE, *[DOUYIN_LINE] * twice, _SECOND_LINE]),
                                              deid=DEID),
    "zwyp": lambda tmp, twice: parse_zwyp(write_jsonl(tmp / "orders_20250304.jsonl", [ZWYP_ORDER, *[ZWYP_ORDER] * twice]),
                                          deid=DEID),
    # a row copied further down the sheet, renumbered (序号 is the row's position, not the outlet's)
    "outlets": lambda tmp, twice: parse_outlet_ledger(
        write_outlets(tmp / "网点台账_202503.xlsx", [OUTLET_ROW, _OTHER_OUTLET, *[variant(OUTLET_ROW, 序号=3)] * twice]),
        "640521", deid=DEID),
    "registry": lambda tmp, twice: parse_registry(write_registry(
        tmp / "电商企业及培训台账_202503.xlsx", [ENTERPRISE_ROW, *[ENTERPRISE_ROW] * twice],
        [TRAINING_ROW, *[TRAINING_ROW] * twice], [INFLUENCER_ROW, *[INFLUENCER_ROW] * twice])),
}
REPEATS = {"registry": 3}  # one in each sheet


@pytest.mark.parametrize("feed", CASES)
def test_a_record_repeated_verbatim_loads_once_and_is_counted(feed: str, tmp_path: Path) -> None:
    once = CASES[feed](tmp_path / "once", False)
    twice = CASES[feed](tmp_path / "twice", True)
    repeats = REPEATS.get(feed, 1)
    assert twice.rejected == [] and twice.warnings == once.warnings
    assert (twice.rows_arrived, twice.rows_loaded, twice.duplicates) == (once.rows_arrived + repeats,
                                                                         once.rows_loaded, repeats)
    for name, table in twice.tables.items():
        assert _positional(table) == _positional(once.tables[name]), name


def test_a_window_with_a_conflict_keeps_everything_else() -> None:
    other = variant(WAYBILL, waybill_no="SF1234567890999")
    batch = parse_waybills([WAYBILL, other, variant(WAYBILL, fee_cny="19.00"), WAYBILL], "SF 2025-03-04", deid=DEID)
    assert [r.location for r in batch.rejected] == [f"SF 2025-03-04:record {n}" for n in (1, 3, 4)]
    assert {r.reason for r in batch.rejected} == {reasons.CONFLICTING_DUPLICATE}
    assert "occurs 3 times" in batch.rejected[0].detail
    assert batch.tables["waybills"].column("waybill_no").to_pylist() == ["SF1234567890999"]
    assert (batch.rows_arrived, batch.rows_loaded, batch.duplicates) == (4, 1, 0)


def test_a_corrected_waybill_is_not_a_duplicate() -> None:
    """The contract's correction: same number, later received_at. Both are kept for the warehouse."""
    later = variant(WAYBILL, received_at="2025-03-04T18:00:00+08:00", weight_g=2400)
    batch = parse_waybills([WAYBILL, later], "SF 2025-03-04", deid=DEID)
    assert (batch.rows_loaded, batch.duplicates, batch.rejected) == (2, 0, [])
