"""`zw run`: a month's DAG runs, locally, through Airflow itself.

Runs the real DAGs with `dag.test()` in this one process (a CLI call per DAG
run costs seconds of start-up), in the order the Assets chain them in
production: ingestion (each DAG with `{"month": M}`, so one run covers the
whole month instead of thirty daily ones), the warehouse build, then the
publication, which stops at its gate like the scheduled DAG does. Airflow's own state
lives in `$ZW_DATA/airflow` (SQLite, and each task's log where a worker writes it) unless
AIRFLOW_HOME says otherwise: `zw airflow standalone` shares it, so its UI shows these runs.
When no `courier_exchange` connection is configured, the exchange simulator
serves `$ZW_INBOX/courier/` on a free loopback port for the run.
"""
from __future__ import annotations

import contextlib
import io
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from rich.progress import Progress

from zhongwei.config import PROJECT_ROOT, TIMEZONE, Settings
from zhongwei.progress import or_quiet

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
        "AIRFLOW__CORE__FERNET_KEY": fernet_key(Path(home)),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": TIMEZONE,
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",  # cosmos reports each task run to its vendor otherwise
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
    }


def fernet_key(home: Path) -> str:
    """The key of the connections stored in this Airflow home, made once: `zw run` and `zw airflow
    standalone` (which stores them) share the home, so they must share the key."""
    path = home / "fernet.key"
    if not path.exists():
        from cryptography.fernet import Fernet

        home.mkdir(parents=True, exist_ok=True)
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


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


def load_dags(path: Path = PROJECT_ROOT / "dags") -> dict:
    """The DAGs of the folder (or of one DAG file)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(path))
    if bag.import_errors:
        raise RuntimeError(f"DAGs failed to import: {bag.import_errors}")
    return bag.dags


class _Tee(io.TextIOBase):
    """A text stream writing to each of several: the console and a task's log."""
    encoding = "utf-8"

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


@contextlib.contextmanager
def _task_log(ti) -> Iterator[Path]:
    """The task's log where the API server reads it, as a worker writes it: JSON lines from INFO up
    (Airflow's logging pointed at the file for the task's duration), and what the task prints,
    which still reaches the console too."""
    from airflow._shared.logging import configure_logging
    from airflow.logging_config import configure_logging as console_logging
    from airflow.sdk.log import init_log_file, mask_logs
    from airflow.utils.helpers import log_filename_template_renderer

    path = init_log_file(log_filename_template_renderer()(ti=ti))
    hook = sys.excepthook  # which Airflow's JSON logging replaces
    with path.open("ab") as out:
        printed = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
        configure_logging(json_output=True, output=out, log_level="INFO", extra_processors=(mask_logs,),
                          cache_logger_on_first_use=False)  # loggers made now must not keep the file
        try:
            with contextlib.redirect_stdout(_Tee(sys.stdout, printed)), \
                    contextlib.redirect_stderr(_Tee(sys.stderr, printed)):
                yield path
        finally:
            console_logging()
            sys.excepthook = hook
            printed.detach()


@contextlib.contextmanager
def task_logs() -> Iterator[None]:
    """Each task's log in $AIRFLOW_HOME/logs, so that it opens in the UI: dag.test() runs the tasks in
    this process (one at a time, through `run_task_in_process`) and logs them to the console only.
    A failed task's error still goes to the console, with where its log is."""
    from unittest import mock

    from airflow.sdk.execution_time import supervisor

    run_in_process = supervisor.run_task_in_process

    def logged(ti, task, client=None):
        with _task_log(ti) as path:
            result = run_in_process(ti, task, client)
        if result.error is not None and result.state in ("failed", "up_for_retry"):
            print(f"{ti.dag_id}.{ti.task_id} {result.state.value}: {type(result.error).__name__}: {result.error}\n"
                  f"  log: {path}", file=sys.stderr)
        return result

    with mock.patch.object(supervisor, "run_task_in_process", logged):
        yield


def run_dag(dag, conf: dict) -> DagOutcome:
    from airflow.utils.state import TaskInstanceState

    from zhongwei.xcom import FAILED_BATCHES, GATE

    # a distinct logical date per call: reruns of a month are new DAG runs, as in production
    start = time.monotonic()
    # no scheduler checks a deadline here, and Airflow 3.3.2's dag.test() fails when it clears the
    # deadlines of a run that succeeded (it looks them up by its serialized alerts instead of their ids)
    dag.deadline = None
    run = dag.test(run_conf=conf, logical_date=datetime.now().astimezone())
    failed, crashed, batches, blocked, skipped = [], [], [], [], []
    tis = run.get_task_instances()
    states = {ti.task_id: ti.state for ti in tis}
    for ti in tis:
        # a skip or failure is named where it happened, not in each of the tasks after it
        if ti.state == TaskInstanceState.SKIPPED and not any(
                states.get(u) == TaskInstanceState.SKIPPED for u in dag.task_dict[ti.task_id].upstream_task_ids):
            skipped.append(ti.task_id)
        if ti.state == TaskInstanceState.FAILED:
            failed.append(ti.task_id)
            reported = ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index, key=FAILED_BATCHES)
            gate = ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index, key=GATE)
            if reported:
                batches.extend(reported)
            elif gate:
                blocked.append(gate)
            else:
                crashed.append(ti.task_id)
    return DagOutcome(dag.dag_id, str(run.state), failed, batches, blocked, crashed, time.monotonic() - start,
                      skipped)


def run_month(month: str, only: str | None = None, accept: str | None = None,
              settings: Settings | None = None, progress: Progress | None = None) -> list[DagOutcome]:
    """Run the chain (or one stage of it) for a month or a range (each DAG once, over all its
    months); stops after a stage in which a task crashed."""
    settings = settings or Settings.from_env()
    progress = or_quiet(progress)
    stages = {stage: dag_ids for stage, dag_ids in STAGES.items() if not only or stage == only}
    runs = progress.add_task(f"{month}: preparing Airflow", total=sum(map(len, stages.values())))
    prepare_airflow(settings)
    dags = load_dags()
    conf = {"ingest": {"month": month}, "build": {},
            "publish": {"month": month, "accept_quality_failures": accept}}
    outcomes: list[DagOutcome] = []
    with courier_exchange(settings), task_logs():
        for stage, dag_ids in stages.items():
            for dag_id in dag_ids:
                progress.update(runs, description=f"{month}: {stage} {dag_id}")
                outcomes.append(run_dag(dags[dag_id], conf[stage]))
                progress.advance(runs)
            if any(o.crashed_tasks for o in outcomes):
                break
    return outcomes
