"""
### Monthly indicator publication

On the 5th of each month at 09:00 (Asia/Shanghai), publish the previous month
(a deadline alert goes out if that run has not succeeded by 12:00);
also whenever the marts were rebuilt from loads of whole months (a catch-up or
a rerun of a month), publish those months. Trigger by hand with
`{"month": "2025-03"}` (or a range) for any month.

For each month:

1. **Gate.** Every batch the month rests on passed its checks, the month's
   transactions are there, the ledgers holding for it are loaded, the last dbt
   build passed, and the month's rows pass the `mart_monthly_indicators` GX
   suite. Otherwise the task fails listing the failing checks, unless the run
   has `accept_quality_failures` set to a reason (recorded in the manifest and
   shown in the bulletin).
2. **Release** to `publications/YYYY-MM/`: `indicators.csv`, `indicators.json`,
   `bulletin.html` (print-ready) and `manifest.json` (loads, row counts, quality
   results, dbt build, checksums). Unchanged values publish nothing new;
   changed values make the next revision, listing what changed.

Then every month published before is compared with the warehouse: where data
that arrived later (late events, refunds) changed its values, it is republished
as its next revision. `publications/index.html` lists every month and revision.
"""
from datetime import timedelta

from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference, Param, dag, get_current_context, task
from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.trigger import CronTriggerTimetable

from zhongwei.acceptance import MIN_REASON_CHARS, REASON_PATTERN
from zhongwei.alerts import notify_deadline_missed
from zhongwei.assets import PUBLICATIONS
from zhongwei.config import TIMEZONE
from zhongwei.dag_defaults import DEFAULT_ARGS, START, WINDOW_PARAMS, announced_months, run_name
from zhongwei.warehouse import MARTS


@dag(
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 9 5 * *", timezone=TIMEZONE), assets=MARTS),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    # Due at 09:00 on the 5th, alert if not published by 12:00. The cron run's logical date is the time
    # it fires (a trigger timetable), so for month M it is the 5th of M+1 at 09:00 Beijing time and the
    # deadline is 3 h after it. A run without a logical date (asset-triggered) has no deadline; one
    # triggered by hand with a logical date is due 3 h after it. A run that succeeded by then clears it.
    deadline=DeadlineAlert(reference=DeadlineReference.DAGRUN_LOGICAL_DATE, interval=timedelta(hours=3),
                           callback=AsyncCallback(notify_deadline_missed)),
    default_args=DEFAULT_ARGS,
    params={
        "month": WINDOW_PARAMS["month"],
        "accept_quality_failures": Param(None, type=["null", "string"], minLength=MIN_REASON_CHARS, pattern=REASON_PATTERN,
                                         description="Publish despite failing checks, for this reason "
                                                     "(recorded in the manifest and the bulletin)."),
    },
    tags=["publication"],
    doc_md=__doc__,
)
def publish_monthly_indicators():
    @task
    def months_to_publish() -> list[str]:
        from zhongwei.publish.tasks import months_for_run

        ctx = get_current_context()
        run_type = ctx["dag_run"].run_type
        # asset-triggered runs have no logical date; the task SDK's run type is an enum
        return months_for_run(ctx["params"], ctx.get("logical_date"), getattr(run_type, "value", run_type),
                              announced_months(ctx))

    # one month at a time: the months share the index page
    @task(max_active_tis_per_dagrun=1, outlets=[PUBLICATIONS])
    def publish_month(month: str) -> dict:
        from zhongwei.publish.tasks import publish

        ctx = get_current_context()
        return publish(month, ctx["params"].get("accept_quality_failures"), run_name(ctx))

    @task(trigger_rule="all_done", outlets=[PUBLICATIONS])
    def revise_earlier_months(months: list[str]) -> list[dict]:
        from zhongwei.publish.tasks import revise

        return revise(months, run_name(get_current_context()))

    months = months_to_publish()
    # a teardown: it runs whatever became of the months, and the run still fails when a gate stopped one
    publish_month.expand(month=months) >> revise_earlier_months(months).as_teardown()


publish_monthly_indicators()
