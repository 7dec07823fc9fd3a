"""The dbt project as Airflow tasks, model by model, with astronomer-cosmos.

Cosmos' WATCHER mode: one task (the producer) runs a single `dbt build` in-process (dbtRunner),
the warehouse's only writer, in pool `warehouse`; every seed, model and each model's tests are
tasks of their own that report what that build did (status, time, log lines), and clearing one
of them reruns that model alone. The graph is rendered from dbt's manifest (`current_manifest`).

Retries follow the failure: the producer never retries (a second `dbt build` in the same run
would write the warehouse twice; cosmos skips it), a model that errored is retried on its own,
and a failed data test fails at once, since the same lake fails the same way.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from zhongwei.config import DBT_PROJECT_DIR, Settings
from zhongwei.warehouse.build import BuildResult, NodeResult, dbt_env

GROUP_ID = "dbt"
PRODUCER_TASK_ID = f"{GROUP_ID}.dbt_producer_watcher"
BUILD_XCOM = "build"
TARGET = "duckdb"


def _node(result: dict, manifest_nodes: dict) -> NodeResult:
    node = manifest_nodes.get(result["unique_id"], {})
    failed_test = result["status"] == "fail" and node.get("resource_type") == "test"
    return NodeResult(name=node.get("name", result["unique_id"]), resource_type=node.get("resource_type", "?"),
                      status=result["status"], execution_time=float(result.get("execution_time") or 0.0),
                      failures=result.get("failures"), message=result.get("message"),
                      compiled_sql=result.get("compiled_code") if failed_test else None)


def report_build(project_dir: str, context=None, **_) -> None:
    """Producer callback, run after `dbt build` whether it passed or not: every node's line in
    the producer's log, and for a failed build the failing nodes with the first rows a failed
    data test found (what `zhongwei.warehouse.build` reports outside Airflow)."""
    from zhongwei.warehouse.build import release_duckdb

    release_duckdb()  # dbt-duckdb keeps the database open in this process: the report reads it
    target = Path(project_dir) / "target"
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    nodes = [_node(r, manifest) for r in results["results"]]
    result = BuildResult(success=True, target=TARGET, seconds=float(results.get("elapsed_time") or 0.0), nodes=nodes)
    result.success = not result.failed
    # printed: the task's log, and the console of `zw run`
    for n in nodes:
        print(f"{n.resource_type:8} {n.name:50} {n.status:8} {n.execution_time:7.2f}s"
              + (f" failures={n.failures}" if n.failures else ""))
    print(result.summary() if result.success else result.failure_report(Settings.from_env()))
    if context:  # for the audit, which publishes the snapshot and records the build
        context["ti"].xcom_push(key=BUILD_XCOM, value={"seconds": result.seconds,
                                                      "nodes": [asdict(n) for n in nodes]})


def built_nodes(context) -> BuildResult:
    """The producer's build as `report_build` left it, for the task after the group."""
    built = context["ti"].xcom_pull(task_ids=PRODUCER_TASK_ID, key=BUILD_XCOM)
    nodes = [NodeResult(**n) for n in built["nodes"]]
    return BuildResult(success=True, target=TARGET, seconds=built["seconds"], nodes=nodes)


def current_manifest() -> Path:
    """dbt's manifest of the project for rendering the tasks, parsed again when a project file
    is newer. `dbt parse` runs in a process of its own (the DAG processor does not import dbt)
    into a folder of its own, and the manifest is swapped in whole: a parse never reads one
    half-written, by itself or by a build."""
    manifest = DBT_PROJECT_DIR / "target" / "airflow" / "manifest.json"
    sources = [p for folder in ("models", "seeds", "tests", "macros") for p in (DBT_PROJECT_DIR / folder).rglob("*")]
    sources += [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    if not manifest.exists() or max(p.stat().st_mtime for p in sources) > manifest.stat().st_mtime:
        manifest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=manifest.parent) as parsed:
            # this interpreter's dbt, wherever pip put its script (a venv, an image's user site)
            subprocess.run([sys.executable, "-c", "from dbt.cli.main import cli; cli()", "parse", "--quiet",
                            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                            "--target-path", parsed], check=True,
                           env={**os.environ, **dbt_env(Settings.from_env(), TARGET)})
            os.replace(Path(parsed) / "manifest.json", manifest)
    return manifest


def _tasks(group):
    for child in group.children.values():
        yield from _tasks(child) if hasattr(child, "children") else [child]


def dbt_task_group(after, full_refresh: str):
    """The task group of the build, run after task `after`: call inside the DAG. `full_refresh`
    is a template."""
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode
    from airflow.sdk import TriggerRule
    from cosmos.operators.watcher import DbtTestWatcherOperator

    env = dbt_env(Settings.from_env(), TARGET)
    group = DbtTaskGroup(
        group_id=GROUP_ID,
        project_config=ProjectConfig(DBT_PROJECT_DIR, manifest_path=current_manifest(), env_vars=env),
        profile_config=ProfileConfig(profile_name="zhongwei", target_name=TARGET,
                                     profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml"),
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.WATCHER,
                                         invocation_mode=InvocationMode.DBT_RUNNER),
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, group_nodes_by_folder=True, emit_datasets=False,
                                   exclude=["resource_type:exposure"]),  # an exposure is documentation: no task
        operator_args={"full_refresh": full_refresh, "callback": report_build, "emit_datasets": False,
                       "install_deps": False, "deferrable": False, "poke_interval": 2},
    )
    producer = group.children[PRODUCER_TASK_ID]
    producer.pool, producer.retries = "warehouse", 0
    after >> producer
    for task in _tasks(group):
        if isinstance(task, DbtTestWatcherOperator):
            task.retries = 0  # a data test that failed fails again on the same lake
        if task.upstream_task_ids == set() and task is not producer:
            # the seeds and models nothing else precedes report once the build is done, whatever
            # its outcome (but not when it was skipped: nothing to build yet): one process at a
            # time, which `zw run` (dag.test) needs too
            producer >> task
            task.trigger_rule = TriggerRule.NONE_SKIPPED
    return group
