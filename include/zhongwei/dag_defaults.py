"""What every DAG of the project shares: owner, retries, failure alerts, time zone, run params."""
from __future__ import annotations

import pendulum
from airflow.sdk import Param

from zhongwei.alerts import notify_failure
from zhongwei.config import TIMEZONE
from zhongwei.ingest.windows import MONTHS

START = pendulum.datetime(2024, 1, 1, tz=TIMEZONE)

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 2,
    # the delay between retries is the deployment's: [core] default_task_retry_delay (120 s in zhongwei.deploy)
    "retry_exponential_backoff": True,
    "on_failure_callback": notify_failure,
}

WINDOW_PARAMS = {
    "month": Param(None, type=["null", "string"], pattern=MONTHS,
                   description="Catch up a whole month (YYYY-MM), or a range of months (YYYY-MM:YYYY-MM), "
                               "in one run instead of the scheduled period."),
    "date": Param(None, type=["null", "string"], format="date",
                  description="Run for one day (YYYY-MM-DD) instead of the previous day."),
}


def run_name(context) -> str:
    """A file-name-safe id of the DAG run, used for validation results and ledger entries."""
    return f"{context['dag'].dag_id}__{context['run_id']}".replace(":", "").replace("+", "")


def announce_months(context, months: list[str]) -> None:
    """Tag this task's asset events with the whole months it (re)loaded or rebuilt, so the
    warehouse build can pass them on and the publication knows which months are ready."""
    for asset in context["task"].outlets:
        context["outlet_events"][asset].extra = {"months": months}


def announced_months(context) -> list[str]:
    """The whole months named by the asset events that triggered this run (none for a daily load)."""
    events = context.get("triggering_asset_events") or {}
    return sorted({m for evs in events.values() for e in evs for m in (e.extra or {}).get("months", [])})
