"""
### Lake → warehouse (dbt, model by model)

Runs whenever ingestion updated a lake table (Asset-triggered on the courier, e-commerce
and ledger assets): `dbt_project/` builds staging views, intermediate models, the incremental
facts (re-applying the last `lookback_days` of late events and refunds), the dimensions and
`mart_monthly_indicators`, with every data test and unit test.

- **Every feed landed.** On a fresh deployment the first loads come before any export or
  ledger: until every lake table the sources read has data, the build is skipped (no alert)
  and the skip names the tables still empty.
- **Source freshness.** `dbt source freshness` first; a feed past its `error_after` alerts
  but does not stop the build.
- **dbt model by model, one writer.** The `dbt` group (astronomer-cosmos, WATCHER mode) has a
  task per seed, per model and per model's tests. Its producer task runs one `dbt build` in
  pool `warehouse`; the other tasks report what it did for their node (status, time, log).
  A failed data test fails its task at once (the same lake fails the same way); a model that
  errored is retried alone. The producer never runs twice in a run.
- **Write, audit, publish.** When every node passed, `audit_and_publish` checks the marts with
  their GX suite and publishes the analysts' snapshot (`$ZW_WAREHOUSE`, swapped in one rename,
  readable by DuckDB 1.4+); otherwise nothing is published. It updates the `warehouse_marts`
  asset, which the publication is scheduled on, passing on the whole months the triggering
  loads named (none for daily loads).
- **Serving.** With `ZW_SERVING_POSTGRES` set, each published snapshot's marts and dimensions
  also replace schema `warehouse` in that PostgreSQL database in one transaction (read-only
  role `zw_analyst`). Skipped otherwise.
- **Params.** `full_refresh` rebuilds the incremental facts from the whole lake; `docs`
  regenerates the dbt docs site.
"""
from airflow.sdk import Param, dag, get_current_context, task

from zhongwei.assets import LAKE_COURIER, LAKE_ECOMMERCE, LAKE_LEDGERS
from zhongwei.dag_defaults import DEFAULT_ARGS, START, announce_months, announced_months
from zhongwei.warehouse import MARTS
from zhongwei.warehouse.dbt_tasks import dbt_task_group


@dag(
    schedule=(LAKE_COURIER | LAKE_ECOMMERCE | LAKE_LEDGERS),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={
        "full_refresh": Param(False, type="boolean", description="Rebuild incremental facts from the whole lake."),
        "docs": Param(True, type="boolean", description="Regenerate the dbt docs site after the build."),
    },
    tags=["warehouse", "dbt"],
    doc_md=__doc__,
)
def build_warehouse():
    @task
    def wait_for_every_feed() -> None:
        from zhongwei.warehouse import tasks

        tasks.skip_until_every_feed_landed()

    @task(pool="warehouse")
    def source_freshness() -> dict:
        from zhongwei.warehouse import tasks

        return tasks.source_freshness()

    @task(pool="warehouse", outlets=[MARTS])
    def audit_and_publish() -> dict:
        from zhongwei.warehouse import tasks

        ctx = get_current_context()
        published = tasks.audit_and_publish(bool(ctx["params"].get("full_refresh")))
        announce_months(ctx, announced_months(ctx))
        return published

    @task
    def serve_postgres(_: dict) -> dict:
        from zhongwei.warehouse import tasks

        return tasks.serve_postgres()

    @task(pool="warehouse")
    def dbt_docs(_: dict) -> str:
        from zhongwei.warehouse import tasks

        return tasks.generate_docs() if get_current_context()["params"].get("docs", True) else "skipped"

    models = dbt_task_group(after=wait_for_every_feed() >> source_freshness(),
                            full_refresh="{{ params.full_refresh }}")
    published = models >> audit_and_publish()
    serve_postgres(published)
    dbt_docs(published)


build_warehouse()
