"""A DAG run's param that does not read fails its task at once, naming the param and what is
allowed: a retry would read the same value (and wait minutes for it)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from zhongwei.ingest.windows import for_run
from zhongwei.publish.tasks import months_for_run

DAGS = Path(__file__).parents[2] / "dags"
NOW = datetime(2025, 3, 5, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(("params", "names"), [
    ({"month": "2025-13"}, ["param 'month'", "YYYY-MM (01-12)"]),
    ({"month": "2025-03:2024-01"}, ["param 'month'", "ends before it starts"]),
    ({"month": "2025-03:"}, ["param 'month'", "YYYY-MM:YYYY-MM"]),
    ({"date": "2025-02-30"}, ["param 'date'", "YYYY-MM-DD"]),
])
def test_a_bad_window_param_fails_the_task_at_once(params, names):
    for read in (lambda: for_run(params, NOW), lambda: months_for_run(params, NOW, "manual", [])):
        with pytest.raises(AirflowFailException) as failed:
            read()
        assert all(n in str(failed.value) for n in names), failed.value


PROBE = """
import json, sys
from datetime import datetime
from zhongwei.config import Settings
from zhongwei.runner import prepare_airflow

prepare_airflow(Settings.from_env())  # before Airflow reads its configuration
from airflow.dag_processing.dagbag import DagBag

dag = DagBag(sys.argv[1]).dags["publish_monthly_indicators"]
run = dag.test(run_conf={"month": "2025-03:2024-01"}, logical_date=datetime.now().astimezone())
try:
    dag.test(run_conf={"month": "2025-13"}, logical_date=datetime.now().astimezone())
    refused = None
except Exception as e:
    refused = f"{type(e).__name__}: {e}"
print(json.dumps({"tis": {ti.task_id: [str(ti.state), ti.try_number] for ti in run.get_task_instances()},
                  "refused": refused}))
"""


def test_the_publication_dag_fails_a_reversed_range_without_retrying(tmp_path):
    """Through Airflow (dag.test, as `zw run` does): the task reading the range fails on its first
    try (with retries, the run would wait minutes for each), and the teardown after it does not fail;
    a month that is no month is refused when the run is triggered, by the param's pattern (the same rule)."""
    env = {**os.environ, "ZW_DATA": str(tmp_path), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    out = subprocess.run([sys.executable, "-c", PROBE, str(DAGS / "publish_monthly_indicators.py")], env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["tis"]["months_to_publish"] == ["failed", 1], result
    assert result["tis"]["revise_earlier_months"] == ["success", 1], result  # the teardown has no months to skip
    assert "param 'month': '2025-03:2024-01' ends before it starts" in out.stdout + out.stderr
    assert "ParamValidationError" in result["refused"] and "2025-13" in result["refused"], result
