"""Alerts go through Airflow's notifiers to real local receivers: the SMTP notifier's mail to an SMTP
server, the Apprise notifier's post to an HTTP endpoint (Apprise's json://; a dingtalk:// URL always
goes to DingTalk's own host). A failure alert carries the DAG, task, run, a link to the task in the
UI, the exception and the failed batches' checks; the publication's deadline is the 5th of the next
month at 12:00 Beijing time, and a missed one is sent the same way."""
from __future__ import annotations

import asyncio
import email
import json
import logging
from datetime import datetime, timezone
from pathlib import Path

import pendulum
import pytest
from receivers import smtp_server, webhook

from zhongwei.alerts import notify_deadline_missed, notify_failure

DAGS = Path(__file__).parents[2] / "dags"


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
    for conn in ("APPRISE_DEFAULT", "SMTP_DEFAULT"):
        monkeypatch.delenv(f"AIRFLOW_CONN_{conn}", raising=False)
    return tmp_path


def context(batches=None):
    # braces, as a dbt error can hold: sent as they are, never rendered as a template
    return {"ti": FailedTask(batches), "exception": RuntimeError("1 of 1 batches failed their checks {{ ref('x') }}")}


def use_smtp(monkeypatch, port: int) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://127.0.0.1:{port}?from_email=airflow%40zw.example"
                       "&to=ops%40zw.example&disable_tls=true&disable_ssl=true&retry_limit=0&timeout=5")


def use_apprise(monkeypatch, url: str) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_APPRISE_DEFAULT", json.dumps(
        {"conn_type": "apprise", "extra": {"config": {"path": url.replace("http://", "json://")}}}))


def html_of(mail: dict) -> tuple[str, str]:
    message = email.message_from_string(mail["data"])
    (html,) = [p.get_payload(decode=True).decode() for p in message.walk() if p.get_content_type() == "text/html"]
    return message["Subject"], html


def test_a_quality_failure_is_mailed_through_the_smtp_notifier(lake, monkeypatch):
    with smtp_server() as (port, received):
        use_smtp(monkeypatch, port)
        notify_failure(context(["640521__202503"]))
    (mail,) = received
    assert mail["from"] == "airflow@zw.example" and mail["to"] == ["ops@zw.example"]
    subject, html = html_of(mail)
    assert subject == ("Airflow: ingest_ledgers.ingest_outlets[1] failed in run manual__2025-04-08T07:00:00+08:00"
                       " (1 batches failed their checks)")
    assert f'href="{FailedTask.log_url}"' in html
    assert "1 of 1 batches failed their checks {{ ref(&#x27;x&#x27;) }}" in html
    assert "<td>640521__202503</td><td>truncated_file: the workbook ends mid-sheet</td>" in html


def test_a_quality_failure_is_posted_through_the_apprise_notifier(lake, monkeypatch):
    with webhook() as (url, received):
        use_apprise(monkeypatch, url)
        notify_failure(context(["640521__202503"]))
    (post,) = received
    assert post["path"] == "/hooks/alerts"
    body = post["body"]
    assert body["type"] == "failure"
    assert body["title"] == ("Airflow: ingest_ledgers.ingest_outlets[1] failed in run "
                             "manual__2025-04-08T07:00:00+08:00 (1 batches failed their checks)")
    assert f"[Open the task in Airflow]({FailedTask.log_url})" in body["message"]
    assert "1 of 1 batches failed their checks {{ ref('x') }}" in body["message"]
    assert "- 640521__202503: truncated_file: the workbook ends mid-sheet" in body["message"]


def test_without_an_alert_connection_nothing_is_sent_and_that_is_logged(lake, monkeypatch, caplog):
    from airflow.providers.apprise.notifications.apprise import AppriseNotifier
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    sent = []
    for notifier in (SmtpNotifier, AppriseNotifier):
        monkeypatch.setattr(notifier, "notify", lambda self, ctx: sent.append(type(self).__name__))
    with caplog.at_level(logging.WARNING, logger="zhongwei.alerts"):
        notify_failure(context())  # neither connection exists: a no-op, never an error
    assert sent == []
    assert "No alert connection (smtp_default, apprise_default): nothing sent for Airflow: ingest_ledgers" in caplog.text

    with webhook() as (url, _):  # the same check sees a configured channel
        use_apprise(monkeypatch, url)
        notify_failure(context())
    assert sent == ["AppriseNotifier"]


