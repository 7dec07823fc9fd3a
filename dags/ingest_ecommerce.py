"""
### Platform order exports → lake

Every morning, take the previous day's order export of each platform from the
inbox (`ecommerce/<PLATFORM>/orders_YYYYMMDD.*`): 淘宝 GB18030 CSV, 拼多多 CSV
with BOM, 抖音 xlsx, 中卫优品 JSON Lines. The sensor waits for the file in
reschedule mode, so waiting holds no worker slot. Each file is a batch: parsed
into one order / order-line shape, personal information hashed and masked,
checked by the `ecommerce_*` and `batch_health` suites, written with its
ledger entry (a file sent twice under another name is recognised by checksum).

Trigger with `{"month": "2025-03"}` to take in a whole month's files at once.
"""
from airflow.sdk import PokeReturnValue, dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from zhongwei.assets import LAKE_ECOMMERCE
from zhongwei.config import TIMEZONE
from zhongwei.dag_defaults import DEFAULT_ARGS, START, WINDOW_PARAMS, run_name
from zhongwei.reference import PLATFORMS


@dag(
    schedule=CronTriggerTimetable("0 6 * * *", timezone=TIMEZONE),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params=WINDOW_PARAMS,
    tags=["ingest", "ecommerce"],
    doc_md=__doc__,
)
def ingest_ecommerce():
    @task(trigger_rule="all_done")
    def build_quality_docs() -> str:
        from zhongwei.ingest.tasks import build_quality_docs

        return build_quality_docs(run_name(get_current_context()))

    docs = build_quality_docs().as_teardown()  # always runs; the run still fails when an ingest did
    for platform in PLATFORMS:
        @task.sensor(task_id=f"wait_for_{platform.lower()}", poke_interval=600, timeout=18 * 3600,
                     mode="reschedule", soft_fail=True)
        def wait_for_export(platform: str = platform) -> PokeReturnValue:
            from zhongwei.ingest import windows
            from zhongwei.ingest.tasks import platform_file_arrived

            ctx = get_current_context()
            if ctx["params"].get("month"):  # catching up: take whatever is there
                return PokeReturnValue(is_done=True)
            return PokeReturnValue(is_done=platform_file_arrived(platform, windows.for_run(ctx["params"], ctx["logical_date"])))

        @task(task_id=f"ingest_{platform.lower()}", outlets=[LAKE_ECOMMERCE], trigger_rule="none_failed")
        def ingest(platform: str = platform) -> dict:
            from zhongwei.ingest import windows
            from zhongwei.ingest.tasks import ingest_platform

            ctx = get_current_context()
            return ingest_platform(platform, windows.for_run(ctx["params"], ctx["logical_date"]), run_name(ctx))

        wait_for_export() >> ingest() >> docs


ingest_ecommerce()
