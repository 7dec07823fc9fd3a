"""`zw run`: a month's DAG runs, locally, through Airflow itself.

Runs the real DAGs with `dag.test()` in this one process (a CLI call per DAG
run costs seconds of start-up), in the order the Assets chain them in
production: ingestion (each DAG with `{"month": M}`, so one run covers the
whole month instead of thirty daily ones), the warehouse build, then the
publication, which stops at its gate like the scheduled DAG does. Airflow's own state
lives in `$ZW_DATA/airflow` (SQLite) unless AIRFLOW_HOME says otherwise.
When no `courier_exchange` connection is configured, the exchange simulator
serves `$ZW_INBOX/courier/` on a free loopback port for the run.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from zhongwei.config import PROJECT_ROOT, TIMEZONE, Settings

STAGES = {
    "ingest": ["ingest_ledgers", "ingest_courier", "ingest_ecommerce"],
    "build": ["build_warehouse"],
    "publish": ["publish_monthly_indicators"],
}


def airflow_env(settings: Settings) -> dict[str, str]:
    """The environment Airflow runs in here: this project's DAGs, no examples, local state."""
    home = os.environ.get("AIRFLOW_HOME", str(settings.data_dir / "airflow"))
    return {
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": TIMEZONE,
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
    }


def prepare_airflow(settings: Settings) -> None:
    """Point Airflow at this project and make sure its metadata database exists."""
    env = airflow_env(settings)
    os.environ.update({k: v for k, v in env.items() if k not in os.environ or k == "AIRFLOW__CORE__DAGS_FOLDER"})
    home = Path(os.environ["AIRFLOW_HOME"])
    marker = home / ".migrated"
    if not marker.exists():
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], check=True,
                       stdout=subprocess.DEVNULL, env=os.environ.copy())
        from zhongwei.airflow_setup import ensure_pools

        ensure_pools()
        marker.touch()


@contextlib.contextmanager
def courier_exchange(settings: Settings) -> Iterator[str | None]:
    """The configured exchange, or the simulator over the inbox's courier files."""
    if os.environ.get("AIRFLOW_CONN_COURIER_EXCHANGE") or not (settings.inbox / "courier").exists():
        yield None
        return
    from zhongwei.exchange.server import serve_in_thread

    token = secrets.token_urlsafe(16)
    with serve_in_thread(settings.inbox / "courier", token=token) as base_url:
        host_port = base_url.split("://", 1)[1]
        os.environ["AIRFLOW_CONN_COURIER_EXCHANGE"] = f"http://:{token}@{host_port}"
        try:
            yield base_url
        finally:
            os.environ.pop("AIRFLOW_CONN_COURIER_EXCHANGE", None)


@dataclass
class DagOutcome:
    dag_id: str
    state: str
    failed_tasks: list[str]
    failed_batches: list[str]  # batches that failed their checks: the data's fault
    blocked: list[dict]  # months the publication's gate stopped: their checks
    crashed_tasks: list[str]  # tasks that failed for any other reason: the code's or the system's
    seconds: float = 0.0
    skipped_tasks: list[str] = field(default_factory=list)  # e.g. a build before every feed has landed


def load_dags() -> dict:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"DAGs failed to import: {bag.import_errors}")
    return bag.dags


def run_dag(dag, conf: dict) -> DagOutcome:
    from airflow.utils.state import TaskInstanceState

    from zhongwei.xcom import FAILED_BATCHES, GATE

    # a distinct logical date per call: reruns of a month are new DAG runs, as in production
    start = time.monotonic()
    run = dag.test(run_conf=conf, logical_date=datetime.now().astimezone())
    failed, crashed, batches, blocked, skipped = [], [], [], [], []
    for ti in run.get_task_instances():
        if ti.state == TaskInstanceState.SKIPPED:
            skipped.append(ti.task_id)
        if ti.state in (TaskInstanceState.FAILED, TaskInstanceState.UPSTREAM_FAILED):
            failed.append(ti.task_id)
            reported = ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index, key=FAILED_BATCHES)
            gate = ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index, key=GATE)
            if reported:
                batches.extend(reported)
            elif gate:
                blocked.append(gate)
            elif ti.state == TaskInstanceState.FAILED:
                crashed.append(ti.task_id)
    return DagOutcome(dag.dag_id, str(run.state), failed, batches, blocked, crashed, time.monotonic() - start,
                      skipped)


def run_month(month: str, only: str | None = None, accept: str | None = None,
              settings: Settings | None = None) -> list[DagOutcome]:
    """Run the chain (or one stage of it) for a month or a range; stops after a crash."""
    settings = settings or Settings.from_env()
    prepare_airflow(settings)
    dags = load_dags()
    conf = {"ingest": {"month": month}, "build": {},
            "publish": {"month": month, "accept_quality_failures": accept}}
    outcomes: list[DagOutcome] = []
    with courier_exchange(settings):
        for stage, dag_ids in STAGES.items():
            if only and stage != only:
                continue
            outcomes += [run_dag(dags[dag_id], conf[stage]) for dag_id in dag_ids]
            if any(o.crashed_tasks for o in outcomes):
                break
    return outcomes
