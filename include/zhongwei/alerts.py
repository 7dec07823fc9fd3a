"""Failure alerts: every DAG's tasks call `notify_failure` when they fail for good.

It posts to the `alerts_webhook` connection (JSON; Slack-style `text` plus the
fields) and/or mails through the SMTP provider's `smtp_default` connection
(extras `from_email` and `to`): only where such a connection exists. The alert
names the DAG, task and run, links to the task in the UI (`[api] base_url`),
gives the exception and, when the data failed its checks, the failed batches
with the check each one failed.
"""
from __future__ import annotations

import json
import logging
from html import escape

log = logging.getLogger(__name__)

WEBHOOK_CONN = "alerts_webhook"
SMTP_CONN = "smtp_default"


def _connection(conn_id: str):
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


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
        "text": f"Airflow: {ti.dag_id}.{task} failed in run {ti.run_id}" + (
            f" ({len(batches)} batches failed their checks)" if batches else ""),
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "map_index": map_index,
        "run_id": ti.run_id,
        "try_number": ti.try_number,
        "url": ti.log_url,
        "exception": str(context.get("exception") or ""),
        "failed_checks": failed_checks(batches),
    }


def post_webhook(conn, message: dict) -> None:
    import requests

    scheme = "https" if conn.conn_type == "https" else "http"
    url = f"{scheme}://{conn.host}{f':{conn.port}' if conn.port else ''}/{conn.schema or ''}"
    headers = {"Authorization": f"Bearer {conn.password}"} if conn.password else {}
    requests.post(url, json=message, headers=headers, timeout=10).raise_for_status()


def send_mail(message: dict) -> None:
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    rows = "".join(f"<tr><td>{escape(b)}</td><td>{escape(c)}</td></tr>" for b, c in message["failed_checks"].items())
    html = (f"<p>{escape(message['text'])}</p><p><a href=\"{escape(message['url'])}\">Open the task in Airflow</a></p>"
            f"<pre>{escape(message['exception'])}</pre>"
            + (f"<table><tr><th>batch</th><th>failed check</th></tr>{rows}</table>" if rows else ""))
    with SmtpHook(smtp_conn_id=SMTP_CONN) as hook:
        hook.send_email_smtp(to=hook.conn.extra_dejson["to"], subject=message["text"], html_content=html)


def notify_failure(context) -> None:
    """on_failure_callback: alert every configured channel; an alert that cannot be sent is
    logged, never raised (the task has failed already; its own error is what matters)."""
    webhook, smtp = _connection(WEBHOOK_CONN), _connection(SMTP_CONN)
    if not (webhook or smtp):
        return
    message = alert(context)
    for channel, configured, send in (("webhook", webhook, lambda: post_webhook(webhook, message)),
                                      ("e-mail", smtp, lambda: send_mail(message))):
        if configured:
            try:
                send()
            except Exception:
                log.exception("could not send the %s alert for %s", channel, message["text"])

