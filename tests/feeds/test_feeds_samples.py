"""Every partner sample parses with the outcome its contract implies."""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from feedkit import (
    DEID, DOUYIN_SAMPLE, EVENT_SAMPLE, OUTLET_SAMPLE, PDD_SAMPLE, REGISTRY_SAMPLE, TAOBAO_SAMPLE, WAYBILL_SAMPLE,
    ZWYP_SAMPLE, jsonl_records,
)
from zhongwei.feeds import (
    EVENT_SCHEMA, LINE_SCHEMA, ORDER_SCHEMA, OUTLET_SCHEMA, WAYBILL_SCHEMA, parse_douyin, parse_events,
    parse_outlet_ledger, parse_pdd, parse_registry, parse_taobao, parse_waybills, parse_zwyp, reasons,
)


def _clean(batch, arrived: int) -> None:
    assert batch.file_error is None
    assert batch.rejected == []
    assert batch.rows_arrived == batch.rows_loaded == arrived


def _by(table: pa.Table, key: str) -> dict[str, dict]:
    return {row[key]: row for row in table.to_pylist()}


def test_taobao_sample() -> None:
    batch = parse_taobao(TAOBAO_SAMPLE, deid=DEID)
    _clean(batch, 3)
    assert batch.warnings == []
    orders = batch.tables["orders"]
    assert orders.schema == ORDER_SCHEMA and batch.tables["order_lines"].schema == LINE_SCHEMA
    by_no = _by(orders, "order_no")
    assert set(by_no) == {"3871204598312345678", "3871204598312345679", "3871204598312345680"}
    shipped, unpaid, closed = (by_no[f"38712045983123456{n}"] for n in ("78", "79", "80"))
    assert shipped["status"] == "shipped" and shipped["paid_fen"] == 11800 and shipped["express_company"] == "ZTO"
    assert shipped["created_at"] == datetime(2025, 3, 4, 1, 12, 44, tzinfo=timezone.utc)  # 09:12:44 in Shanghai
    assert (shipped["province"], shipped["city"], shipped["district"]) == ("上海市", "上海市", "浦东新区")
    assert unpaid["status"] == "unpaid" and unpaid["paid_at"] is None and unpaid["paid_fen"] == 0
    assert unpaid["goods_fen"] == 5900 and unpaid["shipping_fen"] == 800
    assert closed["status"] == "closed" and closed["refund_fen"] == 23800 and closed["refunded_at"] is not None
    assert closed["express_company"] == "YTO"
    assert all(row["export_date"] == date(2025, 3, 4) for row in orders.to_pylist())
    lines = batch.tables["order_lines"].to_pylist()
    first = lines[0]
    assert (first["order_no"], first["line_no"], first["amount_fen"], first["qty"]) == (
        "3871204598312345678", 0, 11800, 2)


def test_pdd_sample() -> None:
    batch = parse_pdd(PDD_SAMPLE, deid=DEID)
    _clean(batch, 2)
    by_no = _by(batch.tables["orders"], "order_no")
    assert set(by_no) == {"250304-123456789012345", "250304-123456789012346"}  # the BOM is not in the first id
    shipped, refunded = by_no["250304-123456789012345"], by_no["250304-123456789012346"]
    assert shipped["status"] == "shipped" and shipped["paid_fen"] == 11300 and shipped["refund_fen"] == 0
    assert refunded["status"] == "completed" and refunded["refund_fen"] == 11800
    assert refunded["paid_at"] == datetime(2025, 3, 2, 0, 30, tzinfo=timezone.utc)
    assert refunded["express_company"] == "YUNDA"
    # The partner already masked this buyer: masked form kept, no hash (it would join strangers).
    assert shipped["buyer_name_masked"] == "陈*" and shipped["buyer_name_hash"] is None
    assert shipped["buyer_phone_masked"] == "138****0001" and shipped["buyer_phone_hash"] is None


def test_douyin_sample() -> None:
    batch = parse_douyin(DOUYIN_SAMPLE, deid=DEID)
    _clean(batch, 3)  # three sheet rows -> two orders
    orders = batch.tables["orders"].to_pylist()
    assert [o["order_no"] for o in orders] == ["6923481234567890123", "6923481234567890200"]
    live, unpaid = orders
    assert live["goods_fen"] == 6980 + 2590 == 9570 and live["paid_fen"] == 9570
    assert live["channel"] == "livestream" and live["is_livestream_order"] is True
    assert unpaid["status"] == "unpaid" and unpaid["paid_fen"] == 0 and unpaid["shipping_fen"] == 1000
    assert unpaid["channel"] == "product_card"
    lines = batch.tables["order_lines"].to_pylist()
    assert [(l["order_no"], l["line_no"], l["sub_order_no"]) for l in lines][:2] == [
        ("6923481234567890123", 0, "6923481234567890124"), ("6923481234567890123", 1, "6923481234567890125")]
    assert lines[0]["unit_price_fen"] == 3990 and lines[0]["live_room_id"] == "7345001"


def test_zwyp_sample() -> None:
    batch = parse_zwyp(ZWYP_SAMPLE, deid=DEID)
    _clean(batch, 2)
    by_no = _by(batch.tables["orders"], "order_no")
    pickup = by_no["ZW2025030400124"]
    assert pickup["channel"] == "store_pickup" and pickup["pickup_outlet_id"] == "ZW640502-0003"
    assert pickup["goods_fen"] == 6000 and pickup["ship_to_area_code"] == "640502100002"
    assert by_no["ZW2025030400123"]["express_company"] == "ZTO"
    assert len(batch.tables["order_lines"]) == 3


