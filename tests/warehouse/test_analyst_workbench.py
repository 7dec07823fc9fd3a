"""`zw analyst` on the generated 14-month warehouse: the command started as a person starts it, the
workbench driven in Debian's chromium (the bulletin table against the snapshot, a dropdown, a typed
query, a refused write, the revisions of a month, the catalog link), and everything stopped after."""
from __future__ import annotations

import csv
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from wh_helpers import connect as connect_snapshot
from zhongwei.config import PROJECT_ROOT

MONTH = "2025-02"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
ARTIFACTS = Path(os.environ.get("ZW_TEST_ARTIFACTS", Path(tempfile.gettempdir()) / "zw-test-artifacts"))
SCREENSHOT = PROJECT_ROOT / "docs" / "analyst-workbench.png"


@pytest.fixture(scope="module")
def settings(built, tmp_path_factory):
    """The built snapshot, and MONTH published twice: revision 1 written as if the city's parcel
    count had been one more, so that revision 2 (the snapshot's own numbers) lists one change."""
    from zhongwei.publish import publish_month

    built_settings, result = built
    assert result.success, result.summary()
    settings = replace(built_settings, publications=tmp_path_factory.mktemp("publications"))
    first = publish_month(settings, MONTH)
    published = first.folder / "revisions" / "1" / "indicators.csv"
    with published.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if (row["region_code"], row["indicator_code"]) == ("640500", "EXP_VOL"):
            row["value"] = str(int(row["value"]) + 1)
    with published.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    second = publish_month(settings, MONTH)
    assert second.revision == 2 and [(c["indicator_code"], c["field"], c["change"]) for c in second.changes] == [
        ("EXP_VOL", "value", "-1")]
    return settings


def test_the_workbench_connection_reads_the_snapshot_and_cannot_write_or_touch_files(built, tmp_path):
    import duckdb

    from zhongwei.analyst import connect, snapshot_info

    settings, _ = built
    con = connect(settings.warehouse)
    assert con.execute("select count(*) from mart_monthly_indicators").fetchone()[0] > 0
    assert snapshot_info(con)["snapshot_id"]
    for statement in ("create table x as select 1", "delete from mart_monthly_indicators",
                      f"copy mart_monthly_indicators to '{tmp_path / 'out.csv'}'",
                      f"attach '{tmp_path / 'other.duckdb'}' as other", "set enable_external_access = true"):
        with pytest.raises(duckdb.Error):
            con.execute(statement)
    assert list(tmp_path.iterdir()) == []


