"""The monthly publication on the generated 14-month warehouse: the files and their numbers, the
gate, acceptance, idempotent reruns, a late refund making revision 2, and the bulletin in a real
headless browser (Debian's chromium, installed by `make test`)."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from wh_compare import mismatches
from wh_helpers import connect, settings_for

MONTH = "2025-02"
HEADER = ("period,region_code,indicator_code,value,unit,ytd_value,yoy_growth,ytd_yoy_growth,target_value,progress,"
          "revision")
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("ZW_TEST_ARTIFACTS", Path(tempfile.gettempdir()) / "zw-test-artifacts"))


def checksums(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def settings(built, tmp_path_factory):
    built_settings, result = built
    assert result.success, result.summary()
    return replace(built_settings, publications=tmp_path_factory.mktemp("publications"))


@pytest.fixture(scope="module")
def published(settings):
    from zhongwei.publish import publish_month

    release = publish_month(settings, MONTH)
    assert (release.revision, release.status) == (1, "published")
    return release.folder


def test_a_month_whose_checks_pass_is_published_with_the_truths_numbers(published, lake_data, tmp_path):
    from zhongwei.publish.gate import rows_per_month

    assert sorted(p.name for p in published.iterdir()) == [
        "bulletin.html", "indicators.csv", "indicators.json", "manifest.json", "revisions"]
    assert (published / "indicators.csv").read_text(encoding="utf-8").splitlines()[0].startswith(HEADER)
    rows = read_csv(published / "indicators.csv")
    assert len(rows) == rows_per_month() and {r["revision"] for r in rows} == {"1"} and {r["period"] for r in rows} == {MONTH}
    truth = pd.read_csv(lake_data / "inbox" / "_truth" / "indicators.csv", dtype=str, keep_default_na=False)
    truth[truth["period"] == MONTH].to_csv(tmp_path / "truth.csv", index=False)
    assert mismatches(pd.DataFrame(rows).replace("", None), tmp_path / "truth.csv") == []

    doc = json.loads((published / "indicators.json").read_text(encoding="utf-8"))
    assert (doc["period"], doc["revision"], len(doc["indicators"])) == (MONTH, 1, len(rows))
    for item, row in zip(doc["indicators"], rows):
        assert item["value"] == (float(row["value"]) if row["value"] else None)
        assert item["yoy_growth"] == (float(row["yoy_growth"]) if row["yoy_growth"] else None)


def test_the_manifest_names_the_loads_checks_build_and_checksums(published, settings):
    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((published / name).read_bytes()).hexdigest() == entry["sha256"]
    with connect(settings.warehouse) as con:
        batches, loaded = con.execute("select count(*), sum(rows_loaded) from fct_load_ledger where data_month = ?",
                                      [MONTH]).fetchone()
    assert len(manifest["loads"]) == batches == manifest["row_counts"]["loads"] > 100
    assert manifest["row_counts"]["rows_loaded"] == loaded and manifest["row_counts"]["indicator_rows"] == 99
    assert manifest["gate"]["passed"] and manifest["gate"]["accepted"] is None
    assert manifest["dbt_build"]["success"] and manifest["quality"]["mart_suite"][0]["passed"]
    assert manifest["revision"] == 1 and manifest["changes"] == []


def test_a_bulletin_of_generated_data_says_so(published, settings, tmp_path):
    from dataclasses import replace

    from zhongwei.publish.release import generated_data

    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["generated_data"]["generator"] == "zw synth" and manifest["generated_data"]["scale"] == 0.0003
    assert 'id="demo-note"' in (published / "bulletin.html").read_text(encoding="utf-8")
    assert "演示数据" in (settings.publications / "index.html").read_text(encoding="utf-8")
    assert generated_data(replace(settings, inbox=tmp_path)) is None  # the partners' inbox has no truth file


def test_publishing_again_without_new_data_changes_nothing(published, settings):
    from zhongwei.publish import publish_month

    before = checksums(settings.publications)
    again = publish_month(settings, MONTH)
    assert (again.revision, again.status) == (1, "unchanged")
    assert checksums(settings.publications) == before


def _failing_month(settings) -> str:
    with connect(settings.warehouse) as con:
        return con.execute("select min(data_month) from fct_load_ledger where status = 'failed'").fetchone()[0]


def test_the_gate_stops_a_month_with_failed_checks_until_someone_accepts_them(published, settings):
    from zhongwei.publish import GateBlocked, publish_month

    month = _failing_month(settings)  # the generator breaks three files, and sends keys twice with
    with pytest.raises(GateBlocked) as blocked:  # different values, in the range's middle month
        publish_month(settings, month)
    failing = [c.name for c in blocked.value.gate.failing]
    with connect(settings.warehouse) as con:
        failed = {f"load {feed}/{batch}" for feed, batch, failure in con.execute(
            "select feed, batch_id, failure from fct_load_ledger where data_month = ? and status = 'failed'",
            [month]).fetchall() if failure.startswith(("truncated_file", "wrong_encoding", "schema_mismatch",
                                                      "batch_health: "))}
    assert set(failing) == failed and sum(name.startswith("load ecommerce/") for name in failing) >= 3, failing
    assert "truncated_file" in str(blocked.value) and not (settings.publications / month).exists()

    reason = "The platforms resend the three broken files next week; figures may be revised."
    release = publish_month(settings, month, acceptance=reason)
    manifest = json.loads((release.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["gate"]["accepted"] == {"reason": reason, "failing_checks": failing}
    assert reason in (release.folder / "bulletin.html").read_text(encoding="utf-8")


def test_the_mart_suite_catches_a_broken_month(settings):
    from zhongwei.publish.gate import mart_checks

    with connect(settings.warehouse) as con:
        mart = con.execute("select * from mart_monthly_indicators where period = ?", [MONTH]).df()
    assert all(c.passed for c in mart_checks(settings, MONTH, mart, "test"))
    broken = mart.copy()
    broken.loc[broken["indicator_code"] == "EXP_EWAYBILL_RATE", "value"] = 1.5
    broken.loc[broken["indicator_code"] == "EXP_VOL", "value"] = 0.0
    broken = broken[broken["indicator_code"] != "TAL_CLASSES"]
    failed = {c.name for c in mart_checks(settings, MONTH, broken, "test")}
    assert failed == {"mart_monthly_indicators suite: expect_table_row_count_to_equal()",
                      "mart_monthly_indicators suite: expect_column_values_to_be_between(value)"}


def test_the_index_lists_every_month_and_revision(published, settings):
    html = (settings.publications / "index.html").read_text(encoding="utf-8")
    assert f'data-period="{MONTH}"' in html and f"{MONTH}/revisions/1/bulletin.html" in html


@pytest.mark.slow
def test_a_late_refund_republishes_the_month_as_revision_2(built, lake_data, tmp_path):
    """January is published; a refund of a January order arrives in March's export; the next
    publication run revises January (and February's year to date), keeping revision 1."""
    from zhongwei.ingest import files
    from zhongwei.ingest.windows import Window
    from zhongwei.lake import Lake
    from zhongwei.publish import publish_month, revise_published
    from zhongwei.quality.gx import Quality
    from zhongwei.warehouse import build, last_build_path

    base, _ = built
    shutil.copytree(lake_data / "lake", tmp_path / "lake")
    # the snapshot, and dbt's working database with the snapshots' records beside it
    shutil.copy(base.warehouse, tmp_path / "warehouse.duckdb")
    shutil.copytree(base.warehouse.parent / ".build", tmp_path / ".build", ignore=shutil.ignore_patterns("pins"))
    shutil.copy(last_build_path(base), tmp_path / last_build_path(base).name)
    settings = replace(settings_for(lake_data, tmp_path / "warehouse.duckdb", lake=tmp_path / "lake"),
                       inbox=tmp_path / "inbox", publications=tmp_path / "publications")
    for month in ("2025-01", "2025-02"):
        assert publish_month(settings, month).revision == 1
    first = checksums(settings.publications / "2025-01" / "revisions" / "1")

    # a completed, counted January order of the store-front platform, as its latest export shows it
    with connect(settings.warehouse) as con:
        order_no, source_file, county = con.execute(
            "select order_no, source_file, county_code from fct_order where platform = 'ZWYP' "
            "and paid_month = '2025-01' and is_counted and refund_fen = 0 and status = 'completed' "
            "order by order_no limit 1").fetchone()
    export = lake_data / "inbox" / "ecommerce" / "ZWYP" / source_file
    line = next(json.loads(x) for x in export.read_text(encoding="utf-8").splitlines()
                if json.loads(x)["order_id"] == order_no)
    line.update(amount_refunded="10.00", refunded_at="2025-03-02T10:00:00+08:00")
    # March 2nd's export: a day's worth of orders (the volume check wants a normal day) and the refund
    day = (lake_data / "inbox" / "ecommerce" / "ZWYP" / "orders_20250228.jsonl").read_text(encoding="utf-8")
    march = settings.inbox / "ecommerce" / "ZWYP" / "orders_20250302.jsonl"
    march.parent.mkdir(parents=True)
    march.write_text(day + json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    entries = files.ingest_platform(Lake(settings.lake), Quality(settings), settings.inbox, "ZWYP",
                                    Window.month("2025-03"), "late-refund")
    assert [(e.status, e.failure) for e in entries] == [("loaded", None)]
    assert build(settings).success

    revised = {r.period: r for r in revise_published(settings, "late-refund")}
    assert sorted(revised) == ["2025-01", "2025-02"]
    january = {(c["region_code"], c["indicator_code"], c["field"]): c for c in revised["2025-01"].changes}
    for region in ("640500", county):
        assert january[(region, "ECOM_GMV", "value")]["change"] == "-10"
        assert january[(region, "ECOM_GMV", "ytd_value")]["change"] == "-10"
    assert ("640500", "ECOM_GMV_GROSS", "value") not in january  # gross is before refunds
    feb = {(c["region_code"], c["indicator_code"], c["field"]) for c in revised["2025-02"].changes}
    assert ("640500", "ECOM_GMV", "ytd_value") in feb and ("640500", "ECOM_GMV", "value") not in feb

    folder = settings.publications / "2025-01"
    assert checksums(folder / "revisions" / "1") == first  # the earlier revision is kept as it was
    assert {r["revision"] for r in read_csv(folder / "indicators.csv")} == {"2"}
    bulletin = (folder / "bulletin.html").read_text(encoding="utf-8")
    assert "第2版" in bulletin and 'data-change-indicator="ECOM_GMV"' in bulletin
    index = (settings.publications / "index.html").read_text(encoding="utf-8")
    assert "2025-01/revisions/1/bulletin.html" in index and "2025-01/revisions/2/bulletin.html" in index
    assert revise_published(settings, "late-refund") == []  # and nothing more until new data comes


def _show(raw: str, unit: str, field: str) -> str:
    """How the bulletin must show a value, written out independently of the page's code."""
    if raw == "":
        return "—"
    x = float(raw)
    if field in ("yoy_growth", "ytd_yoy_growth", "progress"):
        return f"{x * 100:.1f}"
    if unit == "ratio":
        return f"{x * 100:,.2f}"
    if unit in ("pieces", "CNY", "orders"):
        return f"{x / 10000:,.2f}"
    return f"{x:,.0f}"


@pytest.mark.slow
def test_the_bulletin_renders_in_a_browser_with_its_charts_and_the_published_numbers(published):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (make system-deps)")
    rows = {(r["region_code"], r["indicator_code"]): r for r in read_csv(published / "indicators.csv")}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 900, "height": 1200})
        problems = []
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning")
                else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
        page.goto((published / "bulletin.html").as_uri(), wait_until="load")
        assert page.title().startswith("中卫市电子商务与快递物流协同发展监测月报（2025年2月）")

        charts = page.query_selector_all("figure.chart svg")
        assert len(charts) == 5
        for chart in charts:
            box = chart.bounding_box()
            assert box["width"] > 300 and box["height"] > 100
            assert any("\u4e00" <= ch <= "\u9fff" for ch in chart.text_content())  # labels stay text

        cells = page.eval_on_selector_all("td[data-raw]", "tds => tds.map(td => [td.dataset.region, "
                                          "td.dataset.indicator, td.dataset.field, td.dataset.raw, td.innerText])")
        assert len(cells) > 100
        covered = set()
        for region, indicator, field, raw, text in cells:
            row = rows[(region, indicator)]
            assert raw == row[field], (region, indicator, field)
            assert text.strip() == _show(raw, row["unit"], field), (region, indicator, field, raw, text)
            covered.add(indicator)
        assert len(covered) == 27  # every indicator appears in the page

        page.screenshot(path=str(ARTIFACTS / f"bulletin-{MONTH}.png"), full_page=True)
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4")
        browser.close()
    assert problems == []
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 4  # the printable form
    print(f"screenshot: {ARTIFACTS / f'bulletin-{MONTH}.png'}")


