"""Alerts, sent through Airflow's notifiers: a task that failed for good (every DAG's
`on_failure_callback`) and a publication that missed its deadline (the publication DAG's
DeadlineAlert).

Each alert goes to every channel that has a connection, and only there; a site with neither
sends nothing and logs so:

- `smtp_default`: e-mail through the SMTP provider's SmtpNotifier (extras `from_email` and `to`);
- `apprise_default`: the Apprise provider's AppriseNotifier, to every Apprise URL in the extra
  `config` (`dingtalk://`, `wecombot://`, `feishu://`, `json://`, ...).

A failure names the DAG, task and run, links to the task in the UI (`[api] base_url`), gives the
exception and, when the data failed its checks, the failed batches with the check each one failed.
A stale feed (`dbt source freshness` before each build) names the feeds and when each last
loaded. A missed deadline names the months not published, the deadline and the run's state, and links to
the run.
"""
from __future__ import annotations

import asyncio
import json
import logging
from html import escape

log = logging.getLogger(__name__)

SMTP_CONN = "smtp_default"
APPRISE_CONN = "apprise_default"


def failed_checks(batch_ids: list[str]) -> dict[str, str]:
    """The check each failed batch failed, from its load-ledger entry."""
    from zhongwei.config import Settings
    from zhongwei.lake import safe_name

    lake = Settings.from_env().lake
    checks = {}
    for batch_id in batch_ids:
        for path in (lake / "ledger").glob(f"*/{safe_name(batch_id)}.json"):
            checks[batch_id] = json.loads(path.read_text(encoding="utf-8")).get("failure") or "?"
    return checks


def alert(context) -> dict:
    """What went wrong, from a task's failure context."""
    from zhongwei.xcom import FAILED_BATCHES

    ti = context["ti"]
    map_index = getattr(ti, "map_index", -1)
    batches = ti.xcom_pull(task_ids=ti.task_id, map_indexes=map_index, key=FAILED_BATCHES) or []
    task = ti.task_id + (f"[{map_index}]" if map_index is not None and map_index >= 0 else "")
    return {
        "title": f"Airflow: {ti.dag_id}.{task} failed in run {ti.run_id}" + (
            f" ({len(batches)} batches failed their checks)" if batches else ""),
        "type": "failure",
        "url": ti.log_url,
        "link": "Open the task in Airflow",
        "detail": str(context.get("exception") or ""),
        "failed_checks": failed_checks(batches),
    }


def missed_deadline(context: dict) -> dict:
    """What is late, from a deadline callback's context: the run (as the REST API shows it) and the deadline."""
    from urllib.parse import quote

    import pendulum
    from airflow.sdk.configuration import conf

    from zhongwei.config import TIMEZONE
    from zhongwei.publish.tasks import months_for_run

    run = context["dag_run"]
    months = months_for_run(run["conf"] or {}, pendulum.parse(run["logical_date"]), run["run_type"], [])
    # a datetime, or its text once the callback's data went through JSON
    due = pendulum.parse(str(context["deadline"]["deadline_time"])).in_timezone(TIMEZONE)
    base_url = conf.get("api", "base_url", fallback="http://localhost:8080/").rstrip("/")
    return {
        "title": f"Airflow: {run['dag_id']} has not published {', '.join(months)} by its deadline "
                 f"{due:%Y-%m-%d %H:%M} ({TIMEZONE}); run {run['dag_run_id']} is {run['state']}",
        "type": "warning",
        "url": f"{base_url}/dags/{run['dag_id']}/runs/{quote(run['dag_run_id'])}",
        "link": "Open the run in Airflow",
        "detail": "",
        "failed_checks": {},
    }


def stale_feeds(context, stale: dict[str, dict]) -> dict:
    """Which feeds stopped arriving, from the freshness task's context and dbt's statuses."""
    ti = context["ti"]
    return {
        "title": f"Airflow: feeds past their freshness limit before build {ti.run_id}: {', '.join(stale)}",
        "type": "warning",
        "url": ti.log_url,
        "link": "Open the freshness check in Airflow",
        "detail": "\n".join(f"{source}: last loaded {s['max_loaded_at']} ({s['age_hours']:.0f} h ago)"
                            for source, s in stale.items()),
        "failed_checks": {},
    }


def as_html(message: dict) -> str:
    rows = "".join(f"<tr><td>{escape(b)}</td><td>{escape(c)}</td></tr>" for b, c in message["failed_checks"].items())
    return (f"<p>{escape(message['title'])}</p><p><a href=\"{escape(message['url'])}\">{message['link']}</a></p>"
            + (f"<pre>{escape(message['detail'])}</pre>" if message["detail"] else "")
            + (f"<table><tr><th>batch</th><th>failed check</th></tr>{rows}</table>" if rows else ""))


def as_markdown(message: dict) -> str:
    # DingTalk's markdown has links and lists but no tables
    parts = [f"[{message['link']}]({message['url']})", message["detail"]]
    if message["failed_checks"]:
        parts.append("Failed batches and their checks:\n\n"
                     + "\n".join(f"- {b}: {c}" for b, c in message["failed_checks"].items()))
    return "\n\n".join(p for p in parts if p)


def send(message: dict, context) -> None:
    """Send the alert through the notifier of every channel that has a connection. One that cannot be
    sent is logged, never raised: the task has failed already, the run is late already."""
    from airflow.providers.apprise.notifications.apprise import AppriseNotifier
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    notifiers = {
        SMTP_CONN: lambda conn: SmtpNotifier(to=conn.extra_dejson["to"], subject=message["title"],
                                             html_content=as_html(message), smtp_conn_id=SMTP_CONN),
        APPRISE_CONN: lambda conn: AppriseNotifier(title=message["title"], body=as_markdown(message),
                                                   body_format="markdown", notify_type=message["type"],
                                                   apprise_conn_id=APPRISE_CONN),
    }
    configured = []
    for conn_id, notifier in notifiers.items():
        try:
            conn = Connection.get(conn_id)
        except AirflowNotFoundException:
            continue
        configured.append(conn_id)
        try:
            # notify(), not notifier(context): the content is final, and __call__ would render it as a
            # Jinja template (an exception's text may hold braces)
            notifier(conn).notify(context)
        except Exception:
            log.exception("Could not send the alert through %s: %s", conn_id, message["title"])
    if not configured:
        log.warning("No alert connection (%s): nothing sent for %s", ", ".join(notifiers), message["title"])


def notify_stale_feeds(context, stale: dict[str, dict]) -> None:
    """The build's freshness check: a partner's feed has stopped arriving."""
    send(stale_feeds(context, stale), context)


def notify_failure(context) -> None:
    """Every task's on_failure_callback (dag_defaults): it runs after the last try failed, never for a skip."""
    send(alert(context), context)


async def notify_deadline_missed(context: dict) -> None:
    """The publication's DeadlineAlert callback: an AsyncCallback, which the triggerer awaits. The sending
    is a task's, synchronous, so it runs in a thread and leaves the triggerer's event loop free (the
    triggerer answers a thread's connection requests). Not a SyncCallback: in Airflow 3.3 the Execution
    API refuses an executor callback's token when it asks for a connection (apache/airflow#71192)."""
    await asyncio.to_thread(lambda: send(missed_deadline(context), context))
