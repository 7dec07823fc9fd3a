"""The build_warehouse DAG: Asset-scheduled on the lake, every dbt node a task of its own while
one dbt process writes the warehouse (pool `warehouse`), the marts asset updated after the audit,
and no heavy imports when the DAG file is parsed."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

DAGS = Path(__file__).parents[2] / "dags"
HEAVY = ["pandas", "pyarrow", "duckdb", "dbt", "great_expectations", "numpy"]
PROBE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(sys.argv[1])
dag = bag.dags.get("build_warehouse")
out = {"errors": {k: str(v) for k, v in bag.import_errors.items() if "build_warehouse" in k}}
if dag is not None:
    out.update({
        "timetable": type(dag.timetable).__name__, "max_active_runs": dag.max_active_runs,
        "doc": bool(dag.doc_md and len(dag.doc_md) > 200), "tags": sorted(dag.tags),
        "tasks": {t.task_id: {"pool": t.pool, "outlets": [getattr(o, "uri", str(o)) for o in t.outlets],
                              "retries": t.retries, "owner": t.owner, "type": type(t).__name__,
                              "upstream": sorted(t.upstream_task_ids), "trigger_rule": str(t.trigger_rule)}
                  for t in dag.tasks},
        "assets": sorted(getattr(a, "uri", str(a)) for a in getattr(getattr(dag.timetable, "asset_condition", None), "objects", [])),
    })
out["heavy"] = sorted(m for m in %r if m in sys.modules)
print(json.dumps(out, default=str))
""" % (HEAVY,)


def test_build_warehouse_dag(tmp_path):
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS), "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR"}
    out = subprocess.run([sys.executable, "-c", PROBE, str(DAGS / "build_warehouse.py")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert not info["errors"], info["errors"]
    assert info["timetable"] == "AssetTriggeredTimetable"
    assert info["max_active_runs"] == 1 and info["doc"] and "warehouse" in info["tags"]
    tasks = info["tasks"]
    producer = tasks["dbt.dbt_producer_watcher"]
    # one `dbt build`, the warehouse's only writer, never run twice in a run
    assert producer["pool"] == "warehouse" and producer["retries"] == 0
    assert producer["upstream"] == ["source_freshness"] and tasks["source_freshness"]["upstream"] == ["wait_for_every_feed"]
    # every model, seed and model's tests is a task: a model retries alone, a failed test fails at once
    models = {t for t, v in tasks.items() if v["type"] == "DbtRunWatcherOperator"}
    assert {"dbt.models.marts.mart_monthly_indicators.run", "dbt.models.marts.fct_waybill.run"} <= models
    assert len(models) == len(list((DAGS.parent / "dbt_project" / "models").rglob("*.sql")))
    assert {t for t, v in tasks.items() if v["type"] == "DbtSeedWatcherOperator"} == {
        f"dbt.seeds.{p.stem}.seed" for p in (DAGS.parent / "dbt_project" / "seeds").glob("*.csv")}
    assert all(tasks[t]["retries"] == 2 for t in models)
    assert all(v["retries"] == 0 for v in tasks.values() if v["type"] == "DbtTestWatcherOperator")
    roots = [t for t, v in tasks.items() if v["upstream"] == ["dbt.dbt_producer_watcher"] and v["type"] != "EmptyOperator"]
    assert roots and all(tasks[t]["trigger_rule"].lower().endswith("none_skipped") for t in roots)  # they report a failed build too
    published = tasks["audit_and_publish"]
    assert published["pool"] == "warehouse" and published["outlets"] == ["zhongwei://warehouse/marts"]
    assert "dbt.models.marts.mart_monthly_indicators.test" in published["upstream"]
    if info["assets"]:
        assert set(info["assets"]) == {"zhongwei://lake/courier", "zhongwei://lake/ecommerce", "zhongwei://lake/ledgers"}
    assert not info["heavy"], f"heavy imports at parse time: {info['heavy']}"


def test_build_waits_until_every_lake_table_has_data(tmp_path):
    """A fresh deployment: the first courier day triggers a build before any export or ledger
    has landed. The build is skipped (no failure, no alert) and the skip names the empty tables."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zhongwei.config import Settings
    from zhongwei.warehouse import lake_tables_without_data

    env = {**os.environ, "ZW_DATA": str(tmp_path), "ZW_PII_KEY": "test-key"}
    env.pop("AIRFLOW_HOME", None)
    (tmp_path / "inbox" / "courier").mkdir(parents=True)
    settings = Settings.from_env(env)
    empty = lake_tables_without_data(settings)
    assert {"courier_waybills", "courier_events", "ecommerce_orders", "ecommerce_order_lines", "outlets",
            "registry_enterprises"} <= set(empty)
    day = settings.lake / "raw" / "courier_events" / "company=SF" / "day=2025-03-01"
    day.mkdir(parents=True)
    pq.write_table(pa.table({"event_id": ["e1"]}), day / "part.parquet")
    assert lake_tables_without_data(settings) == [t for t in empty if t != "courier_events"]

    zw = Path(sys.executable).with_name("zw")
    out = subprocess.run([str(zw), "run", "--month", "2025-03", "--only", "build"], env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert re.search(r"build_warehouse +success .*skipped: wait_for_every_feed$", out.stdout, re.M), out.stdout[-2000:]
    assert "Nothing built: no data yet in lake tables courier_waybills, ecommerce_orders" in out.stdout
    assert not settings.warehouse.exists()


def _lake_with_a_line_twice(lake_data: Path, tmp_path: Path) -> tuple[Path, str]:
    """A copy of the test lake in which one order line's row is written twice into its partition
    (what ingestion no longer lets through): the build's unique test on fct_order_line must fail."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    shutil.copytree(lake_data / "lake", tmp_path / "lake")
    part = sorted((tmp_path / "lake" / "raw" / "ecommerce_order_lines").rglob("*.parquet"))[-1]
    table = pq.read_table(part)
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), part)
    row = table.slice(0, 1).to_pylist()[0]
    return part, f"{row['platform']}|{row['order_no']}|{row['line_no']}"