@pytest.mark.slow
def test_zw_run_stops_at_the_gate_and_publishes_with_an_acceptance(built, lake_data, tmp_path):
    """The publication DAG through `zw run --only publish`, as an engineer runs it."""
    import subprocess
    import sys

    from zhongwei.warehouse import last_build_path

    base, _ = built
    for path in (base.warehouse, last_build_path(base)):
        shutil.copy(path, tmp_path / path.name)
    shutil.copytree(base.warehouse.parent / ".build", tmp_path / ".build", ignore=shutil.ignore_patterns("pins"))
    env = {**os.environ, "ZW_DATA": str(tmp_path), "ZW_LAKE": str(lake_data / "lake"),
           "ZW_WAREHOUSE": str(tmp_path / base.warehouse.name), "ZW_PII_KEY": "warehouse-tests"}
    for key in ("ZW_INBOX", "ZW_PUBLICATIONS", "AIRFLOW_HOME", "AIRFLOW_CONN_COURIER_EXCHANGE"):
        env.pop(key, None)
    with connect(base.warehouse) as con:
        month = con.execute("select min(data_month) from fct_load_ledger where status = 'failed'").fetchone()[0]
    zw = str(Path(sys.executable).with_name("zw"))

    held = subprocess.run([zw, "run", "--month", month, "--only", "publish"], env=env, capture_output=True,
                          text=True, timeout=600)
    assert held.returncode == 3, held.stdout + held.stderr[-3000:]
    assert f"{month} NOT PUBLISHED: " in held.stdout and "truncated_file" in held.stdout
    assert "conflicting_duplicates" in held.stdout  # keys sent twice with different values, that month too
    assert not (tmp_path / "publications" / month).exists()

    accepted = subprocess.run([zw, "run", "--month", month, "--only", "publish", "--accept-quality-failures",
                               "Known broken test files"], env=env, capture_output=True, text=True, timeout=600)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr[-3000:]
    manifest = json.loads((tmp_path / "publications" / month / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["gate"]["accepted"]["reason"] == "Known broken test files"
    assert "Bulletins:" in accepted.stdout


def test_each_revision_keeps_the_snapshot_it_was_computed_from(published, settings):
    """The manifest names the snapshot (id, checksum); the revision keeps the month's part of it,
    and `zw warehouse open --as-of` re-queries a published figure from it."""
    import subprocess
    import sys

    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    snap = manifest["snapshot"]
    kept = published / "revisions" / "1" / snap["kept"]
    assert snap["id"] and len(snap["sha256"]) == 64 and snap["kept_bytes"] == kept.stat().st_size
    with connect(kept) as con:
        assert con.execute("select snapshot_id from snapshot_info").fetchone()[0] == snap["id"]
        months = {m for (m,) in con.execute("select distinct accepted_month from fct_waybill").fetchall()}
        assert months == {MONTH}
        assert con.execute("select count(*) from fct_waybill").fetchone()[0] == manifest["row_counts"]["waybills_accepted"]
    row = next(r for r in read_csv(published / "indicators.csv") if r["region_code"] == "640500"
               and r["indicator_code"] == "EXP_VOL")
    env = {**os.environ, "ZW_PUBLICATIONS": str(settings.publications), "ZW_WAREHOUSE": str(settings.warehouse)}
    out = subprocess.run([str(Path(sys.executable).with_name("zw")), "warehouse", "open", "--as-of", f"{MONTH}r1",
                          "--sql", "select value from mart_monthly_indicators where period = '%s' and "
                          "region_code = '640500' and indicator_code = 'EXP_VOL'" % MONTH],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.splitlines()[1]) == float(row["value"])
    wrong = subprocess.run([str(Path(sys.executable).with_name("zw")), "warehouse", "open", "--as-of", f"{MONTH}r9"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "has revisions 1" in wrong.stderr