def test_courier_samples() -> None:
    waybills = parse_waybills(jsonl_records(WAYBILL_SAMPLE), "waybills_sample", deid=DEID)
    _clean(waybills, 4)
    table = waybills.tables["waybills"]
    assert table.schema == WAYBILL_SCHEMA
    sf = [row for row in table.to_pylist() if row["waybill_no"] == "SF1234567890123"]
    assert sorted(row["fee_fen"] for row in sf) == [1800, 2100]  # the correction is kept beside the original
    hk = next(row for row in table.to_pylist() if row["company"] == "JTSD")
    assert hk["dest_country"] == "HK" and hk["dest_area_code"] is None
    events = parse_events(jsonl_records(EVENT_SAMPLE), "events_sample")
    _clean(events, 6)
    assert events.tables["events"].schema == EVENT_SCHEMA
    keys = [(e["waybill_no"], e["event_time"], e["state"], e["sub_state"], e["area_code"])
            for e in events.tables["events"].to_pylist()]
    assert len(keys) - len(set(keys)) == 1  # the exact duplicate pair is kept for the warehouse


def test_outlet_sample() -> None:
    batch = parse_outlet_ledger(OUTLET_SAMPLE, "640521", deid=DEID)
    _clean(batch, 4)
    assert batch.rows_ignored == 2 and batch.metadata["ignored_rows"] == {"blank": 1, "totals": 1}
    assert batch.metadata["reporting_unit"] == "中宁县商务局" and batch.metadata["reported_on"] == date(2025, 4, 3)
    assert batch.metadata["ledger_month"] == "2025-03"
    table = batch.tables["outlets"]
    assert table.schema == OUTLET_SCHEMA
    by_code = _by(table, "outlet_code")
    assert by_code["ZW640521-0015"]["status"] == "停业"
    assert by_code["ZW640521-0014"]["opened_on"] == date(2023, 7, 1)  # Excel serial 45108
    assert by_code["ZW640521-0013"]["opened_on"] == date(2023, 7, 15)  # 2023年7月15日
    assert by_code["ZW640521-0012"]["opened_on"] == date(2022, 5, 1)  # 2022/5/1
    assert by_code["ZW640521-0013"]["lng"] == 105.7201  # '105.7201 '
    assert by_code["ZW640521-0013"]["brands"] == ["韵达", "申通", "极兔"]
    assert by_code["ZW640521-0013"]["keeper_name_masked"] == "李*"  # '李 梅'
    assert by_code["ZW640521-0014"]["keeper_name_hash"] is None  # a locker has no keeper
    warned = {(w.reason, w.location) for w in batch.warnings}
    assert {reason for reason, _ in warned} == {reasons.BAD_OPERATOR_CREDIT_CODE} and len(warned) == 2
    assert {loc.rsplit(" ", 1)[1] for _, loc in warned} == {"6", "7"}
    assert [by_code[c]["operator_credit_code_valid"] for c in sorted(by_code)] == [True, True, False, False]


def test_registry_sample() -> None:
    batch = parse_registry(REGISTRY_SAMPLE)
    _clean(batch, 7)
    enterprises = batch.tables["enterprises"].to_pylist()
    assert len(enterprises) == 3 and {e["county_code"] for e in enterprises} == {"640502", "640521"}
    first = enterprises[0]
    assert first["credit_code"] == "91640521MA76YQ2N1C" and first["settled_in_base"] and first["demo_year"] == 2023
    shops = batch.tables["enterprise_shops"].to_pylist()
    assert [(s["credit_code"], s["platform"], s["shop_id"]) for s in shops] == [
        ("91640521MA76YQ2N1C", "TAOBAO", "58231907"), ("91640521MA76YQ2N1C", "DOUYIN", "4410928"),
        ("91640502MA77BB3K23", "PDD", "778812"), ("91640502MA77CC4L3U", "ZWYP", "zw-0042")]
    classes = batch.tables["training_classes"].to_pylist()
    assert [(c["class_code"], c["trainees"], c["end_on"]) for c in classes] == [
        ("PX2025-003", 52, date(2025, 3, 14)), ("PX2025-004", 48, date(2025, 4, 2))]
    hosts = batch.tables["influencers"].to_pylist()
    assert [(h["host_id"], h["status"]) for h in hosts] == [("dy_zw_host01", "孵化中"), ("dy_zw_host02", "退出")]


def test_tables_round_trip_through_parquet(tmp_path: Path) -> None:
    """The lake gets exactly the declared types (list<string>, UTC timestamps, dates)."""
    batches = [
        parse_taobao(TAOBAO_SAMPLE, deid=DEID), parse_douyin(DOUYIN_SAMPLE, deid=DEID),
        parse_waybills(jsonl_records(WAYBILL_SAMPLE), "w", deid=DEID), parse_events(jsonl_records(EVENT_SAMPLE), "e"),
        parse_outlet_ledger(OUTLET_SAMPLE, "640521", deid=DEID), parse_registry(REGISTRY_SAMPLE),
    ]
    for batch in batches:
        for name, table in {**batch.tables, "rejected": batch.rejected_table()}.items():
            path = tmp_path / f"{name}.parquet"
            pq.write_table(table, path)
            assert pq.read_table(path).equals(table), name
