"""Client for the courier exchange API, as the ingestion DAG uses it.

It yields pages exactly as served. The same page can come twice and the same
record can appear in two windows, so de-duplication belongs to the caller's
idempotent load, not here.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

from zhongwei.exchange.contract import DEFAULT_PAGE_SIZE, KINDS, MAX_PAGE_SIZE

TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
MAX_BACKOFF_SECONDS = 60.0


class ExchangeError(RuntimeError):
    """The exchange refused a request, or kept failing past the retry budget."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(f"{message} (status {status}): {body[:500]}" if status else f"{message}: {body[:500]}")
        self.status = status
        self.body = body


def connection_from_uri(uri: str) -> tuple[str, str]:
    """(base_url, token) from an Airflow connection URI such as `http://:TOKEN@127.0.0.1:8765`.

    The password is the bearer token (percent-decoded, as Airflow writes it).
    """
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected http(s)://:TOKEN@host:port, got scheme {parts.scheme!r}")
    if not parts.password:
        raise ValueError("the connection URI has no password; it must carry the bearer token")
    address = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{address}{parts.path.rstrip('/')}", unquote(parts.password)


class ExchangeClient:
    """Pages through the exchange, retrying what the contract calls transient.

    429 waits for Retry-After and is not an error until `max_rate_limited`
    waits in one request; 500/502/503/504 and connection errors are retried
    with exponential backoff and jitter, `max_retries` times; any other status
    raises ExchangeError at once. `stats` counts what was retried.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_retries: int = 8,
        backoff_base: float = 0.5,
        session: requests.Session | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_rate_limited: int = 100,
        timeout: float = 120.0,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be from 1 to {MAX_PAGE_SIZE}, not {page_size}")
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.max_rate_limited = max_rate_limited
        self.timeout = timeout
        self.stats: Counter[str] = Counter()
        self._session = session or requests.Session()
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._sleep = sleep
        self._jitter = random.Random()

    def companies(self) -> list[dict[str, str]]:
        """[{"code": "SF", "name": <its name in the contract>}, ...] for the companies with data."""
        return self._get("/v1/companies", {})["items"]

    def iter_pages(
        self, kind: str, company: str, received_from: datetime, received_to: datetime
    ) -> Iterator[tuple[str | None, list[dict[str, Any]]]]:
        """(page_token that fetched the page, or None for the first; items) for each page as served."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        if received_from.utcoffset() is None or received_to.utcoffset() is None:
            raise ValueError("received_from and received_to must carry a time zone")
        params = {
            "company": company,
            "received_from": received_from.isoformat(),
            "received_to": received_to.isoformat(),
            "page_size": str(self.page_size),
        }
        token: str | None = None
        seen: set[str] = set()
        while True:
            payload = self._get(f"/v1/{kind}", params | ({"page_token": token} if token else {}))
            if "next_page_token" not in payload:
                raise ExchangeError("the exchange answered a page without next_page_token", body=str(payload)[:500])
            yield token, payload["items"]
            token = payload["next_page_token"]
            if token is None:
                return
            if token in seen:  # a server bug would otherwise keep a DAG task paging forever
                raise ExchangeError("the exchange handed out a page_token twice", body=token)
            seen.add(token)

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        url = self.base_url + path
        failures = rate_limited = 0
        while True:
            try:
                response = self._session.get(url, params=params, headers=self._headers, timeout=self.timeout)
            except TRANSIENT_ERRORS as error:
                self.stats["connection_error"] += 1
                status, body = None, f"{type(error).__name__}: {error}"
            else:
                if response.status_code == 200:
                    return _payload(response)
                status, body = response.status_code, response.text
                self.stats[f"http_{status}"] += 1
                if status == 429 and rate_limited < self.max_rate_limited:
                    rate_limited += 1
                    wait = _retry_after(response)
                    self._sleep(self._backoff(rate_limited) if wait is None else wait)
                    continue
                if status not in TRANSIENT_STATUSES:
                    raise ExchangeError(f"GET {path} refused", status=status, body=body)
            failures += 1
            if failures > self.max_retries:
                raise ExchangeError(f"GET {path} still failing after {failures} attempts", status=status, body=body)
            self._sleep(self._backoff(failures))

    def _backoff(self, attempt: int) -> float:
        """backoff_base * 2^(attempt-1), +-50 % jitter so many clients do not retry in step."""
        return min(self.backoff_base * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS) * self._jitter.uniform(0.5, 1.5)


def _retry_after(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date); None if absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _payload(response: requests.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        raise ExchangeError("the exchange answered 200 with a body that is not JSON", body=response.text) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise ExchangeError("the exchange answered 200 without an items list", body=response.text)
    return payload
