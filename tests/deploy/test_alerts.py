"""Failure alerts reach a real local webhook and a real local SMTP server, with the DAG, task,
run, a link to the task in the UI, the exception and the failed batches' checks."""
from __future__ import annotations

import email
import json

import pytest
from receivers import smtp_server, webhook

from zhongwei.alerts import notify_failure


class FailedTask:
    """What a failure callback reads of its task instance."""

    dag_id, task_id, map_index, try_number = "ingest_ledgers", "ingest_outlets", 1, 3
    run_id = "manual__2025-04-08T07:00:00+08:00"
    log_url = "http://airflow.example/dags/ingest_ledgers/runs/manual__2025-04-08T07%3A00%3A00%2B08%3A00/tasks/ingest_outlets/mapped/1"

    def __init__(self, batches: list[str] | None):
        self.batches = batches

    def xcom_pull(self, task_ids, map_indexes, key):
        assert (task_ids, map_indexes, key) == (self.task_id, self.map_index, "failed_batches")
        return self.batches


@pytest.fixture
def lake(tmp_path, monkeypatch):
    monkeypatch.setenv("ZW_DATA", str(tmp_path))
    ledger = tmp_path / "lake" / "ledger" / "outlets"
    ledger.mkdir(parents=True)
    (ledger / "640521__202503.json").write_text(json.dumps(
        {"batch_id": "640521__202503", "failure": "truncated_file: the workbook ends mid-sheet"}))
    for conn in ("ALERTS_WEBHOOK", "SMTP_DEFAULT"):
        monkeypatch.delenv(f"AIRFLOW_CONN_{conn}", raising=False)
    return tmp_path


def context(batches=None):
    return {"ti": FailedTask(batches), "exception": RuntimeError("1 of 1 batches failed their checks")}


def test_a_quality_failure_is_posted_to_the_webhook(lake, monkeypatch):
    with webhook() as (url, received):
        monkeypatch.setenv("AIRFLOW_CONN_ALERTS_WEBHOOK", url.replace("http://", "http://:s3cret@"))
        notify_failure(context(["640521__202503"]))
    (alert,) = received
    assert alert["path"] == "/hooks/alerts" and alert["authorization"] == "Bearer s3cret"
    body = alert["body"]
    assert body["text"] == ("Airflow: ingest_ledgers.ingest_outlets[1] failed in run manual__2025-04-08T07:00:00+08:00"
                            " (1 batches failed their checks)")
    assert body["url"] == FailedTask.log_url
    assert body["exception"] == "1 of 1 batches failed their checks"
    assert body["failed_checks"] == {"640521__202503": "truncated_file: the workbook ends mid-sheet"}


def test_a_failure_is_mailed_through_the_smtp_connection(lake, monkeypatch):
    with smtp_server() as (port, received):
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://127.0.0.1:{port}?from_email=airflow%40zw.example"
                           "&to=ops%40zw.example&disable_tls=true&disable_ssl=true&retry_limit=0")
        notify_failure(context(["640521__202503"]))
    (mail,) = received
    assert mail["from"] == "airflow@zw.example" and mail["to"] == ["ops@zw.example"]
    message = email.message_from_string(mail["data"])
    assert "ingest_ledgers.ingest_outlets[1] failed" in message["Subject"]
    (html,) = [part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() == "text/html"]
    assert f'href="{FailedTask.log_url}"' in html
    assert "640521__202503" in html and "truncated_file: the workbook ends mid-sheet" in html


def test_without_an_alert_connection_nothing_is_sent(lake, monkeypatch):
    import zhongwei.alerts as alerts

    sent = []
    monkeypatch.setattr(alerts, "post_webhook", lambda *a: sent.append(a))
    monkeypatch.setattr(alerts, "send_mail", lambda *a: sent.append(a))
    notify_failure(context())  # neither connection exists: a no-op, never an error
    assert sent == []


def test_an_unreachable_webhook_does_not_raise(lake, monkeypatch):
    with webhook() as (url, received):
        pass  # the server is gone
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS_WEBHOOK", url)
    notify_failure(context())
