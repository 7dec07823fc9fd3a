"""The pipeline on a real Airflow cluster: the compose file's components as processes on
the local PostgreSQL (a fresh database each) and Redis. A month is triggered through the
REST API, as an engineer's tooling would; the Assets must then trigger the warehouse
build and the publication, and the outputs must equal the generator's truth."""
from __future__ import annotations

import contextlib
import json
import secrets
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from deploy_helpers import MONTH, fresh_database, mismatches, reachable, redis_prefix, require_service
from receivers import webhook

from zhongwei.config import PROJECT_ROOT, Settings
from zhongwei.deploy.local import AirflowApi, LocalCluster, local_site, wait_until_ready

pytestmark = [pytest.mark.slow, pytest.mark.services]

INGEST = ["ingest_ledgers", "ingest_courier", "ingest_ecommerce"]
PUBLISHES = (PROJECT_ROOT / "dags" / "publish_monthly_indicators.py").exists()
DOWNSTREAM = ["build_warehouse"] + (["publish_monthly_indicators"] if PUBLISHES else [])
TERMINAL = {"success", "failed"}


# a test's cluster is small and impatient: 4 task slots on 2 cores, a dead worker's tasks
# noticed after 20 s instead of 5 min, retried after seconds instead of minutes
TUNING = {
    "AIRFLOW__CORE__PARALLELISM": "4",
    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "90",
    "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "3",
}
TIMINGS: dict[str, dict] = {}  # per scenario, printed at the end of the module
REFERENCE: dict[str, dict] = {}  # the lake after the first scenario, to compare the others with


@pytest.fixture(scope="module", autouse=True)
def services():
    require_service("PostgreSQL (127.0.0.1:5432)", reachable(5432))
    require_service("Redis (127.0.0.1:6379)", reachable(6379))
    yield
    for name, t in TIMINGS.items():
        print(f"\n{name}: " + ", ".join(f"{k} {v:.0f} s" for k, v in t.items()))


@contextlib.contextmanager
def cluster_for(request, tmp_path: Path, inbox: Path, executor: str, alerts_url: str):
    """The whole cluster, started (init, API server, scheduler, DAG processor, triggerer, the
    worker with Celery, the exchange simulator) and stopped, its logs shown when the test failed."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "inbox").symlink_to(inbox)
    token = secrets.token_urlsafe(12)
    with fresh_database() as db, redis_prefix() as prefix:
        site = local_site(Settings.from_env({"ZW_DATA": str(data)}), executor=executor,
                          metadata_db=f"postgresql+psycopg2://postgres@127.0.0.1:5432/{db}",
                          broker="redis://127.0.0.1:6379/0", airflow_home=tmp_path / "airflow",
                          pii_key="test-key")
        env = {**TUNING, "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": prefix,
               "ZW_EXCHANGE_TOKEN": token, "AIRFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(12),
               "ZW_CONN_COURIER_EXCHANGE": f"http://:{token}@127.0.0.1:{site.exchange_port}",
               # alerts through Apprise's json:// to the test's HTTP receiver
               "ZW_CONN_APPRISE_DEFAULT": json.dumps({"conn_type": "apprise", "extra": {
                   "config": {"path": alerts_url.replace("http://", "json://")}}})}
        cluster = LocalCluster(site, tmp_path / "logs", env)
        try:
            began = time.monotonic()
            cluster.start_all()
            api = AirflowApi.for_site(site)
            wait_until_ready(cluster, api, set(INGEST + DOWNSTREAM))
            TIMINGS.setdefault(request.node.name, {})["cluster start"] = time.monotonic() - began
            yield cluster, api
        except BaseException:
            print(cluster.tails(60))
            raise
        finally:
            cluster.stop_all()


def wait(cluster: LocalCluster, api: AirflowApi, done, what: str, timeout: float = 420, on_poll=None) -> dict:
    """Poll the runs of every DAG until `done(runs)`; a failed run of the month (by hand or by
    Assets) fails at once. Returns the runs."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if cluster.dead():
            raise AssertionError(f"components exited: {cluster.dead()}")
        runs = {dag_id: api.runs(dag_id) for dag_id in INGEST + DOWNSTREAM}
        failed = [(d, r["dag_run_id"]) for d, rs in runs.items() for r in rs
                  if r["state"] == "failed" and r["run_type"] in ("manual", "asset_triggered")]
        if failed:
            details = {f"{d} {run_id}": {f"{t['task_id']}[{t['map_index']}]": t["state"]
                                         for t in api.task_instances(d, run_id)} for d, run_id in failed}
            raise AssertionError(f"failed runs (task logs in {cluster.site.airflow_home}/logs): "
                                 f"{json.dumps(details, indent=1)}")
        if on_poll:
            on_poll(runs)
        if done(runs):
            return runs
        time.sleep(2)
    raise AssertionError(f"{what}: not done in {timeout} s: {json.dumps(runs, indent=1)[:3000]}")