def test_unreachable_channels_are_logged_not_raised(lake, monkeypatch, caplog):
    with webhook() as (url, _), smtp_server() as (port, _):
        pass  # both servers are gone
    use_apprise(monkeypatch, url)
    use_smtp(monkeypatch, port)
    with caplog.at_level(logging.WARNING):
        notify_failure(context())
    assert "Could not send the alert through smtp_default" in caplog.text
    assert any(r.name.startswith("apprise") and r.levelno >= logging.WARNING for r in caplog.records), caplog.text


@pytest.fixture(scope="module")
def publication_dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(DAGS / "publish_monthly_indicators.py"))
    assert bag.import_errors == {}
    return bag.dags["publish_monthly_indicators"]


@pytest.mark.parametrize("month, due", [("2025-03", (2025, 4, 5)), ("2025-12", (2026, 1, 5))])
def test_the_publication_of_a_month_is_due_the_5th_of_the_next_at_noon_beijing_time(publication_dag, month, due):
    from airflow.sdk import AsyncCallback, DeadlineReference
    from airflow.timetables.base import TimeRestriction

    from zhongwei.publish.tasks import months_for_run

    (deadline,) = publication_dag.deadline
    assert deadline.reference == DeadlineReference.DAGRUN_LOGICAL_DATE
    assert isinstance(deadline.callback, AsyncCallback)  # the triggerer runs it
    assert deadline.callback.path == "zhongwei.alerts.notify_deadline_missed"
    # the scheduled run after the month ended is the one that publishes it
    month_end = pendulum.parse(f"{month}-01", tz="Asia/Shanghai").end_of("month")
    run = publication_dag.timetable.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(earliest=month_end, latest=None, catchup=True))
    assert months_for_run({}, run.logical_date, "scheduled", []) == [month]
    assert run.logical_date + deadline.interval == pendulum.datetime(*due, 12, tz="Asia/Shanghai")


def test_a_missed_deadline_is_sent_through_the_notifiers(lake, monkeypatch):
    # the context the scheduler gives a deadline callback: the run as the REST API shows it, the deadline
    missed = {"dag_run": {"dag_id": "publish_monthly_indicators", "dag_run_id": "scheduled__2025-04-05T01:00:00+00:00",
                          "logical_date": "2025-04-05T01:00:00Z", "run_type": "scheduled", "state": "failed",
                          "conf": {}},
              "deadline": {"id": "0193", "deadline_time": datetime(2025, 4, 5, 4, tzinfo=timezone.utc)}}
    with smtp_server() as (port, mails), webhook() as (url, posts):
        use_smtp(monkeypatch, port)
        use_apprise(monkeypatch, url)
        asyncio.run(notify_deadline_missed(missed))
    title = ("Airflow: publish_monthly_indicators has not published 2025-03 by its deadline 2025-04-05 12:00 "
             "(Asia/Shanghai); run scheduled__2025-04-05T01:00:00+00:00 is failed")
    link = "/dags/publish_monthly_indicators/runs/scheduled__2025-04-05T01%3A00%3A00%2B00%3A00"
    (mail,) = mails
    subject, html = html_of(mail)
    assert subject == title and f'{link}">Open the run in Airflow</a>' in html
    (post,) = posts
    assert post["body"]["title"] == title and post["body"]["type"] == "warning"
    assert f"{link})" in post["body"]["message"]


def test_a_stale_feed_is_alerted_before_the_build_and_the_build_goes_on(lake, monkeypatch):
    """`dbt source freshness` on a lake whose courier feed last loaded in 2025: past `error_after`
    (7 days), so the freshness task alerts, names the feed and when it last loaded, and returns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zhongwei.warehouse import tasks

    for table in ("courier_waybills", "courier_events"):
        day = lake / "lake" / "raw" / table / "company=SF" / "day=2025-03-01"
        day.mkdir(parents=True)
        pq.write_table(pa.table({"received_at": pa.array([datetime(2025, 3, 1, 8, tzinfo=timezone.utc)])}),
                       day / "part.parquet")
    task = FailedTask(None)
    monkeypatch.setattr(tasks, "get_current_context", lambda: {"ti": task})
    with webhook() as (url, received):
        use_apprise(monkeypatch, url)
        statuses = tasks.source_freshness()
    assert {s: v["status"] for s, v in statuses.items()} == {"lake.courier_events": "error",
                                                             "lake.courier_waybills": "error"}
    (post,) = received
    assert post["body"]["type"] == "warning"
    assert post["body"]["title"] == (f"Airflow: feeds past their freshness limit before build {task.run_id}: "
                                     "lake.courier_events, lake.courier_waybills")
    assert "lake.courier_events: last loaded 2025-03-01 08:00:00+00:00" in post["body"]["message"]
