"""
### County outlet ledgers and the programme ledger → lake

Monthly, on the 3rd (the counties file their 网点台账 in the first days of the
next month; the publication on the 5th needs them), take the previous month's ledgers from the inbox: one task per
county (`outlets/<county>/网点台账_YYYYMM.xlsx`) and one for the commerce
bureau's workbook (`registry/电商企业及培训台账_YYYYMM.xlsx`: enterprises and their
shops, training classes, livestream hosts). Title, totals and blank rows are
skipped; dates in any of the four ways people write them are read; credit
codes are checked; keepers' names and phones are hashed and masked.

Trigger with `{"month": "2025-03"}` for any month.
"""
from airflow.sdk import dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from zhongwei.assets import LAKE_LEDGERS
from zhongwei.config import TIMEZONE
from zhongwei.dag_defaults import DEFAULT_ARGS, START, WINDOW_PARAMS, run_name
from zhongwei.reference import COUNTY_CODES


@dag(
    schedule=CronTriggerTimetable("0 7 3 * *", timezone=TIMEZONE),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={"month": WINDOW_PARAMS["month"]},
    tags=["ingest", "ledgers"],
    doc_md=__doc__,
)
def ingest_ledgers():
    def window():
        from zhongwei.ingest import windows

        ctx = get_current_context()
        return windows.for_run(ctx["params"], ctx["logical_date"], period="month"), run_name(ctx)

    @task(outlets=[LAKE_LEDGERS])
    def ingest_outlets(county: str) -> dict:
        from zhongwei.ingest.tasks import ingest_outlets

        return ingest_outlets(county, *window())

    @task(outlets=[LAKE_LEDGERS])
    def ingest_registry() -> dict:
        from zhongwei.ingest.tasks import ingest_registry

        return ingest_registry(*window())

    @task(trigger_rule="all_done")
    def build_quality_docs() -> str:
        from zhongwei.ingest.tasks import build_quality_docs

        return build_quality_docs(run_name(get_current_context()))

    [ingest_outlets.expand(county=list(COUNTY_CODES)), ingest_registry()] >> build_quality_docs().as_teardown()


ingest_ledgers()
