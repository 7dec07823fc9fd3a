"""The generated inbox, read the way a partner's files are read (stdlib csv/json and
an xlsx reader), never through the generator's own objects."""
from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from zhongwei.synth.generate import SynthConfig, generate

TAOBAO = "订单编号,店铺Id,店铺名称,买家会员名,买家应付货款,买家应付邮费,总金额,买家实际支付金额,订单状态,订单创建时间,订单付款时间,宝贝标题,宝贝总数量,商品类目,收货人姓名,收货地址,联系手机,物流公司,物流单号,订单关闭原因,退款金额,退款完成时间".split(",")
PDD = "订单号,店铺id,商品,商品id,商品规格,商品类目,商品数量(件),商品总价(元),店铺优惠折扣(元),平台优惠折扣(元),用户实付金额(元),商家实收金额(元),订单状态,售后状态,退款金额(元),退款时间,订单成交时间,发货时间,确认收货时间,快递公司,快递单号,收货人,手机,省,市,区,街道".split(",")
DOUYIN = "主订单编号,子订单编号,店铺ID,选购商品,商品ID,商品类目,商品数量,商品单价,订单应付金额,运费,订单提交时间,支付完成时间,订单完成时间,订单状态,售后状态,退款金额,退款时间,达人ID,直播间ID,流量来源,收件人,收件人手机号,省,市,区,街道,详细地址,快递公司,快递单号".split(",")
OUTLETS = "序号,网点编码,网点名称,网点类型,所属乡镇,所属村（社区）,行政区划代码,经度,纬度,运营主体,统一社会信用代码,合作快递品牌,是否代收代寄,是否销售兴农产品,开业日期,状态,负责人,联系电话,备注".split(",")
WAYBILL_KEYS = {"waybill_no", "company", "accepted_at", "received_at", "origin_area_code", "dest_country",
                "dest_area_code", "weight_g", "fee_cny", "service", "item_category", "e_waybill", "packaging",
                "pickup_outlet_id", "order_ref", "sender", "receiver"}
EVENT_KEYS = {"waybill_no", "company", "event_time", "received_at", "state", "sub_state", "area_code", "area_name",
              "outlet_id", "context"}
PATTERNS = {"EMS": r"^1\d{12}$|^[A-Z]{2}\d{9}[A-Z]{2}$", "YZPY": r"^9\d{12}$", "SF": r"^SF\d{13}$",
            "ZTO": r"^7\d{11,13}$", "YTO": r"^YT\d{13}$", "YUNDA": r"^\d{13}$|^\d{15}$",
            "STO": r"^(77|268|368)\d{10,13}$", "JTSD": r"^JT\d{13}$", "JDL": r"^JD[A-Z]{1,2}\d{11,12}$",
            "DBL": r"^DPK\d{12}$"}


def defects(inbox: Path) -> list[dict]:
    return [json.loads(line) for line in open(inbox / "_truth" / "defects.jsonl", encoding="utf-8")]


def lost(inbox: Path) -> dict[str, str]:
    return {d["file"]: d["kind"] for d in defects(inbox)
            if d["kind"] in ("truncated_file", "wrong_encoding", "schema_mismatch")}


def test_layout_has_every_feed_for_every_month(small_inbox):
    months = [f"{y}{m:02d}" for y in (2024, 2025) for m in range(1, 13)][:14]
    for ym in months:
        assert (small_inbox / "courier" / f"waybills_{ym}.jsonl").exists()
        assert (small_inbox / "registry" / f"电商企业及培训台账_{ym}.xlsx").exists()
        for county in ("640502", "640521", "640522"):
            assert (small_inbox / "outlets" / county / f"网点台账_{ym}.xlsx").exists()
    for platform, ext in (("TAOBAO", "csv"), ("PDD", "csv"), ("DOUYIN", "xlsx"), ("ZWYP", "jsonl")):
        days = {p.name for p in (small_inbox / "ecommerce" / platform).iterdir()}
        assert f"orders_20240101.{ext}" in days and f"orders_20250228.{ext}" in days
        assert not any(p.name.endswith(".part") for p in small_inbox.rglob("*"))  # files arrive whole


