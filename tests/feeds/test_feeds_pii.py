"""Personal information leaves the parsers only hashed or masked: in tables,
quarantine raw text, warnings and metadata alike."""
from __future__ import annotations

import hmac
from pathlib import Path

import pytest

from feed_cases import ALL_CASES, Case
from feedkit import (
    DEID, DOUYIN_SAMPLE, EVENT_SAMPLE, OUTLET_SAMPLE, PDD_SAMPLE, REGISTRY_SAMPLE, TAOBAO_ROW, TAOBAO_SAMPLE, WAYBILL,
    WAYBILL_SAMPLE, ZWYP_SAMPLE, jsonl_records, leaked, variant, write_taobao,
)
from zhongwei.feeds import (
    Deidentifier, mask_name, mask_phone, parse_douyin, parse_events, parse_outlet_ledger, parse_pdd, parse_registry,
    parse_taobao, parse_waybills, parse_zwyp, redact,
)


def test_hash_is_keyed_normalised_and_short() -> None:
    value = DEID.hash("13812345678")
    assert value is not None and len(value) == 32 and set(value) <= set("0123456789abcdef")
    assert DEID.hash(" １３８１２３４５６７８ ") == value  # NFKC + strip
    assert Deidentifier(b"another key").hash("13812345678") != value
    assert DEID.hash(None) is None and DEID.hash("  ") is None
    assert DEID.hash("138****5678") is None  # already masked: a hash would join strangers


@pytest.mark.parametrize("key", [b"k", b"feeds-test-key", bytes(range(64)), bytes(range(200))])
def test_hash_is_hmac_sha256(key: bytes) -> None:
    for value in ("13812345678", "李娜", "tb_lina88"):
        assert Deidentifier(key).hash(value) == hmac.new(key, value.encode(), "sha256").hexdigest()[:32]


def test_names_and_phones_join_across_spellings() -> None:
    assert DEID.name("李 梅") == DEID.name("李梅")
    assert DEID.phone("+86 138-1234-5678")[0] == DEID.phone("13812345678")[0]


def test_masks() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138****5678") == "138****5678"
    assert mask_phone("0955-7012345") == "095****2345"
    assert mask_phone("12345") == "****45"
    assert mask_name("王芳") == "王*" and mask_name("马建国") == "马**" and mask_name("李 梅") == "李*"
    assert mask_name("陈*") == "陈*" and mask_name("王") == "*" and mask_name("") is None


def test_redact_free_text_and_broken_json() -> None:
    assert redact("请联系13812345678或0955-7012345") == "请联系138****5678或095****2345"
    assert redact("单号 6923481234567890123 不是电话") == "单号 6923481234567890123 不是电话"
    line = '{"buyer": {"name": "王芳", "phone": 13995512345}, "ship_to": {"address": "海原县李旺镇'
    assert redact(line) == '{"buyer": {"name": "***", "phone": "***"}, "ship_to": {"address": "***"'
    assert redact('{"sender": "马建国 13909551234"}') == '{"sender": "***"}'
    assert redact(None) is None


def _sample_batches():
    yield parse_taobao(TAOBAO_SAMPLE, deid=DEID)
    yield parse_pdd(PDD_SAMPLE, deid=DEID)
    yield parse_douyin(DOUYIN_SAMPLE, deid=DEID)
    yield parse_zwyp(ZWYP_SAMPLE, deid=DEID)
    yield parse_waybills(jsonl_records(WAYBILL_SAMPLE), "waybills_sample", deid=DEID)
    yield parse_events(jsonl_records(EVENT_SAMPLE), "events_sample")
    yield parse_outlet_ledger(OUTLET_SAMPLE, "640521", deid=DEID)
    yield parse_registry(REGISTRY_SAMPLE)


def test_samples_leak_nothing() -> None:
    for batch in _sample_batches():
        assert leaked(batch) == [], batch.metadata


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_hand_made_files_leak_nothing(case: Case, tmp_path: Path) -> None:
    assert leaked(case.build(tmp_path)) == []


def test_identifiers_stay_searchable_in_the_quarantine(tmp_path) -> None:
    """A waybill number whose digits look like a phone number is an identifier, not personal
    information: the quarantine shows it as sent (the personal fields are still masked)."""
    batch = parse_waybills([variant(WAYBILL, company="XYZ", waybill_no="XYZ000000000001")], "XYZ 2025-03-04",
                           deid=DEID)
    raw = batch.rejected[0].raw
    assert '"waybill_no": "XYZ000000000001"' in raw and "XYZ000****0001" not in raw
    assert "13909551234" not in raw and "马建国" not in raw
    row = variant(TAOBAO_ROW, 订单编号="0955123456789012345", 物流单号="01234567890", 订单状态="未知")
    rejected = parse_taobao(write_taobao(tmp_path / "orders_20250304.csv", [row]), deid=DEID).rejected[0].raw
    assert "0955123456789012345" in rejected and "01234567890" in rejected
    assert TAOBAO_ROW["联系手机"] not in rejected