def test_a_failed_data_test_fails_at_once_with_its_keys_and_leaves_the_warehouse_closed(lake_data, tmp_path):
    env = {**os.environ, "ZW_DATA": str(tmp_path), "ZW_PII_KEY": "warehouse-tests"}
    env.pop("AIRFLOW_HOME", None)
    _, key = _lake_with_a_line_twice(lake_data, tmp_path)
    zw = Path(sys.executable).with_name("zw")
    out = subprocess.run([str(zw), "run", "--month", "2025-02", "--only", "build"], env=env,
                         capture_output=True, text=True, timeout=1200)
    log = out.stdout + out.stderr
    assert out.returncode == 1, log[-3000:]
    # the build and the model whose test failed, nothing else: the models after it never ran
    failed = re.search(r"build_warehouse +failed .*failed: (.*)$", out.stdout, re.M)
    assert failed and set(failed[1].split(", ")) == {"dbt.dbt_producer_watcher",
                                                      "dbt.models.marts.fct_order_line.test"}, out.stdout[-2000:]
    assert "unique_fct_order_line_line_key: fail" in log and f"unique_field={key}, n_records=2" in log, log[-5000:]
    assert "up_for_retry" not in log.lower(), log[-5000:]
    assert not (tmp_path / "warehouse.duckdb").exists()  # nothing published for analysts


def test_dbt_closes_the_warehouse_when_it_returns(lake_data, tmp_path):
    """dbt-duckdb keeps its database open in the process between invocations: after a build,
    another process can open the warehouse for writing (a retry, the next build)."""
    from wh_helpers import settings_for
    from zhongwei.warehouse import build

    _lake_with_a_line_twice(lake_data, tmp_path)
    settings = settings_for(tmp_path, tmp_path / "warehouse.duckdb", tmp_path / "lake")
    result = build(settings, select="+fct_order_line", exclude="test_name:relationships")
    assert not result.success and result.only_tests_failed
    report = result.failure_report(settings)
    assert "not_null" not in report and "n_records=2" in report, report
    assert not settings.warehouse.exists()  # a failed build publishes no snapshot
    probe = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('create table t as select 1')"
    opened = subprocess.run([sys.executable, "-c", probe, str(settings.warehouse)], capture_output=True, text=True)
    assert opened.returncode == 0, opened.stderr
