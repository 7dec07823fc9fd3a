"""What the publication DAG's tasks do, with plain arguments and JSON-able results."""
from __future__ import annotations

from datetime import datetime, timezone

from zhongwei.config import Settings
from zhongwei.xcom import GATE


def months_for_run(params: dict, logical_date: datetime | None, run_type: str, announced: list[str]) -> list[str]:
    """The months a run publishes: the `month` param (one or a range); for a run the marts' asset
    triggered, the whole months the loads behind it named (none for daily loads: the month is not
    over); otherwise the month before the logical date, or before now (the scheduled run on the 5th)."""
    from zhongwei.ingest.windows import for_run

    if not params.get("month") and run_type == "asset_triggered":
        return announced
    return for_run(params, logical_date or datetime.now(timezone.utc), period="month").months()


def publish(month: str, acceptance: str | None, run_name: str) -> dict:
    """Gate, then publish; a blocked gate, or no warehouse to publish from, fails the task without
    retries (the gate's checks in XCom)."""
    from airflow.sdk.exceptions import AirflowFailException

    from zhongwei.publish import GateBlocked, publish_month
    from zhongwei.warehouse.snapshot import NoWarehouse

    try:
        r = publish_month(Settings.from_env(), month, acceptance=acceptance, run_name=run_name)
    except GateBlocked as blocked:
        from airflow.sdk import get_current_context

        get_current_context()["ti"].xcom_push(key=GATE, value=blocked.gate.to_dict())
        raise AirflowFailException(str(blocked)) from blocked
    except NoWarehouse as missing:
        raise AirflowFailException(str(missing)) from missing
    print(f"{month}: revision {r.revision} {r.status} in {r.folder}"
          + (f", {len(r.changes)} values changed" if r.changes else ""))
    return {"month": month, "revision": r.revision, "status": r.status, "folder": str(r.folder),
            "changes": len(r.changes)}


def revise(published: list[str] | None, run_name: str) -> list[dict]:
    """Revisions of the months published before, where data that arrived since changed them; none
    when the run's months could not be read (`published` is None: a bad `month` param fails the run)."""
    from zhongwei.publish import revise_published

    if published is None:
        return []
    out = []
    for r in revise_published(Settings.from_env(), run_name, skip=tuple(published)):
        print(f"{r.period}: revision {r.revision}, {len(r.changes)} values changed")
        out.append({"month": r.period, "revision": r.revision, "changes": len(r.changes)})
    return out