def test_taobao_is_gb18030_with_excel_quoted_order_numbers(small_inbox):
    bad = lost(small_inbox)
    seen = 0
    for path in sorted((small_inbox / "ecommerce" / "TAOBAO").glob("*.csv")):
        rel = path.relative_to(small_inbox).as_posix()
        if bad.get(rel) == "wrong_encoding":
            path.read_bytes().decode("utf-8")  # really UTF-8 ...
            with pytest.raises(AssertionError):  # ... so a GB18030 reader sees a garbled header
                assert next(csv.reader(open(path, encoding="gb18030", errors="replace"))) == TAOBAO
            continue
        rows = list(csv.reader(open(path, encoding="gb18030", newline="")))
        assert rows[0] == TAOBAO
        for row in rows[1:]:
            if len(row) == len(TAOBAO):
                assert re.fullmatch(r'="\d{19}"', row[0]), row[0]
                seen += 1
    assert seen > 1000


def test_pdd_has_a_bom_and_douyin_is_a_real_workbook(small_inbox):
    bad = lost(small_inbox)
    for path in sorted((small_inbox / "ecommerce" / "PDD").glob("*.csv"))[:40]:
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        header = next(csv.reader(open(path, encoding="utf-8-sig")))
        if bad.get(path.relative_to(small_inbox).as_posix()) == "schema_mismatch":
            assert "用户实付金额(元)" not in header
        else:
            assert header == PDD
    for path in sorted((small_inbox / "ecommerce" / "DOUYIN").glob("*.xlsx"))[:40]:
        if bad.get(path.relative_to(small_inbox).as_posix()) == "truncated_file":
            with pytest.raises(Exception):
                CalamineWorkbook.from_path(str(path))
            continue
        book = CalamineWorkbook.from_path(str(path))
        assert book.sheet_names == ["订单明细"]
        rows = book.get_sheet_by_name("订单明细").to_python()
        assert rows[0] == DOUYIN
        assert all(isinstance(r[0], str) and (r[0] == "" or re.fullmatch(r"\d{19}", r[0])) for r in rows[1:])
    assert set(bad.values()) == {"truncated_file", "wrong_encoding", "schema_mismatch"}


def test_zwyp_orders_and_courier_records_have_the_contract_shapes(small_inbox):
    whole = 0
    for path in sorted((small_inbox / "ecommerce" / "ZWYP").glob("*.jsonl"))[:60]:
        for line in open(path, encoding="utf-8"):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a cut-off line: a defect, counted against the truth file elsewhere
            whole += 1
            assert rec["status"] in {"pending", "paid", "shipped", "completed", "cancelled", "refunded"}
            assert rec["channel"] in {"web", "miniapp", "livestream", "store_pickup"}
            assert (rec["pickup_outlet_id"] is not None) == (rec["channel"] == "store_pickup")
            assert re.fullmatch(r"ZW\d{13}", rec["order_id"])
    assert whole > 100
    companies = Counter()
    for path in sorted((small_inbox / "courier").glob("waybills_*.jsonl")):
        for line in open(path, encoding="utf-8"):
            rec = json.loads(line)
            assert set(rec) == WAYBILL_KEYS
            companies[rec["company"]] += 1
    top8 = sum(n for _, n in companies.most_common(8))
    assert top8 / sum(companies.values()) > 0.9
    for line in open(small_inbox / "courier" / "events_202406.jsonl", encoding="utf-8"):
        assert set(json.loads(line)) == EVENT_KEYS


def test_outlet_ledgers_look_hand_kept(small_inbox):
    rows = CalamineWorkbook.from_path(str(small_inbox / "outlets/640521/网点台账_202406.xlsx")) \
        .get_sheet_by_name("网点台账").to_python()
    assert rows[0][0] == "中宁县电商快递服务网点台账（2024年6月）"
    assert rows[1][0].startswith("填报单位：中宁县商务局")
    assert rows[2] == OUTLETS
    data = [r for r in rows[3:] if any(c != "" for c in r)]
    opened = [r[14] for r in data if r[0] != "合计"]
    assert any(isinstance(v, float) for v in opened)  # Excel date serials
    assert any(isinstance(v, str) and "年" in v for v in opened)
    assert any(isinstance(v, str) and "/" in v for v in opened)
    book = CalamineWorkbook.from_path(str(small_inbox / "registry/电商企业及培训台账_202406.xlsx"))
    assert book.sheet_names == ["企业名录", "培训班次", "达人孵化"]


