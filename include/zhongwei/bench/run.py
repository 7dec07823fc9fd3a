"""One scale of the benchmark: the floor, then the pipeline's stages, on a fresh working folder.

Ingestion's courier exchange (the partner's machine in production) is the
simulator in a process of its own, started here beside the ingestion stage
rather than inside it: the stage reaches it through the `courier_exchange`
connection (`AIRFLOW_CONN_COURIER_EXCHANGE`, which `zw run` honours), and its
CPU is measured and reported apart, in neither ingestion nor end to end. Last,
one daily ingestion task on a day with no data: the fixed cost of a task.
"""
from __future__ import annotations

import contextlib
import os
import platform
import secrets
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

import duckdb
import psutil
from rich.progress import Progress

from zhongwei.bench.inbox import inbox_for, inbox_summary
from zhongwei.bench.measure import Measurement, Service, run_stage
from zhongwei.progress import or_quiet

PII_KEY = "bench-only-key"  # hashes in a benchmark lake need not be secret, only stable
SIMULATOR = "exchange_simulator"  # its row in the results, beside the stages
SIMULATOR_READY_S = 3600  # it indexes the month's courier files before it serves


def pipeline_stages() -> list[str]:
    """The end-to-end stages in order; publication once its module is in the tree."""
    try:
        from zhongwei.publish import publish_month  # noqa: F401
    except ImportError:
        return ["ingest", "dbt"]
    return ["ingest", "dbt", "publish"]


def stage_env(inbox: Path, workdir: Path) -> dict[str, str]:
    """Everything in the working folder, Airflow's SQLite state too: scales can run side by side."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ZW_", "AIRFLOW__CORE__", "AIRFLOW_CONN_", "AIRFLOW_HOME"))}
    return {**env, "ZW_DATA": str(workdir), "ZW_INBOX": str(inbox), "ZW_PII_KEY": PII_KEY}


@contextlib.contextmanager
def exchange_simulator(inbox: Path, workdir: Path, env: dict[str, str]) -> Iterator[tuple[dict[str, str], Service]]:
    """`zw exchange serve` over the inbox's courier files on a free port, in a process of its own; yields the
    environment that points `courier_exchange` at it, and the service, stopped (and measured) on leaving."""
    token = secrets.token_urlsafe(16)
    cmd = [sys.executable, "-m", "zhongwei.cli", "exchange", "serve", "--data", str(inbox / "courier"), "--port", "0"]
    service = Service(SIMULATOR, cmd, workdir, {**env, "ZW_EXCHANGE_TOKEN": token})
    try:
        url = service.wait_for(r"\bon (https?://\S+)", SIMULATOR_READY_S).group(1)
        host_port = url.split("://", 1)[1].rstrip("/")
        yield {**env, "AIRFLOW_CONN_COURIER_EXCHANGE": f"http://:{token}@{host_port}"}, service
    finally:
        service.stop({"serves": "ingest"})


def machine() -> dict:
    return {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "duckdb": duckdb.__version__}


def run_scale(scale: float, month: str, cache: Path, log=print, progress: Progress | None = None) -> dict:
    """Measure every stage at `scale`; the results as one JSON-able dict."""
    progress = or_quiet(progress)
    stages = ["floor", *pipeline_stages(), "empty_day"]
    steps = progress.add_task(f"scale {scale:g}: inbox", total=len(stages) + 1)
    inbox = inbox_for(cache, scale, month)
    workdir = cache / f"run-{scale:g}-{month}"
    shutil.rmtree(workdir, ignore_errors=True)  # every run ingests into an empty lake
    workdir.mkdir(parents=True)
    env = stage_env(inbox, workdir)
    progress.update(steps, description=f"scale {scale:g}: prepare")
    prepared = run_stage("prepare", workdir, env, ["--month", month])
    if not prepared.ok:
        raise RuntimeError(f"could not prepare Airflow; see {workdir / 'prepare.log'}")
    progress.advance(steps)
    measured: list[Measurement] = []
    for stage in stages:
        progress.update(steps, description=f"scale {scale:g}: {stage}")
        log(f"scale {scale:g}: {stage} ...")
        if stage == "ingest":
            with exchange_simulator(inbox, workdir, env) as (ingest_env, simulator):
                m = run_stage(stage, workdir, ingest_env, ["--month", month])
            done = [m, simulator.measurement]
        else:
            m = run_stage(stage, workdir, env, ["--month", month])
            done = [m]
        progress.advance(steps)
        for d in done:
            log(f"scale {scale:g}: {d.stage} {'ok' if d.ok else 'FAILED'} in {d.wall_s:.1f} s wall, "
                f"{d.cpu_s:.1f} s CPU, peak {d.peak_rss_bytes / 2**30:.2f} GiB")
        measured += done
        if not m.ok:
            break  # later stages would measure an incomplete month
    return {"scale": scale, "month": month, "inbox": {"path": str(inbox), **inbox_summary(inbox)},
            "machine": machine(), "stages": [asdict(m) for m in measured]}


def run_all(scales: list[float], month: str, cache: Path, out_dir: Path, log=print,
            progress: Progress | None = None) -> list[dict]:
    """Each scale in turn: its results file and table; then the chart over every results file there."""
    from zhongwei.bench import report

    progress = or_quiet(progress)
    results = []
    for scale in progress.track(scales, description="scales"):
        result = run_scale(scale, month, cache, log, progress)
        result["summary"] = report.summarise(result)
        log(f"wrote {report.write(result, out_dir)}")
        log(report.table(result))
        results.append(result)
    everything = report.load_all(out_dir)
    log(report.scaling(everything))
    log(f"wrote {report.chart(everything, out_dir / 'bench.png')}")
    return results
