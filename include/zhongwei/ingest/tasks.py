"""What the ingestion DAGs' tasks do, with plain arguments and JSON-able results.

Each function loads everything it can, writes it, and only then raises if some
batch failed its checks, so one bad file never holds back the others and the
task still shows red.
"""
from __future__ import annotations

import os
from functools import lru_cache

from zhongwei.config import Settings
from zhongwei.xcom import FAILED_BATCHES
from zhongwei.dag_defaults import announce_months
from zhongwei.exchange.client import ExchangeClient, connection_from_uri
from zhongwei.ingest import courier, files
from zhongwei.ingest.batches import BatchFailures, raise_if_failed
from zhongwei.ingest.windows import Window
from zhongwei.lake import DUPLICATE_FILE, FAILED, Lake, LedgerEntry
from zhongwei.quality.gx import Quality

EXCHANGE_CONN = "courier_exchange"


def _settings() -> Settings:
    return Settings.from_env()


@lru_cache(maxsize=1)
def _quality() -> Quality:
    return Quality(_settings())


def exchange_client() -> ExchangeClient:
    """From the Airflow connection `courier_exchange` (the password is the bearer token)."""
    uri = os.environ.get(f"AIRFLOW_CONN_{EXCHANGE_CONN.upper()}")
    if uri is None:
        from airflow.sdk import Connection

        conn = Connection.get(EXCHANGE_CONN)
        uri = conn.get_uri()
    base_url, token = connection_from_uri(uri)
    return ExchangeClient(base_url, token)


def summary(entries: list[LedgerEntry]) -> dict:
    return {
        "batches": len(entries),
        "failed": [e.batch_id for e in entries if e.status == FAILED],
        "duplicate_files": [e.batch_id for e in entries if e.status == DUPLICATE_FILE],
        "rows_arrived": sum(e.rows_arrived for e in entries),
        "rows_loaded": sum(e.rows_loaded for e in entries),
        "rows_quarantined": sum(e.rows_quarantined for e in entries),
        "duplicates": sum(e.duplicates for e in entries),
    }


def _finish(entries: list[LedgerEntry], window: Window) -> dict:
    """The task's summary, or a failure that Airflow must not retry: the same data fails the same way."""
    from airflow.sdk import get_current_context

    context = get_current_context()
    try:
        raise_if_failed(entries)
    except BatchFailures as failures:
        from airflow.sdk.exceptions import AirflowFailException

        # tell `zw run` (and anyone reading XComs) that the data failed its checks, not the code
        context["ti"].xcom_push(key=FAILED_BATCHES, value=summary(entries)["failed"])
        raise AirflowFailException(str(failures)) from failures
    if context["params"].get("month"):  # a whole-month load: the publication may follow it
        announce_months(context, window.months())
    return summary(entries)


def list_companies() -> list[str]:
    return [c["code"] for c in exchange_client().companies()]


def ingest_courier_company(company: str, window: Window, run_name: str) -> dict:
    s = _settings()
    return _finish(courier.ingest_company(Lake(s.lake), _quality(), exchange_client(), company, window, run_name), window)


def ingest_platform(platform: str, window: Window, run_name: str) -> dict:
    s = _settings()
    return _finish(files.ingest_platform(Lake(s.lake), _quality(), s.inbox, platform, window, run_name), window)


def ingest_outlets(county: str, window: Window, run_name: str) -> dict:
    s = _settings()
    return _finish(files.ingest_outlets(Lake(s.lake), _quality(), s.inbox, county, window, run_name), window)


def ingest_registry(window: Window, run_name: str) -> dict:
    s = _settings()
    return _finish(files.ingest_registry(Lake(s.lake), _quality(), s.inbox, window, run_name), window)


def build_quality_docs(run_name: str) -> str:
    """Data Docs for this DAG run's validations (and the site index)."""
    return str(_quality().build_docs(run_name))


def platform_file_arrived(platform: str, window: Window) -> bool:
    """The sensor's test: the export of the window's last day is in the inbox."""
    last = Window.day(window.last)
    return bool(files.platform_files(_settings().inbox, platform, last))