def test_truth_file_has_every_indicator_for_every_region_and_month(small_inbox):
    rows = list(csv.DictReader(open(small_inbox / "_truth" / "indicators.csv", encoding="utf-8")))
    keys = Counter((r["period"], r["region_code"]) for r in rows)
    assert len({p for p, _ in keys}) == 14
    assert all(keys[(p, "640500")] == 27 and keys[(p, "640521")] == 24 for p, _ in keys)
    feb = {r["indicator_code"]: r for r in rows if r["period"] == "2025-02" and r["region_code"] == "640500"}
    assert float(feb["EXP_VOL"]["yoy_growth"]) == pytest.approx(0.23, abs=0.08)  # the plan's growth path
    assert float(feb["ECOM_GMV"]["ytd_yoy_growth"]) == pytest.approx(0.12, abs=0.08)
    assert float(feb["EXP_CR8"]["value"]) > 0.9
    for r in rows:
        if r["unit"] == "ratio" and r["value"]:
            assert 0 <= float(r["value"]) <= 1


def test_same_seed_same_files_and_a_month_does_not_depend_on_the_range(tmp_path):
    def digest(root: Path, pattern: str) -> dict[str, str]:
        return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.glob(pattern))}

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(SynthConfig(out=str(a), months="2025-03", scale=0.0003, seed=3, defect_rate=0.01))
    generate(SynthConfig(out=str(b), months="2025-03", scale=0.0003, seed=3, defect_rate=0.01))
    generate(SynthConfig(out=str(c), months="2025-02:2025-03", scale=0.0003, seed=3, defect_rate=0.01))
    feeds = "[!_]*/**/*.*"  # every feed file
    assert digest(a, feeds) == digest(b, feeds)
    for truth in ("_truth/indicators.csv", "_truth/defects.jsonl"):  # (summary.json holds the run's duration)
        assert digest(a, truth) == digest(b, truth)
    assert digest(a, "courier/*202503*") == digest(c, "courier/*202503*")
    d = tmp_path / "d"
    generate(SynthConfig(out=str(d), months="2025-03", scale=0.0003, seed=4, defect_rate=0.01))
    assert digest(a, "courier/*") != digest(d, "courier/*")


def _waybill_defect(rec: dict, divisions: set[str]) -> str | None:
    """What is wrong with a waybill record, judged only from the contract."""
    from datetime import datetime
    from decimal import Decimal, InvalidOperation

    if not isinstance(rec["weight_g"], int) or rec["weight_g"] <= 0:
        return "malformed_record"
    if rec["company"] not in PATTERNS:
        return "unknown_company"
    if not re.fullmatch(PATTERNS[rec["company"]], rec["waybill_no"]):
        return "bad_waybill_no"
    try:
        datetime.fromisoformat(rec["accepted_at"]).utcoffset().total_seconds()
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", rec["accepted_at"]):
            return "bad_timestamp"
    except (ValueError, AttributeError):
        return "bad_timestamp"
    try:
        if Decimal(rec["fee_cny"]) < 0:
            return "bad_amount"
    except InvalidOperation:
        return "bad_amount"
    if rec["origin_area_code"].startswith("6405") and rec["origin_area_code"] not in divisions:
        return "unknown_area_code"
    return None


def test_courier_defects_in_the_files_are_the_ones_the_truth_file_lists(small_inbox):
    divisions = {r["code"] for r in csv.DictReader(open(Path(__file__).parents[2] / "dbt_project/seeds/zhongwei_divisions.csv", encoding="utf-8"))}
    found = set()
    for path in sorted((small_inbox / "courier").glob("waybills_*.jsonl")):
        rel = path.relative_to(small_inbox).as_posix()
        before, key_before = None, None
        for n, line in enumerate(open(path, encoding="utf-8"), start=1):
            rec = json.loads(line)
            key = (rec["company"], rec["waybill_no"], rec["received_at"])
            if line == before:  # the record again, verbatim
                found.add((rel, n, "repeated_record"))
            elif key == key_before:  # the same record saying something else: both copies
                found.update({(rel, n - 1, "conflicting_duplicate"), (rel, n, "conflicting_duplicate")})
            elif kind := _waybill_defect(rec, divisions):
                found.add((rel, n, kind))
            before, key_before = line, key
    listed = {(d["file"], d["line"], d["kind"]) for d in defects(small_inbox) if d["feed"] == "courier_waybills"}
    assert found == listed
    assert {k for *_, k in listed} == {"malformed_record", "unknown_company", "bad_waybill_no", "bad_timestamp",
                                       "bad_amount", "unknown_area_code", "repeated_record", "conflicting_duplicate"}
    assert {f for f, _, k in listed if k == "conflicting_duplicate"} == {"courier/waybills_202408.jsonl"}
