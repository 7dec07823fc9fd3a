"""
### Lake → warehouse (dbt build)

Runs whenever ingestion updated a lake table (Asset-triggered on the courier, e-commerce
and ledger assets): `dbt seed` + `dbt build` of `dbt_project/` in-process (one reused
`dbtRunner`), so staging views, intermediate models, the incremental facts
(`fct_waybill`, `fct_tracking_event`, `fct_order_line`, re-applying the last
`lookback_days` of late events and refunds), the dimensions, `mart_monthly_indicators`,
`fct_load_ledger` / `fct_quality_result`, every data test and every unit test run together.

- **One writer.** The task runs in pool `warehouse` (one slot): DuckDB allows one writing
  process per file, and dbt writes a working database nobody else opens.
- **Write, audit, publish.** When every model, data test and unit test passed and the marts
  pass their GX suite, the build is published as the analysts' snapshot (`$ZW_WAREHOUSE`,
  swapped in one rename, readable by DuckDB 1.4+); otherwise nothing is published.
- **Logs.** Each model, test and seed is logged with its status and time; a failing node
  fails the task (and lists the failures, with the first rows a failed data test found).
- **Retries.** A failed data or unit test fails the task at once: the same lake fails the
  same way. An error or a crash is retried. dbt's DuckDB connection is closed after each
  invocation, so a task waiting to retry holds no lock on the warehouse.
- **Serving.** With `ZW_SERVING_POSTGRES` set, each published snapshot's marts and dimensions
  also replace schema `warehouse` in that PostgreSQL database in one transaction (read-only
  role `zw_analyst`); a reader holding old tables makes it wait and retry. Skipped otherwise.
- **Outlet.** Updates the `warehouse_marts` asset, which the publication is scheduled on,
  passing on the whole months the triggering loads named (none for daily loads).
- **Fresh deployment.** Until every lake table has data (the first platform exports and
  ledgers come days after the first courier day) the build is skipped, naming the tables
  still empty: a skip, not a failure, so no alert.
- **Params.** `full_refresh` rebuilds the incremental facts from the whole lake; `select`
  limits the build (dbt selection syntax). `docs` regenerates the dbt docs site.
"""
from airflow.sdk import Param, dag, get_current_context, task

from zhongwei.assets import LAKE_COURIER, LAKE_ECOMMERCE, LAKE_LEDGERS
from zhongwei.dag_defaults import DEFAULT_ARGS, START, announce_months, announced_months
from zhongwei.warehouse import MARTS


@dag(
    schedule=(LAKE_COURIER | LAKE_ECOMMERCE | LAKE_LEDGERS),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={
        "full_refresh": Param(False, type="boolean", description="Rebuild incremental facts from the whole lake."),
        "select": Param(None, type=["null", "string"], description="dbt selection, e.g. 'marts' (default: all)."),
        "docs": Param(True, type="boolean", description="Regenerate the dbt docs site after the build."),
    },
    tags=["warehouse", "dbt"],
    doc_md=__doc__,
)
def build_warehouse():
    @task(pool="warehouse", outlets=[MARTS])
    def dbt_build() -> dict:
        from zhongwei.warehouse import tasks

        ctx = get_current_context()
        built = tasks.build_and_publish(ctx["params"].get("select"), bool(ctx["params"].get("full_refresh")))
        announce_months(ctx, announced_months(ctx))
        return built

    @task
    def serve_postgres(_: dict) -> dict:
        from zhongwei.warehouse import tasks

        return tasks.serve_postgres()

    @task(pool="warehouse")
    def dbt_docs(_: dict) -> str:
        from zhongwei.warehouse import tasks

        return tasks.generate_docs() if get_current_context()["params"].get("docs", True) else "skipped"

    built = dbt_build()
    serve_postgres(built)
    dbt_docs(built)


build_warehouse()