def of_type(runs: list[dict], run_type: str) -> list[dict]:
    return [r for r in runs if r["run_type"] == run_type]


def trigger_month(api: AirflowApi, dag_id: str) -> None:
    """Unpause the DAG and trigger it for the month. Unpausing makes the timetable's latest run
    (yesterday's load; e-commerce's would wait hours in its sensors for today's files): it is
    marked done, as an engineer catching up would, since this test is about the month."""
    api.unpause(dag_id)
    deadline = time.monotonic() + 60
    while not (cron := of_type(api.runs(dag_id), "scheduled")):
        assert time.monotonic() < deadline, f"{dag_id}: the scheduler made no run for its timetable"
        time.sleep(0.5)
    api.set_run_state(dag_id, cron[0]["dag_run_id"], "success")
    api.trigger(dag_id, {"month": MONTH})


def succeeded(runs: list[dict]) -> bool:
    return bool(runs) and all(r["state"] == "success" for r in runs)


def run_month(cluster: LocalCluster, api: AirflowApi, timings: dict, on_poll=None) -> dict:
    """1. Load the month's courier and e-commerce feeds (the warehouse and the publication stay
    paused: a build on a half-loaded first month fails). 2. Unpause them and load the month's
    ledgers: the ledger Asset must trigger the warehouse build, whose marts Asset must trigger
    the publication of the month."""
    began = time.monotonic()
    first, last = INGEST[1:], INGEST[0]
    for dag_id in first:
        trigger_month(api, dag_id)
    wait(cluster, api, lambda runs: all(succeeded(of_type(runs[d], "manual")) for d in first), "courier and "
         "e-commerce loads", on_poll=on_poll)
    timings["courier, e-commerce"] = time.monotonic() - began

    began = time.monotonic()
    for dag_id in DOWNSTREAM:
        api.unpause(dag_id)
    trigger_month(api, last)
    quiet = []

    def settled(runs: dict) -> bool:
        quiet.append(succeeded(of_type(runs[last], "manual")) and all(
            of_type(runs[d], "asset_triggered") and all(r["state"] in TERMINAL for r in runs[d])
            and not api.queued_events(d) for d in DOWNSTREAM))
        return quiet[-2:] == [True, True]  # twice in a row: no asset-triggered run about to be created

    # the build is some 90 tasks (a task per dbt node), on the test's 4 slots and 2 cores
    runs = wait(cluster, api, settled, "ledgers, warehouse build and publication", timeout=900, on_poll=on_poll)
    timings["ledgers, build, publish"] = time.monotonic() - began
    return runs


def lake_outcome(lake: Path) -> dict:
    """Each ledger entry's counts and status, and the rows of each data file."""
    out = {}
    for path in sorted((lake / "ledger").glob("*/*.json")):
        e = json.loads(path.read_text(encoding="utf-8"))
        out[str(path.relative_to(lake))] = {k: e[k] for k in ("status", "rows_arrived", "rows_loaded",
                                                               "rows_quarantined", "duplicates")}
    for path in sorted((lake / "raw").rglob("*.parquet")):
        out[str(path.relative_to(lake))] = pq.read_metadata(path).num_rows
    return out


def check_outputs(data: Path, inbox: Path) -> dict:
    """The warehouse equals the truth, every batch loaded once and balanced, the publication
    equals the truth too. Returns the lake's outcome."""
    import duckdb

    settings = Settings.from_env({"ZW_DATA": str(data)})
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        mart = con.sql("select * from mart_monthly_indicators").df()
    truth = inbox / "_truth" / "indicators.csv"
    assert set(mart["period"]) == {MONTH}
    assert mismatches(mart, truth) == []

    entries = [json.loads(p.read_text(encoding="utf-8")) for p in (settings.lake / "ledger").glob("*/*.json")]
    assert {e["feed"] for e in entries} >= {"courier_waybills", "courier_events", "ecommerce", "outlets", "registry"}
    claimed = []
    for e in entries:
        assert e["status"] == "loaded", e
        assert e["rows_arrived"] == e["rows_loaded"] + e["rows_quarantined"] + e["duplicates"], e["batch_id"]
        raw = [f for f in e["files"] if f.startswith("raw/")]
        claimed += raw
        if e["feed"] in ("courier_waybills", "courier_events", "outlets"):  # one table: rows are records
            assert sum(pq.read_metadata(settings.lake / f).num_rows for f in raw) == e["rows_loaded"], e["batch_id"]
    # no data file that no ledger entry accounts for, none claimed twice: nothing loaded twice
    on_disk = sorted(str(p.relative_to(settings.lake)) for p in (settings.lake / "raw").rglob("*.parquet"))
    assert sorted(claimed) == on_disk

    if PUBLISHES:
        published = pd.read_csv(settings.publications / MONTH / "indicators.csv",
                                dtype={"period": str, "region_code": str, "indicator_code": str})
        assert len(published) == len(mart)
        assert mismatches(published, truth) == []
    return lake_outcome(settings.lake)


