"""The benchmark's parts on their own: the floor's xlsx reader, the simulator measured apart, the table's rows."""
from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from zhongwei.bench import floor, report
from zhongwei.bench.measure import Service

LEDGER = "网点台账"


def _ledger(path: Path, rows: list[list]) -> Path:
    """A county-ledger-like sheet: a title, a filer's line, the header, the rows, a blank line, totals."""
    wb = Workbook()
    ws = wb.active
    ws.title = LEDGER
    ws.append(["沙坡头区电商快递服务网点台账（2025年3月）"])
    ws.append(["填报单位：沙坡头区商务局"])
    ws.append(["序号", "网点编码", "网点名称", "经度", "备注", "备注"])  # a title twice
    for row in rows:
        ws.append(row)
    ws.append([])
    ws.append(["合计", f"{len(rows)}个"])
    wb.save(path)
    return path


def test_floor_reads_a_sheet_from_its_header_row_with_fastexcel(tmp_path, monkeypatch):
    calls = []
    read_excel = floor.fastexcel.read_excel
    monkeypatch.setattr(floor.fastexcel, "read_excel", lambda path: calls.append(path) or read_excel(path))
    path = _ledger(tmp_path / "a.xlsx", [[1, "ZW-0001", "富梁村快递代收代寄点", 105.3347, None, "x"],
                                         [2, "ZW-0002", "镇罗镇服务站", 105.1, "  ", None]])
    table = floor._sheet_table(path, LEDGER)
    assert calls == [path]
    assert table.column_names == ["0_序号", "1_网点编码", "2_网点名称", "3_经度", "4_备注", "5_备注"]
    assert table.num_rows == 4  # the blank line and the totals below the rows are read too, as calamine read them
    rows = table.to_pylist()
    assert rows[0] == {"0_序号": "1", "1_网点编码": "ZW-0001", "2_网点名称": "富梁村快递代收代寄点", "3_经度": "105.3347",
                       "4_备注": None, "5_备注": "x"}
    assert rows[3]["0_序号"] == "合计" and rows[3]["1_网点编码"] == "2个"


def test_floor_appends_every_workbook_into_one_table(tmp_path):
    paths = [_ledger(tmp_path / f"{i}.xlsx", [[n, f"ZW-{n}", "点", 105.0, None, None] for n in range(i)])
             for i in (3, 5)]
    con = duckdb.connect()
    floor._xlsx(con, "outlets", paths, LEDGER)
    assert con.execute("select count(*) from outlets").fetchone()[0] == (3 + 2) + (5 + 2)
    assert con.execute("select count(*) from outlets where \"1_网点编码\" like 'ZW-%'").fetchone()[0] == 8


def test_a_sheet_without_a_complete_row_says_so(tmp_path):
    wb = Workbook()
    wb.active.title = LEDGER
    wb.active.append(["a title", None, "and a note"])
    wb.active.append([None, "a cell"])
    wb.save(tmp_path / "t.xlsx")
    with pytest.raises(ValueError, match="no header row"):
        floor._sheet_table(tmp_path / "t.xlsx", LEDGER)


def test_a_service_is_measured_on_its_own(tmp_path):
    busy = ("import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
            "print('serving on http://127.0.0.1:1234', flush=True)\ntime.sleep(60)\n")
    service = Service("busy", [sys.executable, "-c", busy], tmp_path, {})
    assert service.wait_for(r"\bon (http://\S+)", 30).group(1) == "http://127.0.0.1:1234"
    m = service.stop({"serves": "test"})
    assert m.ok and m.stage == "busy" and m.cpu_s >= 0.3 and m.wall_s < 30 and m.peak_rss_bytes > 0
    assert m.details == {"exit_status": -15, "serves": "test"}
    assert service.stop() is m  # stopped once


def test_a_service_that_dies_before_it_is_ready_is_an_error(tmp_path):
    service = Service("broken", [sys.executable, "-c", "raise SystemExit(3)"], tmp_path, {})
    with pytest.raises(RuntimeError, match="exited"):
        service.wait_for("never", 30)
    assert not service.stop().ok


def _stage(name: str, cpu: float, peak_gib: float = 0.5, timers: dict | None = None) -> dict:
    return {"stage": name, "wall_s": cpu, "cpu_s": cpu, "peak_rss_bytes": int(peak_gib * 2**30), "ok": True,
            "details": {"timers": timers or {}}}


def _result(stages: list[dict]) -> dict:
    return {"scale": 0.01, "month": "2025-03", "inbox": {"bytes": 1e6}, "stages": stages}


def test_simulator_and_empty_day_are_reported_apart():
    gx = {"gx_validate:x": {"wall_s": 1.0, "cpu_s": 1.0, "calls": 1}}
    result = _result([_stage("floor", 10), _stage("ingest", 40, 0.7, gx), _stage("exchange_simulator", 6, 2.0),
                      _stage("dbt", 20), _stage("publish", 5),
                      _stage("empty_day", 25, 0.4, {"task:ingest_ecommerce.ingest_pdd": {"wall_s": 6, "cpu_s": 5.5}})])
    summary = report.summarise(result)
    rows = {r["stage"]: r for r in summary["rows"]}
    assert [r["stage"] for r in summary["rows"]] == ["floor", "ingest", "quality", "dbt", "publish", "end_to_end",
                                                     "exchange_simulator", "empty_day", "empty_day_task"]
    assert rows["ingest"]["cpu_s"] == 40 and rows["ingest"]["x_floor_cpu"] == 4.0
    assert rows["end_to_end"]["cpu_s"] == 65  # neither the simulator nor the empty day
    assert rows["end_to_end"]["peak_rss_gib"] == 0.7  # the simulator's 2 GiB is the partner's
    assert rows["exchange_simulator"]["cpu_s"] == 6 and rows["exchange_simulator"]["peak_rss_gib"] == 2.0
    assert rows["empty_day"]["cpu_s"] == 25 and rows["empty_day_task"]["cpu_s"] == 5.5
    assert rows["quality"]["cpu_s"] == 1.0
    printed = report.table({**result, "summary": summary})
    for label in ("| courier exchange simulator (partner side) | 6.0 s | 6.0 s | 2.00 GiB |",
                  "| one ingestion task, empty day (fixed cost) | 25.0 s |", "|   of which in the task"):
        assert label in printed


def test_results_of_older_runs_still_load_print_and_chart(tmp_path):
    old = _result([_stage("floor", 10), _stage("ingest", 40), _stage("dbt", 20)])
    old["summary"] = report.summarise(old)
    assert [r["stage"] for r in old["summary"]["rows"]] == ["floor", "ingest", "quality", "dbt", "end_to_end"]
    new = _result([_stage("floor", 12), _stage("ingest", 30), _stage("exchange_simulator", 5), _stage("dbt", 20),
                   _stage("empty_day", 25)])
    new["scale"] = 0.1
    new["summary"] = report.summarise(new)
    report.write(old, tmp_path)
    report.write(new, tmp_path)
    everything = report.load_all(tmp_path)
    assert [r["scale"] for r in everything] == [0.01, 0.1]
    assert "courier exchange simulator" not in report.table(everything[0])
    assert "| 0.1 |" in report.scaling(everything)
    assert report.chart(everything, tmp_path / "bench.png").read_bytes().startswith(b"\x89PNG")
