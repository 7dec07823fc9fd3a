"""The order rules across platforms: statuses, what was paid, refunds done and
pending, Douyin's order assembly from lines, express names, regions."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from feedkit import (
    DEID, DOUYIN_LINE, PDD_ROW, TAOBAO_ROW, ZWYP_ORDER, variant, write_douyin, write_jsonl, write_pdd, write_taobao,
)
from zhongwei.feeds import parse_douyin, parse_pdd, parse_taobao, parse_zwyp
from zhongwei.feeds.contract import (
    DOUYIN_STATUS, ORDER_STATUSES, PDD_STATUS, TAOBAO_STATUS, ZWYP_STATUS,
)


def test_status_vocabulary() -> None:
    for mapping in (TAOBAO_STATUS, PDD_STATUS, DOUYIN_STATUS, ZWYP_STATUS):
        assert set(mapping.values()) <= set(ORDER_STATUSES)


def test_taobao_refund_pending_and_half_width_status(tmp_path: Path) -> None:
    rows = [
        variant(TAOBAO_ROW, 订单编号="1000000000000000001", 退款金额="50.00"),  # requested, not completed
        variant(TAOBAO_ROW, 订单编号="1000000000000000002", 订单状态="买家已付款,等待卖家发货", 物流公司="安能物流",
                收货地址="宁夏 中卫市 中宁县 鸣沙镇 ***"),
    ]
    orders = parse_taobao(write_taobao(tmp_path / "orders_20250305.csv", rows), deid=DEID).tables["orders"].to_pylist()
    assert orders[0]["refund_fen"] == 0 and orders[0]["refund_requested_fen"] == 5000
    assert orders[1]["status"] == "paid" and orders[1]["status_raw"] == "买家已付款,等待卖家发货"
    assert orders[1]["express_company"] == "安能物流"  # unknown courier names are kept as given
    assert (orders[1]["province"], orders[1]["city"], orders[1]["district"]) == ("宁夏回族自治区", "中卫市", "中宁县")
    assert orders[1]["address_hash"] is None  # the partner masked the street


def test_pdd_refund_in_progress(tmp_path: Path) -> None:
    row = variant(PDD_ROW, 售后状态="退款中", 退款时间="")
    order = parse_pdd(write_pdd(tmp_path / "orders_20250304.csv", [row]), deid=DEID).tables["orders"].to_pylist()[0]
    assert order["refund_fen"] == 0 and order["refund_requested_fen"] == 11800 and order["refunded_at"] is None
    assert order["address_hash"] is not None and order["province"] == "江苏省"


def test_douyin_order_from_lines(tmp_path: Path) -> None:
    first = variant(DOUYIN_LINE, 运费=8.0, 直播间ID="", 流量来源="短视频", 售后状态="退款成功", 退款金额=69.8,
                    退款时间="2025-03-05 10:00:00")
    second = variant(DOUYIN_LINE, 子订单编号="6923481234567890125", 订单应付金额=25.9, 直播间ID="7345001",
                     售后状态="退款中", 退款金额=25.9)
    third = variant(DOUYIN_LINE, 主订单编号=6923481234, 子订单编号="6923481234001", 直播间ID="", 流量来源="搜索",
                    支付完成时间="", 订单状态="待支付", 商品类目="宠物用品")
    batch = parse_douyin(write_douyin(tmp_path / "orders_20250304.xlsx", [first, third, second]), deid=DEID)
    assert batch.rejected == [] and [w.reason for w in batch.warnings] == ["unknown_category"]
    orders = {o["order_no"]: o for o in batch.tables["orders"].to_pylist()}
    live = orders["6923481234567890123"]
    assert live["goods_fen"] == 9570 and live["shipping_fen"] == 800 and live["paid_fen"] == 10370
    assert live["refund_fen"] == 6980 and live["refund_requested_fen"] == 2590
    assert live["refunded_at"] == datetime(2025, 3, 5, 2, tzinfo=timezone.utc)
    assert live["channel"] == "livestream"  # one line sold in a livestream
    searched = orders["6923481234"]  # an id Excel stored as a number, small enough to be exact
    assert searched["channel"] == "search" and searched["paid_fen"] == 0 and searched["source_row"] == 3
    lines = {(l["order_no"], l["line_no"]): l for l in batch.tables["order_lines"].to_pylist()}
    assert lines[("6923481234567890123", 0)]["line_refund_fen"] == 6980
    assert lines[("6923481234567890123", 1)]["line_refund_fen"] is None  # pending, not refunded
    assert lines[("6923481234567890123", 1)]["sub_order_no"] == "6923481234567890125"


def test_zwyp_refunds_and_livestream(tmp_path: Path) -> None:
    lines = [
        variant(ZWYP_ORDER, order_id="ZW1", status="refunded", amount_refunded="118.00",
                refunded_at="2025-03-04T20:00:00+08:00", channel="livestream"),
        variant(ZWYP_ORDER, order_id="ZW2", amount_refunded="118.00", status="pending", paid_at=None),
    ]
    orders = parse_zwyp(write_jsonl(tmp_path / "orders_20250304.jsonl", lines), deid=DEID).tables["orders"].to_pylist()
    assert orders[0]["status"] == "refunded" and orders[0]["refund_fen"] == 11800 and orders[0]["is_livestream_order"]
    assert orders[1]["status"] == "unpaid" and orders[1]["refund_fen"] == 0 and orders[1]["paid_at"] is None
