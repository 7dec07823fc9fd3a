"""The partners' own samples, dropped into an inbox and taken in by the real DAGs
(`zw run`, with the exchange simulator serving the courier samples)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow
SAMPLES = Path(__file__).parents[1] / "fixtures" / "samples"


def rows(lake: Path, table: str) -> list[dict]:
    import pyarrow as pa

    parts = sorted((lake / "raw" / table).rglob("*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts]).to_pylist() if parts else []


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("samples")
    inbox = data / "inbox"
    shutil.copytree(SAMPLES, inbox)
    env = {k: v for k, v in os.environ.items() if k not in ("AIRFLOW_CONN_COURIER_EXCHANGE", "AIRFLOW_HOME")}
    env.update({"ZW_DATA": str(data), "ZW_PII_KEY": "sample-key"})
    zw = str(Path(sys.executable).with_name("zw"))
    for month in ("2025-03", "2025-04"):  # a waybill accepted on 31 March reached the exchange on 2 April
        done = subprocess.run([zw, "run", "--month", month, "--only", "ingest"], env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    return data / "lake"


def test_every_sample_batch_loads_cleanly(lake):
    entries = [json.loads(p.read_text()) for p in (lake / "ledger").glob("*/*.json")]
    assert {e["status"] for e in entries} == {"loaded"}
    assert sum(e["rows_quarantined"] for e in entries) == 0
    assert all(e["rows_arrived"] == e["rows_loaded"] + e["duplicates"] for e in entries)


def test_courier_samples_keep_corrections_and_repeated_events_for_the_warehouse(lake):
    waybills = rows(lake, "courier_waybills")
    sf = sorted((w["received_at"], w["fee_fen"]) for w in waybills if w["waybill_no"] == "SF1234567890123")
    assert [fee for _, fee in sf] == [1800, 2100]  # the correction arrived later: the warehouse takes it
    late = [w for w in waybills if w["waybill_no"] == "JT0006968326954"]
    assert len(late) == 1 and late[0]["dest_country"] == "HK" and late[0]["dest_area_code"] is None
    events = rows(lake, "courier_events")
    assert len(events) == 6  # the sign-for event delivered twice is kept twice; counted once downstream
    assert all(w["sender_phone_masked"] in ("139****1234", "095****2345", "158****1111") for w in waybills)


def test_order_samples_in_one_shape(lake):
    orders = {(o["platform"], o["order_no"]): o for o in rows(lake, "ecommerce_orders")}
    assert len(orders) == 9
    unpaid = orders[("TAOBAO", "3871204598312345679")]
    assert unpaid["paid_at"] is None and unpaid["paid_fen"] == 0
    assert orders[("TAOBAO", "3871204598312345680")]["refund_fen"] == 23800
    assert orders[("PDD", "250304-123456789012346")]["refund_fen"] == 11800
    douyin = orders[("DOUYIN", "6923481234567890123")]
    assert douyin["goods_fen"] == 6980 + 2590 and douyin["channel"] == "livestream"
    lines = [x for x in rows(lake, "ecommerce_order_lines") if x["order_no"] == "6923481234567890123"]
    assert len(lines) == 2  # one order, two lines
    assert orders[("ZWYP", "ZW2025030400124")]["pickup_outlet_id"] == "ZW640502-0003"


def test_ledger_samples_skip_title_blank_and_totals_rows_and_keep_the_closed_outlet(lake):
    outlets = {o["outlet_code"]: o for o in rows(lake, "outlets")}
    assert len(outlets) == 4
    assert outlets["ZW640521-0015"]["status"] == "停业"
    assert str(outlets["ZW640521-0014"]["opened_on"]) == "2023-07-01"  # an Excel date serial
    entry = json.loads(next((lake / "ledger" / "outlets").glob("*.json")).read_text())
    assert entry["quality"]["metadata"]["ignored_rows"] == {"blank": 1, "totals": 1}
    assert entry["warnings_by_reason"] == {"bad_operator_credit_code": 2}
    assert len(rows(lake, "registry_enterprises")) == 3
    assert len(rows(lake, "registry_training_classes")) == 2


def test_no_clear_personal_information_from_the_samples(lake):
    blob = "\n".join(json.dumps(pq.read_table(p).to_pylist(), ensure_ascii=False, default=str)
                     for p in lake.rglob("*.parquet"))
    for clear in ("13812345678", "李娜", "马建国", "13909551234", "tb_lina88", "大漠孤烟", "13995512345", "王芳",
                  "孔德胜", "13709558899"):
        assert clear not in blob, clear
