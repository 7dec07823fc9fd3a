"""`zw run` runs tasks in its own process (dag.test), which logs them to the console only; it also
writes each task's log where a worker would, so that Airflow reads it (the UI of `zw airflow
standalone`, sharing the Airflow home): checked here on a DAG of two tasks, one printing and logging,
one failing, read back through Airflow's own log reader."""
from __future__ import annotations

import json
import os
import subprocess
import sys

DAG = '''
import logging
import pendulum
from airflow.sdk import dag, task

@dag(start_date=pendulum.datetime(2025, 1, 1), schedule=None)
def probe():
    @task
    def talk():
        print("printed by the task")
        logging.getLogger("zhongwei.probe").info("logged by the task, password=%s", "s3cret")
        return 42

    @task(retries=0)
    def fail(_):
        raise ValueError("the data is wrong")

    fail(talk())

probe()
'''

RUN = '''
import json, logging
from airflow.dag_processing.dagbag import DagBag
from airflow.models.dagrun import DagRun
from airflow.sdk.log import mask_secret
from airflow.utils.log.log_reader import TaskLogReader
from zhongwei.runner import run_dag, task_logs

mask_secret("s3cret")
with task_logs():
    outcome = run_dag(DagBag(DAGS).dags["probe"], {})
[run] = DagRun.find(dag_id="probe")
logs = {ti.task_id: [m.model_dump_json() for m in TaskLogReader().read_log_chunks(ti, ti.try_number, {})[0]]
        for ti in run.get_task_instances()}
logging.getLogger("zhongwei.probe").warning("after the tasks")
print(json.dumps({"failed": outcome.failed_tasks, "logs": logs}))
'''


def test_a_tasks_log_is_where_airflow_reads_it_and_a_failure_on_the_console(tmp_path):
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "probe.py").write_text(DAG)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ZW_"))}
    env.update({"AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"})
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    done = subprocess.run([sys.executable, "-c", f"DAGS = {str(tmp_path / 'dags')!r}\n{RUN}"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    *console, last = done.stdout.splitlines()
    console = "\n".join(console) + done.stderr
    out = json.loads(last)
    assert out["failed"] == ["fail"]
    talk, fail = ("\n".join(out["logs"][t]) for t in ("talk", "fail"))
    assert "printed by the task" in talk and "logged by the task, password=***" in talk and "s3cret" not in talk
    assert "Done. Returned value was: 42" in talk  # Airflow's own lines, at INFO as a worker logs them
    assert "ValueError" in fail and "the data is wrong" in fail
    # the console still shows what the task printed, the failure and where its log is; and after
    # the tasks, the console's logging is back as it was
    assert "printed by the task" in console
    assert "probe.fail failed: ValueError: the data is wrong" in console
    assert f"log: {tmp_path}/airflow/logs/dag_id=probe/" in console
    assert "after the tasks" in console and "logged by the task" not in console
