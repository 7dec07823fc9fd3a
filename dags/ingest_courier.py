"""
### Courier exchange → lake

Every night, pull the previous day's waybills and tracking events from the
brands' data exchange (connection `courier_exchange`), one mapped task per
company. Each company-day is a batch: parsed against the contract, personal
information hashed and masked, checked by the `courier_*` and `batch_health`
GX suites, written as a Parquet partition with its load-ledger entry.
Rejected records go to the quarantine with a reason.

Retries honour the exchange's `Retry-After` and back off on 5xx; a page served
twice is counted as duplicates, never loaded twice. Trigger with
`{"month": "2025-03"}` to catch up a whole month in one run.
"""
from airflow.sdk import dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from zhongwei.assets import LAKE_COURIER
from zhongwei.config import TIMEZONE
from zhongwei.dag_defaults import DEFAULT_ARGS, START, WINDOW_PARAMS, run_name


@dag(
    schedule=CronTriggerTimetable("30 1 * * *", timezone=TIMEZONE),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params=WINDOW_PARAMS,
    tags=["ingest", "courier"],
    doc_md=__doc__,
)
def ingest_courier():
    @task
    def list_companies() -> list[str]:
        from zhongwei.ingest.tasks import list_companies

        return list_companies()

    @task(outlets=[LAKE_COURIER], max_active_tis_per_dagrun=4)
    def ingest_company(company: str) -> dict:
        from zhongwei.ingest import windows
        from zhongwei.ingest.tasks import ingest_courier_company

        ctx = get_current_context()
        return ingest_courier_company(company, windows.for_run(ctx["params"], ctx["logical_date"]), run_name(ctx))

    @task(trigger_rule="all_done")
    def build_quality_docs() -> str:
        from zhongwei.ingest.tasks import build_quality_docs

        return build_quality_docs(run_name(get_current_context()))

    # a teardown: it always runs, and the run still fails when an ingest task did
    ingest_company.expand(company=list_companies()) >> build_quality_docs().as_teardown()


ingest_courier()
