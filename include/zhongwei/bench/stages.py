"""What a benchmark child process runs: one stage, with a JSON report of its own.

`python -m zhongwei.bench.stages STAGE --report FILE --month YYYY-MM`, with the
ZW_* variables pointing at the benchmark's inbox and working folder.

Ingestion runs exactly what `zw run --month M --only ingest` runs: the three
ingestion DAGs through Airflow's `dag.test()` in this process, so Airflow's own
overhead (DAG parsing, task state in its database, the courier feed's HTTP
client) is part of the stage. The courier exchange is not: the benchmark runs
its simulator in a process of its own and points `courier_exchange` at it
(`AIRFLOW_CONN_COURIER_EXCHANGE`), as production points it at the partner's API.
The Great Expectations calls and the tasks' entry points are wrapped with
timers, which is how the quality suites' share and each task's cost are told
apart without changing the code measured.

`empty_day` runs one daily ingestion task (PDD's export, `ingest_ecommerce.ingest_pdd`)
through `dag.test()` for the day before the month, which has no file: what every
daily run pays before it reads a record (interpreter and imports, Airflow, the
Great Expectations context), measured apart from the month's ingestion.
"""
from __future__ import annotations

import argparse
import functools
import json
import resource
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from zhongwei.config import PROJECT_ROOT, Settings

TASK_FUNCTIONS = ("ingest_courier_company", "ingest_platform", "ingest_outlets", "ingest_registry")
EMPTY_DAY_TASK = ("ingest_ecommerce", "ingest_pdd")  # a daily task reading files: no exchange needed


class Timers:
    """Wall and CPU seconds (of the calling thread) per key, summed over calls, and the
    process's memory high-water mark when the last call returned (which task set the peak)."""

    def __init__(self) -> None:
        self.seconds: dict[str, dict[str, float]] = defaultdict(lambda: {"wall_s": 0.0, "cpu_s": 0.0, "calls": 0})

    def wrap(self, owner, name: str, key=lambda *args: None) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            wall, cpu = time.monotonic(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                entry = self.seconds[key(*args) or name]
                entry["wall_s"] += time.monotonic() - wall
                entry["cpu_s"] += time.thread_time() - cpu
                entry["calls"] += 1
                entry["rss_high_water_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)

        setattr(owner, name, timed)


def _time_quality(timers: Timers) -> None:
    from zhongwei.quality.gx import Quality

    timers.wrap(Quality, "__init__", lambda *a: "gx_context")
    timers.wrap(Quality, "validate", lambda self, suite, *a: f"gx_validate:{suite}")


def _time_tasks(timers: Timers) -> None:
    """Each ingestion task's entry point, keyed by its function and first argument (feed, company)."""
    from zhongwei.ingest import tasks

    for name in TASK_FUNCTIONS:
        timers.wrap(tasks, name, lambda *a, name=name: f"task:{name}:{a[0] if isinstance(a[0], str) else ''}")


def quality_seconds(timers: dict) -> dict[str, float]:
    """The quality suites' share: GX context set-up and every validation."""
    gx = [v for k, v in timers.items() if k.startswith("gx_")]
    return {"wall_s": sum(v["wall_s"] for v in gx), "cpu_s": sum(v["cpu_s"] for v in gx)}


def prepare(settings: Settings, month: str, timers: Timers) -> dict:
    """Airflow's metadata database in the working folder, migrated before anything is measured."""
    from zhongwei.runner import prepare_airflow

    prepare_airflow(settings)
    return {}


def floor(settings: Settings, month: str, timers: Timers) -> dict:
    from zhongwei.bench.floor import load

    return load(settings.inbox, settings.data_dir / "floor.duckdb", settings.data_dir / "floor-scratch")


def ingest(settings: Settings, month: str, timers: Timers) -> dict:
    from zhongwei.runner import prepare_airflow, run_month

    prepare_airflow(settings)  # Airflow reads its settings once, at first import: point it at our DAGs before that
    from zhongwei.lake import Lake

    _time_quality(timers)
    _time_tasks(timers)
    outcomes = run_month(month, only="ingest", settings=settings)
    lake = Lake(settings.lake)
    feeds = {}
    for feed in lake.feeds():
        entries = lake.ledger(feed)
        feeds[feed] = {k: sum(e[k] for e in entries) for k in ("rows_arrived", "rows_loaded", "rows_quarantined")}
        feeds[feed]["batches"] = len(entries)
    return {"ok": all(o.state == "success" for o in outcomes), "dags": {o.dag_id: o.state for o in outcomes},
            "failed_batches": [b for o in outcomes for b in o.failed_batches], "feeds": feeds}


def empty_day(settings: Settings, month: str, timers: Timers) -> dict:
    from zhongwei.ingest.windows import Window
    from zhongwei.runner import load_dags, prepare_airflow, run_dag, task_logs

    prepare_airflow(settings)  # before Airflow's first import, as in `ingest`
    dag_id, task_id = EMPTY_DAY_TASK
    dag = load_dags(PROJECT_ROOT / "dags" / f"{dag_id}.py")[dag_id].partial_subset(task_id, include_upstream=False)
    # the task's callable timed whole: the modules it imports when it starts (the ingestion code, Great
    # Expectations) are imported in every task's process in production; nothing here imports them first
    timers.wrap(dag.task_dict[task_id], "python_callable", lambda *a: f"task:{dag_id}.{task_id}")
    day = Window.month(month).first - timedelta(days=1)
    with task_logs():
        outcome = run_dag(dag, {"date": day.isoformat()})
    return {"ok": outcome.state == "success", "dag": dag_id, "task": task_id, "day": day.isoformat(),
            "state": outcome.state}


def dbt(settings: Settings, month: str, timers: Timers) -> dict:
    from zhongwei.warehouse import build

    result = build(settings)
    return {"ok": result.success, "nodes": result.counts}


def publish(settings: Settings, month: str, timers: Timers) -> dict:
    from zhongwei.publish import publish_month

    _time_quality(timers)
    # the gate's checks run and are timed; a lone synthetic month must not stop the stage they precede
    release = publish_month(settings, month, acceptance="benchmark: one synthetic month, measured only")
    return {"status": release.status, "revision": release.revision}


STAGES = {f.__name__: f for f in (prepare, floor, ingest, empty_day, dbt, publish)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("--report", required=True, type=Path)
    parser.add_argument("--month", required=True)
    args = parser.parse_args()
    timers = Timers()
    details = {"ok": True, **STAGES[args.stage](Settings.from_env(), args.month, timers)}
    details["timers"] = {k: {**v, "wall_s": round(v["wall_s"], 3), "cpu_s": round(v["cpu_s"], 3)}
                         for k, v in sorted(timers.seconds.items())}
    args.report.write_text(json.dumps(details, ensure_ascii=False, indent=1, default=str))


if __name__ == "__main__":
    main()