def test_zw_analyst_refuses_without_a_snapshot(tmp_path):
    missing = tmp_path / "warehouse.duckdb"
    run = subprocess.run([sys.executable, "-m", "zhongwei.cli", "analyst", "--snapshot", str(missing)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"no warehouse snapshot at {missing} yet: build it first (zw run --month YYYY-MM)"]


def _two_free_ports() -> int:
    """A port p with p + 1 free as well (the catalog's)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no two consecutive free ports")


def _cells(page, contains: str) -> list[list[str]]:
    """The cells of every table row on the page holding `contains`."""
    rows = page.locator("tr").filter(has_text=contains)
    return [[t.strip() for t in rows.nth(i).locator("td").all_inner_texts()] for i in range(rows.count())]


def _stop(proc: subprocess.Popen) -> list:
    """SIGTERM, as a service manager stops it; the processes that outlived the command (then killed)."""
    import psutil

    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    _, alive = psutil.wait_procs(children, timeout=10)
    for child in alive:
        child.kill()
    return alive


def _number(text: str) -> float:
    return float(text.replace(",", ""))


@pytest.mark.slow
def test_zw_analyst_serves_a_workbench_that_queries_the_snapshot_in_a_browser(settings, tmp_path):
    from playwright.sync_api import sync_playwright

    from zhongwei.analyst.command import CATALOG_DIR, CATALOG_FILES

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (make system-deps)")
    if not all((CATALOG_DIR / f).exists() for f in CATALOG_FILES):
        from zhongwei.warehouse import docs_generate

        docs_generate(settings)
    with connect_snapshot(settings.warehouse) as con:
        def city_value(period: str, indicator: str) -> float:
            return con.execute("select value from mart_monthly_indicators where period = ? and region_code = '640500' "
                               "and indicator_code = ?", [period, indicator]).fetchone()[0]

        latest = con.execute("select max(period) from mart_monthly_indicators").fetchone()[0]
        earlier = con.execute("select max(period) from mart_monthly_indicators where period < ?",
                              [latest]).fetchone()[0]
        expected = {p: city_value(p, "EXP_VOL") for p in (latest, earlier, MONTH)}
        waybills = con.execute("select count(*) from fct_waybill where accepted_month = ?", [MONTH]).fetchone()[0]

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _two_free_ports()
    env = {**os.environ, "ZW_DATA": str(settings.data_dir), "ZW_PUBLICATIONS": str(settings.publications)}
    started = time.monotonic()
    log = tmp_path / "analyst.log"  # marimo's log: a file, as a pipe nobody reads could fill and block it
    with log.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "zhongwei.cli", "analyst", "--port", str(port),
                                 "--snapshot", str(settings.warehouse)],
                                env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        printed = []
        while not any(line.startswith("Snapshot:") for line in printed):
            line = proc.stdout.readline()  # the command gives up by itself if marimo does not start
            assert line, f"zw analyst ended: {proc.wait()} {log.read_text()}"
            printed.append(line.strip())
        urls = dict(re.match(r"(\w+):\s+(\S+)", line).groups() for line in printed if ": " in line)
        assert urls["Workbench"] == f"http://127.0.0.1:{port}/" and urls["Catalog"] == f"http://127.0.0.1:{port + 1}/"
        with pytest.raises(urllib.error.HTTPError, match="404"):  # the catalog serves the docs only
            urllib.request.urlopen(urls["Catalog"] + "run_results.json", timeout=10)

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(urls["Workbench"])

            # 1. the bulletin of the latest month: the city's parcel count as the snapshot has it
            page.get_by_text(f"bulletin {latest}", exact=True).wait_for(timeout=90_000)
            page.locator("tr").filter(has_text="EXP_VOL").first.wait_for()
            [row] = [c for c in _cells(page, "640500") if c[:4] == ["EXP_VOL", "快递业务量", "640500", "中卫市"]]
            assert _number(row[4]) == pytest.approx(expected[latest])
            page.screenshot(path=str(SCREENSHOT))
            print(f"workbench loaded {time.monotonic() - started:.1f}s after the command started")

            # the month's dropdown re-runs the example's query
            page.locator("select").first.select_option(earlier)
            page.get_by_text(f"bulletin {earlier}", exact=True).wait_for(timeout=30_000)
            [row] = [c for c in _cells(page, "640500") if c[:4] == ["EXP_VOL", "快递业务量", "640500", "中卫市"]]
            assert _number(row[4]) == pytest.approx(expected[earlier])

            # 4. revision 2 of the month lists the one change
            assert ["2", "640500", "中卫市", "EXP_VOL", "快递业务量", "pieces", "value",
                    str(int(expected[MONTH]) + 1), str(int(expected[MONTH])), "-1"] in _cells(page, "value")

            # the free query: typed, run, read back
            def run_query(sql: str) -> None:
                editor = page.locator(".cm-content").last
                editor.click()
                page.keyboard.press("Control+A")
                page.keyboard.press("Delete")
                page.keyboard.insert_text(sql)  # as pasted: no auto-closed quotes, no completion popup
                page.get_by_role("button", name="Run query").click()

            run_query(f"select count(*) as waybills_in_month from fct_waybill where accepted_month = '{MONTH}'")
            header = page.locator("th").filter(has_text="waybills_in_month")
            header.wait_for(timeout=30_000)
            cell = page.locator("table").filter(has=header).locator("td").first
            assert _number(cell.inner_text()) == waybills

            run_query("create table x as select 1")
            refused = page.get_by_text("read-only mode")
            refused.wait_for(timeout=30_000)
            refused.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "analyst-workbench-query.png"))

            # the catalog: dbt docs listing the models
            link = page.get_by_role("link", name="Warehouse catalog (dbt docs)")
            assert link.get_attribute("href") == urls["Catalog"]
            page.goto(urls["Catalog"] + "#!/model/model.zhongwei.mart_monthly_indicators")
            page.get_by_text("mart_monthly_indicators").first.wait_for(timeout=60_000)
            page.get_by_text("indicator_code").first.wait_for()  # its columns, from the catalog
            assert page.title() == "dbt Docs"
            page.screenshot(path=str(ARTIFACTS / "analyst-catalog.png"))
            browser.close()
        assert errors == []
    finally:
        leftover = _stop(proc)
    assert proc.returncode == 0 and leftover == [], "marimo outlived the command"
    for p in (port, port + 1):
        with socket.socket() as s, pytest.raises(OSError):
            s.connect(("127.0.0.1", p))
