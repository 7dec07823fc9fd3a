"""What `make demo` then `make airflow` shows, in Debian's chromium: a month run with `zw run`, then
`zw airflow standalone` on the same data folder; logged in with the login it prints, the UI shows
the runs `zw run` made (grid, a task's log, asset events) and the Browse menu opens the dbt docs,
the GX Data Docs and the publications. Its screenshot of the build's grid (a task per dbt node) with
the Browse menu open is docs/airflow-ui.png."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from deploy_helpers import MONTH, start_standalone

from zhongwei.config import PROJECT_ROOT

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = PROJECT_ROOT / "docs" / "airflow-ui.png"
ZW = str(Path(sys.executable).with_name("zw"))


@pytest.fixture(scope="module")
def data(month_inbox, tmp_path_factory) -> tuple[Path, dict]:
    """A data folder where `zw run` ran MONTH through the whole chain, publication included."""
    data = tmp_path_factory.mktemp("ui-data")
    (data / "inbox").symlink_to(month_inbox)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ZW_"))}
    env.update({"ZW_DATA": str(data), "ZW_PII_KEY": "ui-test"})
    began = time.monotonic()
    done = subprocess.run([ZW, "run", "--month", MONTH, "--accept-quality-failures", "UI test: one month alone"],
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"zw run: {time.monotonic() - began:.0f} s")
    return data, env


@pytest.fixture(scope="module")
def site(data):
    """`zw airflow standalone` on that folder: its UI's address and the login it printed."""
    folder, env = data
    log = folder / "standalone.log"
    proc, _ = start_standalone(env, log)
    try:
        yield re.search(r"Airflow UI: (\S+) +login: (\S+) / (\S+)", log.read_text()).groups()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def test_the_ui_shows_what_zw_run_ran_and_the_sites(site):
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (make system-deps)")
    url, user, password = site
    began = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        # a data engineer in Zhongwei: the UI shows times in the browser's time zone
        page = browser.new_context(viewport={"width": 1400, "height": 900}, timezone_id="Asia/Shanghai").new_page()
        page.goto(url)
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{url}/")

        # the grid shows the run `zw run` made, and the asset events it made
        page.goto(f"{url}/dags/ingest_courier")
        run = page.locator("a[href*='/runs/manual__']").first
        expect(run).to_be_visible(timeout=30_000)
        expect(page.get_by_text("lake_courier").first).to_be_visible()
        # a task's log opens: written by `zw run` where the API server reads it
        page.goto(f"{url}{run.get_attribute('href').rstrip('/')}/tasks/list_companies")
        expect(page.get_by_text("Done. Returned value was: ['DBL'")).to_be_visible(timeout=30_000)

        # the build's grid: every dbt seed, model and model's tests a task (cosmos), the sites in the menu
        page.goto(f"{url}/dags/build_warehouse")
        expect(page.locator("a[href*='/runs/manual__']").first).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Expand all task groups").click()
        for task in ("dbt_producer_watcher", "zhongwei_divisions", "stg_courier__waybills", "int_courier__events"):
            expect(page.get_by_text(task).first).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Browse").click()
        for name in ("dbt docs", "GX Data Docs", "Publications"):
            expect(page.get_by_role("menuitem", name=name)).to_be_visible()
        page.wait_for_timeout(1000)  # the grid's bars drawn
        page.screenshot(path=str(SCREENSHOT))
        page.keyboard.press("Escape")

        # the Browse menu's sites, each in a frame of the UI
        for name, content in [("dbt docs", "Welcome to the auto-generated documentation for your dbt project"),
                              ("GX Data Docs", "Validation Results"),
                              ("Publications", "{}年{}月".format(*map(int, MONTH.split("-"))))]:
            page.get_by_role("button", name="Browse").click()
            page.get_by_role("menuitem", name=name).click()
            expect(page.frame_locator("iframe").get_by_text(content).first).to_be_attached(timeout=30_000)
        browser.close()
    print(f"browser: {time.monotonic() - began:.0f} s; screenshot {SCREENSHOT}")
