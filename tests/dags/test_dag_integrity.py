"""Every DAG imports, says who owns it, retries, documents itself, and does no
heavy work when the scheduler parses it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).parents[2] / "dags"
HEAVY = ["pandas", "pyarrow", "great_expectations", "duckdb", "dbt", "numpy", "python_calamine", "openpyxl"]

PROBE = """
import json, sys, time
t = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(sys.argv[1])
dags = {}
for dag_id, dag in bag.dags.items():
    dags[dag_id] = {
        "tags": sorted(dag.tags), "doc_md": dag.doc_md or "", "schedule": type(dag.timetable).__name__,
        "timezone": str(getattr(dag.timetable, "_timezone", "")),
        "tasks": {t.task_id: {"owner": t.owner, "retries": t.retries} for t in dag.tasks},
    }
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": dags,
                  "heavy": sorted(m for m in %r if m in sys.modules), "seconds": time.perf_counter() - t}))
""" % (HEAVY,)


@pytest.fixture(scope="module")
def bag(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("airflow")
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS), "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR"}
    out = subprocess.run([sys.executable, "-c", PROBE, str(DAGS)], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_dag_file_imports(bag):
    assert bag["errors"] == {}
    assert set(bag["dags"]) >= {"ingest_courier", "ingest_ecommerce", "ingest_ledgers"}
    assert len(bag["dags"]) == len(list(DAGS.glob("*.py")))


def test_every_dag_is_owned_tagged_documented_and_retries(bag):
    for dag_id, dag in bag["dags"].items():
        assert dag["tags"], dag_id
        assert len(dag["doc_md"]) > 200, dag_id
        for task_id, task in dag["tasks"].items():
            assert task["owner"] == "data-engineering", (dag_id, task_id)
            # but a second dbt build in one run, and a data test that failed, would only repeat themselves
            never_retried = task_id == "dbt.dbt_producer_watcher" or task_id.endswith(".test")
            assert (task["retries"] == 0) if never_retried else (task["retries"] >= 1), (dag_id, task_id)


def test_parsing_the_dags_does_no_heavy_work(bag):
    # the scheduler parses these files every few seconds: the logic and its
    # libraries are imported inside the tasks, not at the top of the file
    assert bag["heavy"] == []


def test_schedules_are_in_local_time(bag):
    for dag_id in ("ingest_courier", "ingest_ecommerce", "ingest_ledgers"):
        assert bag["dags"][dag_id]["timezone"] == "Asia/Shanghai", bag["dags"][dag_id]


def test_every_dbt_node_is_rendered_or_deliberately_left_out(tmp_path):
    """cosmos warns, on every parse, of a dbt node it has no task for: the exposure is excluded on
    purpose (it documents the bulletin, nothing runs), so a parse at WARNING level is silent about it."""
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS), "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"}
    out = subprocess.run([sys.executable, "-c", PROBE, str(DAGS / "build_warehouse.py")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "build_warehouse" in json.loads(out.stdout.strip().splitlines()[-1])["dags"]
    assert "Unavailable conversion" not in out.stdout + out.stderr
