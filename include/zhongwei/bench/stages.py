"""What a benchmark child process runs: one stage, with a JSON report of its own.

`python -m zhongwei.bench.stages STAGE --report FILE --month YYYY-MM`, with the
ZW_* variables pointing at the benchmark's inbox and working folder.

Ingestion runs exactly what `zw run --month M --only ingest` runs: the three
ingestion DAGs through Airflow's `dag.test()` in this process, so Airflow's own
overhead (DAG parsing, task state in its database, the exchange simulator over
HTTP) is part of the stage. The Great Expectations calls and the tasks' entry
points are wrapped with timers, which is how the quality suites' share and
each task's cost are told apart without changing the code measured.
"""
from __future__ import annotations

import argparse
import functools
import json
import resource
import time
from collections import defaultdict
from pathlib import Path

from zhongwei.config import Settings

TASK_FUNCTIONS = ("ingest_courier_company", "ingest_platform", "ingest_outlets", "ingest_registry")


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
    from zhongwei.ingest import tasks
    from zhongwei.lake import Lake

    _time_quality(timers)
    for name in TASK_FUNCTIONS:
        timers.wrap(tasks, name, lambda *a, name=name: f"task:{name}:{a[0] if isinstance(a[0], str) else ''}")
    outcomes = run_month(month, only="ingest", settings=settings)
    lake = Lake(settings.lake)
    feeds = {}
    for feed in lake.feeds():
        entries = lake.ledger(feed)
        feeds[feed] = {k: sum(e[k] for e in entries) for k in ("rows_arrived", "rows_loaded", "rows_quarantined")}
        feeds[feed]["batches"] = len(entries)
    return {"ok": all(o.state == "success" for o in outcomes), "dags": {o.dag_id: o.state for o in outcomes},
            "failed_batches": [b for o in outcomes for b in o.failed_batches], "feeds": feeds}


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


STAGES = {f.__name__: f for f in (prepare, floor, ingest, dbt, publish)}


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
