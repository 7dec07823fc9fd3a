"""`zw bench` end to end at a tiny scale: what it writes, and that its figures add up (no timing assertions)."""
from __future__ import annotations

import json

import pytest

from zhongwei.bench.run import SIMULATOR, pipeline_stages, run_all

pytestmark = pytest.mark.slow
SCALE = 0.0005


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    lines: list[str] = []
    [result] = run_all([SCALE], "2025-03", root / "cache", root / "out", log=lines.append)
    return {"root": root, "result": result, "log": "\n".join(lines)}


def test_writes_results_table_and_chart(bench):
    out = bench["root"] / "out"
    saved = json.loads((out / f"results-{SCALE:g}.json").read_text(encoding="utf-8"))
    assert saved == bench["result"]
    assert (out / "bench.png").read_bytes().startswith(b"\x89PNG")
    assert "| end to end |" in bench["log"] and "× floor (CPU)" in bench["log"]


def test_every_stage_ran_and_was_measured(bench):
    stages = bench["result"]["stages"]
    pipeline = pipeline_stages()
    assert [s["stage"] for s in stages] == ["floor", pipeline[0], SIMULATOR, *pipeline[1:], "empty_day"]
    for s in stages:
        assert s["ok"], s
        least_mib = 20 if s["stage"] == SIMULATOR else 50
        assert s["wall_s"] > 0 and s["cpu_s"] > 0 and s["peak_rss_bytes"] > least_mib * 2**20


def test_the_exchange_simulator_served_ingestion_from_a_process_of_its_own(bench):
    stages = {s["stage"]: s for s in bench["result"]["stages"]}
    workdir = bench["root"] / "cache" / f"run-{SCALE:g}-2025-03"
    assert "GET /v1/waybills" in (workdir / f"{SIMULATOR}.log").read_text()  # it, not a thread of the stage, served
    assert stages[SIMULATOR]["details"]["serves"] == "ingest"
    assert stages[SIMULATOR]["wall_s"] >= stages["ingest"]["wall_s"]  # up for the whole stage
    rows = {r["stage"]: r for r in bench["result"]["summary"]["rows"]}
    assert rows[SIMULATOR]["cpu_s"] == round(stages[SIMULATOR]["cpu_s"], 2) > 0
    assert "| courier exchange simulator (partner side) |" in bench["log"]


def test_one_task_on_an_empty_day_is_reported_apart(bench):
    stages = {s["stage"]: s for s in bench["result"]["stages"]}
    empty = stages["empty_day"]
    assert empty["details"]["day"] == "2025-02-28" and empty["details"]["state"] == "success"
    [task] = empty["details"]["timers"].values()
    assert task["calls"] == 1 and 0 < task["cpu_s"] < empty["cpu_s"]
    rows = {r["stage"]: r for r in bench["result"]["summary"]["rows"]}
    assert rows["empty_day_task"]["cpu_s"] == round(task["cpu_s"], 2)
    assert "| one ingestion task, empty day (fixed cost) |" in bench["log"]


def test_figures_add_up(bench):
    summary = bench["result"]["summary"]
    rows = {r["stage"]: r for r in summary["rows"]}
    pipeline = [rows[s] for s in pipeline_stages()]  # neither the simulator nor the empty day
    assert rows["end_to_end"]["cpu_s"] == pytest.approx(sum(r["cpu_s"] for r in pipeline), abs=0.05)
    assert rows["end_to_end"]["peak_rss_gib"] == max(r["peak_rss_gib"] for r in pipeline)
    assert 0 < rows["quality"]["wall_s"] < rows["ingest"]["wall_s"] + rows.get("publish", rows["ingest"])["wall_s"]
    assert rows["floor"]["x_floor_cpu"] == 1.0
    assert set(summary["targets"]) == {"complete", "end_to_end_x_floor", "ingest_x_floor", "peak_rss_gib"}


def test_floor_reads_the_records_ingestion_takes_in(bench):
    by_stage = {s["stage"]: s["details"] for s in bench["result"]["stages"]}
    floor, feeds = by_stage["floor"]["rows"], by_stage["ingest"]["feeds"]
    assert floor["courier_waybills"] == feeds["courier_waybills"]["rows_arrived"] > 0
    assert floor["courier_events"] == feeds["courier_events"]["rows_arrived"] > 0
    platforms = floor["taobao_orders"] + floor["pdd_orders"] + floor["zwyp_orders"] + floor["douyin_order_lines"]
    assert platforms == feeds["ecommerce"]["rows_arrived"] > 0


def test_floor_reads_every_sheet_from_its_header_row(bench):
    """What fastexcel gave the floor, against python-calamine's rows of the same sheets (the old reader)."""
    import duckdb
    from python_calamine import CalamineWorkbook

    from zhongwei.feeds.contract import DOUYIN_SHEET, ENTERPRISE_SHEET, OUTLET_SHEET

    inbox = bench["root"] / "cache" / f"inbox-{SCALE:g}-2025-03"
    con = duckdb.connect(str(bench["root"] / "cache" / f"run-{SCALE:g}-2025-03" / "floor.duckdb"), read_only=True)
    for table, pattern, sheet in (("douyin_order_lines", "ecommerce/DOUYIN/*.xlsx", DOUYIN_SHEET),
                                  ("outlets", "outlets/*/*.xlsx", OUTLET_SHEET),
                                  ("registry_enterprises", "registry/*.xlsx", ENTERPRISE_SHEET)):
        header, body = None, 0
        for path in sorted(inbox.glob(pattern)):
            rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
            start = next(i for i, row in enumerate(rows) if all(str(v).strip() for v in row))
            header, body = rows[start], body + len(rows) - start - 1
        columns = [c for (c,) in con.execute(f"select column_name from (describe {table})").fetchall()]
        assert columns == [f"{i}_{h}" for i, h in enumerate(header)], table
        assert con.execute(f"select count(*) from {table}").fetchone()[0] == body > 0, table


def test_inbox_is_generated_once(bench):
    inbox = bench["root"] / "cache" / f"inbox-{SCALE:g}-2025-03"
    marker = (inbox / ".complete").stat().st_mtime_ns
    from zhongwei.bench.inbox import inbox_for

    assert inbox_for(bench["root"] / "cache", SCALE, "2025-03") == inbox
    assert (inbox / ".complete").stat().st_mtime_ns == marker


def test_ingestion_by_feed_adds_up_to_the_stage(bench):
    stages = {s["stage"]: s for s in bench["result"]["stages"]}
    feeds = bench["result"]["summary"]["feeds"]
    measured = [f for f in feeds if f["records"] is not None]
    assert len(measured) == 6
    for f in measured:
        assert f["records"] > 0 and f["floor_cpu_s"] > 0 and f["ingest_cpu_s"] > 0, f
    assert sum(f["ingest_cpu_s"] for f in feeds) == pytest.approx(stages["ingest"]["cpu_s"], abs=0.1)
    assert sum(f["floor_cpu_s"] for f in measured) <= stages["floor"]["cpu_s"]
    assert sum(f["records"] for f in measured) == sum(stages["floor"]["details"]["rows"].values())
    assert "| ingestion by feed |" in bench["log"]
