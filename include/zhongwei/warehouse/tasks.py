"""What the build_warehouse DAG's tasks do, with plain arguments and JSON-able results.

Airflow's exceptions say how a failure is handled: a skip is no failure (nothing to build yet,
nothing to serve), a failed test or audit fails at once (the same lake fails the same way), any
other error is raised as it is and retried.
"""
from __future__ import annotations

from airflow.sdk import get_current_context

from zhongwei.config import Settings


def skip_until_every_feed_landed() -> None:
    """On a fresh deployment the first courier day lands before any platform export or ledger:
    nothing to build (a skip, not a failure) until every lake table has data."""
    from airflow.sdk.exceptions import AirflowSkipException

    from zhongwei.warehouse import lake_tables_without_data

    empty = lake_tables_without_data(Settings.from_env())
    if empty:
        raise AirflowSkipException(f"no data yet in lake tables {', '.join(empty)}: "
                                   "nothing to build until every feed has landed")


def source_freshness() -> dict:
    """`dbt source freshness` before the build: each source's status, and an alert naming the
    feeds past their `error_after`. A stale feed does not stop the build (what did arrive is
    still built and checked): it is the partner to chase."""
    from zhongwei.alerts import notify_stale_feeds
    from zhongwei.warehouse import freshness

    statuses = freshness(Settings.from_env())
    for source, status in statuses.items():
        print(f"{source:40} {status['status']:6} last loaded {status['max_loaded_at']} "
              f"({status['age_hours']:.0f} h ago)")
    stale = {s: v for s, v in statuses.items() if v["status"] == "error"}
    if stale:
        notify_stale_feeds(get_current_context(), stale)
    return statuses


def audit_and_publish(full_refresh: bool) -> dict:
    """The mart suite on what the dbt tasks built, then the analysts' snapshot; a failed audit
    fails at once (the same build fails it again)."""
    from airflow.sdk.exceptions import AirflowFailException

    from zhongwei.warehouse.build import audit_and_publish as publish_build, release_duckdb
    from zhongwei.warehouse.dbt_tasks import built_nodes

    settings = Settings.from_env()
    release_duckdb()  # `zw run` runs the dbt tasks in this process: dbt-duckdb may still hold the file
    result = publish_build(settings, built_nodes(get_current_context()), full_refresh=full_refresh)
    if not result.success:
        raise AirflowFailException(result.failure_report(settings))
    return {"seconds": round(result.seconds, 1), "nodes": len(result.nodes), "summary": result.summary(),
            "snapshot": result.snapshot.id}


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