def run_scenario(request, tmp_path, inbox, executor, on_poll=None) -> list[str]:
    """The month through a fresh cluster; returns the ingest tasks that ran more than once."""
    timings = TIMINGS.setdefault(request.node.name, {})
    with webhook() as (alerts_url, alerts):
        with cluster_for(request, tmp_path, inbox, executor, alerts_url) as (cluster, api):
            runs = run_month(cluster, api, timings, on_poll=on_poll and (lambda r: on_poll(cluster, api, r)))
            retried = [f"{d}.{t['task_id']}[{t['map_index']}] try {t['try_number']}" for d in INGEST
                       for r in of_type(api.runs(d), "manual")
                       for t in api.task_instances(d, r["dag_run_id"]) if t["try_number"] > 1]
            scheduled_failures = {r["dag_run_id"] for d in DOWNSTREAM for r in of_type(runs[d], "scheduled")
                                  if r["state"] == "failed"}
    failures = [a["body"] for a in alerts if a["body"]["type"] == "failure"]
    # the publication's own cron run (last month, without data) fails its gate: that alone is alerted
    assert {f["title"].split(" failed in run ")[1].split(" (")[0] for f in failures} == scheduled_failures, alerts
    for f in failures:  # a link to the task in the UI, then the exception
        link, exception = f["message"].split("\n\n")[:2]
        assert f"]({api.base_url.replace('127.0.0.1', 'localhost')}/dags/" in link and exception, f
    # that cron run alone can be late (its deadline, the 5th of this month at 12:00, has mostly passed)
    warnings = [a["body"]["title"] for a in alerts if a["body"]["type"] == "warning"]
    late = [t for t in warnings if " has not published " in t]
    assert all("; run scheduled__" in title for title in late), late
    # and the month's courier feeds, loaded in 2025, are long past their freshness limit at every build
    stale = [t for t in warnings if t not in late]
    assert stale and all(t.endswith(": lake.courier_events, lake.courier_waybills") for t in stale), stale
    for d in DOWNSTREAM:  # the Assets did it
        assert succeeded(of_type(runs[d], "asset_triggered")), runs[d]
    outcome = check_outputs(tmp_path / "data", inbox)
    REFERENCE.setdefault("lake", outcome)
    assert outcome == REFERENCE["lake"]  # every scenario loads exactly the same batches and rows
    return retried


def test_a_missed_publication_deadline_is_alerted(request, tmp_path, month_inbox):
    """The scheduler creates the deadline of a publication run from its logical date (here 2025-04-05 09:00
    Beijing time, publishing 2025-03: due 12:00 that day, long past), marks it missed and has the triggerer
    run the callback, which alerts through the Apprise notifier. The DAG stays paused: no task runs."""
    with webhook() as (alerts_url, alerts):
        with cluster_for(request, tmp_path, month_inbox, "LocalExecutor", alerts_url) as (cluster, api):
            began = time.monotonic()
            run_id = api.call("POST", "/dags/publish_monthly_indicators/dagRuns",
                              json={"logical_date": "2025-04-05T01:00:00Z", "conf": {}})["dag_run_id"]
            while not alerts and time.monotonic() - began < 120 and not cluster.dead():
                time.sleep(1)
            TIMINGS.setdefault(request.node.name, {})["deadline alert"] = time.monotonic() - began
    (alert,) = alerts
    assert alert["body"]["type"] == "warning"
    assert alert["body"]["title"].startswith(
        "Airflow: publish_monthly_indicators has not published 2025-03 by its deadline 2025-04-05 12:00 "
        f"(Asia/Shanghai); run {run_id} is "), alert


def test_month_with_local_executor(request, tmp_path, month_inbox):
    assert run_scenario(request, tmp_path, month_inbox, "LocalExecutor") == []


def test_month_with_celery_executor_and_a_killed_worker(request, tmp_path, month_inbox):
    """kill -9 the Celery worker (and the tasks it forked) while ingestion tasks run, start it
    again: the scheduler notices the tasks' missing heartbeats, retries them, and the month comes
    out the same as without the crash, nothing counted twice."""
    killed = {}

    def kill_once(cluster: LocalCluster, api: AirflowApi, runs: dict) -> None:
        if killed:
            return
        running = [(d, t["task_id"], t["map_index"]) for d in INGEST for r in of_type(runs[d], "manual")
                   if r["state"] == "running" for t in api.task_instances(d, r["dag_run_id"])
                   if t["state"] == "running" and t["task_id"].startswith("ingest_")]
        if len(running) >= 2:
            cluster.kill("airflow-worker")
            killed["tasks"] = running
            time.sleep(3)
            cluster.start("airflow-worker")

    retried = run_scenario(request, tmp_path, month_inbox, "CeleryExecutor", on_poll=kill_once)
    assert killed, "no ingestion task was running to be killed"
    assert retried, f"killed the worker running {killed['tasks']}, but no task ran a second time"
