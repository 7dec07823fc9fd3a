"""What the build_warehouse DAG's tasks do, with plain arguments and JSON-able results.

Airflow's exceptions say how a failure is handled: a skip is no failure (nothing to build yet,
nothing to serve), a failed test or audit fails at once (the same lake fails the same way), any
other error is raised as it is and retried.
"""
from __future__ import annotations

from zhongwei.config import Settings


def build_and_publish(select: str | None, full_refresh: bool) -> dict:
    """dbt seed + build, the marts' audit and the snapshot; each node's result printed to the log."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from zhongwei.warehouse import build, lake_tables_without_data

    settings = Settings.from_env()
    empty = lake_tables_without_data(settings)
    if empty:
        raise AirflowSkipException(f"no data yet in lake tables {', '.join(empty)}: "
                                   "nothing to build until every feed has landed")
    result = build(settings, select=select, full_refresh=full_refresh)
    for n in result.nodes:
        print(f"{n.resource_type.split('.')[-1]:8} {n.name:50} {n.status:8} {n.execution_time:7.2f}s"
              + (f" failures={n.failures}" if n.failures else ""))
    if not result.success:
        report = result.failure_report(settings)
        raise (AirflowFailException if result.only_tests_failed else RuntimeError)(report)
    return {"seconds": round(result.seconds, 1), "nodes": len(result.nodes), "summary": result.summary(),
            "snapshot": result.snapshot.id if result.snapshot else None}


def serve_postgres() -> dict:
    """The published snapshot's marts into the analysts' PostgreSQL, when one is configured."""
    from airflow.sdk.exceptions import AirflowSkipException

    from zhongwei.warehouse import serving

    uri = serving.from_env()
    if not uri:
        raise AirflowSkipException("ZW_SERVING_POSTGRES is not set: the snapshot is served as a file only")
    return serving.refresh_postgres(Settings.from_env().warehouse, uri)


def generate_docs() -> str:
    from zhongwei.warehouse import docs_generate

    return str(docs_generate(Settings.from_env()))
