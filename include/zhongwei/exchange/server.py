"""A simulator of the courier exchange API, serving records from JSON Lines files.

`zw exchange serve` runs it in the foreground (`run_server`); tests and local
pipelines start it on a free port in a background thread (`serve_in_thread`,
or `make_server(...).start()`).

Pages are cut from a sorted index and filled with the raw lines read back
from the files, so records reach the client byte for byte as delivered.
Page tokens are stateless: urlsafe base64 of JSON holding a fingerprint of
the query, the start position in the window and a "repeat" flag. Fault mode
answers some requests with 429/500/503 and makes some pages come twice, but
never loses or alters a record.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from zhongwei.exchange.contract import (
    DEFAULT_PAGE_SIZE,
    KINDS,
    MAX_PAGE_SIZE,
    epoch_us,
    parse_instant,
)
from zhongwei.exchange.index import ExchangeIndex, build_index
from zhongwei.reference import COMPANY_NAMES

PAGE_PATHS = {f"/v1/{kind}": kind for kind in KINDS}
PAGE_PARAMETERS = ("company", "received_from", "received_to", "page_size", "page_token")
SIMULATED_FAULTS = {429: "rate_limited", 500: "internal_error", 503: "service_unavailable"}


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: object, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(payload, ensure_ascii=False).encode(), headers or {})


class BadRequest(Exception):
    """A parameter the contract does not allow; answered 400 with this message."""


@dataclass(frozen=True)
class PageToken:
    """Where a page starts in one query's window; opaque to clients."""

    query: str  # fingerprint of (kind, company, window instants)
    position: int
    repeat: bool = False  # this request replays the previous page; the next token must move on

    def encode(self) -> str:
        text = json.dumps({"q": self.query, "p": self.position, "r": int(self.repeat)}, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()

    @classmethod
    def decode(cls, text: str) -> PageToken:
        try:
            fields = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            token = cls(fields["q"], fields["p"], bool(fields["r"]))
        except (binascii.Error, ValueError, TypeError, KeyError):
            raise BadRequest("page_token is malformed") from None
        if not isinstance(token.query, str) or type(token.position) is not int or token.position < 0:
            raise BadRequest("page_token is malformed")
        return token


@dataclass(frozen=True)
class PageQuery:
    kind: str
    company: str
    from_us: int
    to_us: int
    page_size: int
    token: PageToken | None

    @property
    def fingerprint(self) -> str:
        """Same instants in other offsets are the same query; page_size may change between pages."""
        key = f"{self.kind}|{self.company}|{self.from_us}|{self.to_us}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]


class FaultDice:
    """Decides which requests fail and which pages come twice.

    One seeded generator behind a lock: for a given seed and request order the
    faults are the same on every run.
    """

    def __init__(self, rate: float, seed: int | None, retry_after: int) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault_rate must be between 0 and 1, not {rate}")
        self.rate = rate
        self.retry_after = retry_after
        self.counts: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def _roll(self) -> bool:
        return self.rate > 0 and self._random.random() < self.rate

    def failure(self) -> Reply | None:
        """A simulated 429/500/503, or None to answer normally."""
        with self._lock:
            if not self._roll():
                return None
            status = self._random.choice(sorted(SIMULATED_FAULTS))
            self.counts[str(status)] += 1
        headers = {"Retry-After": str(self.retry_after)} if status == 429 else {}
        return json_reply(status, {"error": SIMULATED_FAULTS[status], "simulated": True}, headers)

    def repeat_page(self) -> bool:
        with self._lock:
            repeat = self._roll()
            if repeat:
                self.counts["repeated_page"] += 1
        return repeat


class ExchangeApi:
    """The contract's answers, independent of the HTTP plumbing."""

    def __init__(self, index: ExchangeIndex, token: str, faults: FaultDice) -> None:
        if not token:
            raise ValueError("the exchange needs a non-empty bearer token")
        self.index = index
        self.faults = faults
        self._token = token.encode()
        self._known_companies = set(index.companies()) | set(COMPANY_NAMES)

    def respond(self, target: str, authorization: str | None) -> Reply:
        if not self._authorized(authorization):
            return json_reply(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})
        url = urlsplit(target)
        if url.path != "/v1/companies" and url.path not in PAGE_PATHS:
            return json_reply(404, {"error": f"no such endpoint: {url.path}"})
        failure = self.faults.failure()
        if failure is not None:
            return failure
        if url.path == "/v1/companies":
            codes = self.index.companies()
            return json_reply(200, {"items": [{"code": c, "name": COMPANY_NAMES.get(c, c)} for c in codes]})
        try:
            return self._page(self._page_query(PAGE_PATHS[url.path], url.query))
        except BadRequest as problem:
            return json_reply(400, {"error": str(problem)})

    def _authorized(self, authorization: str | None) -> bool:
        scheme, _, credentials = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), self._token)

    def _page_query(self, kind: str, query_string: str) -> PageQuery:
        values = parse_qs(query_string, keep_blank_values=True)
        for name, given in values.items():
            if name not in PAGE_PARAMETERS:
                raise BadRequest(f"unknown parameter {name!r}; allowed: {', '.join(PAGE_PARAMETERS)}")
            if len(given) > 1:
                raise BadRequest(f"{name} is given more than once")
        params = {name: given[0] for name, given in values.items()}
        company = params.get("company", "")
        if not company:
            raise BadRequest("company is required")
        if company not in self._known_companies:
            raise BadRequest(f"unknown company {company!r}; known: {', '.join(sorted(self._known_companies))}")
        from_us, to_us = (_instant_parameter(params, name) for name in ("received_from", "received_to"))
        if from_us >= to_us:
            raise BadRequest("received_from must be earlier than received_to")
        page_size = params.get("page_size", str(DEFAULT_PAGE_SIZE))
        if not (page_size.isascii() and page_size.isdigit() and 1 <= int(page_size) <= MAX_PAGE_SIZE):
            raise BadRequest(f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}, not {page_size!r}")
        token = PageToken.decode(params["page_token"]) if params.get("page_token") else None  # empty: first page
        return PageQuery(kind, company, from_us, to_us, int(page_size), token)

    def _page(self, query: PageQuery) -> Reply:
        first, last = self.index.window(query.kind, query.company, query.from_us, query.to_us)
        token = query.token or PageToken(query.fingerprint, 0)
        if token.query != query.fingerprint:
            raise BadRequest("page_token belongs to another query")
        if token.position > last - first:
            raise BadRequest("page_token points past the end of the window")
        start = first + token.position
        stop = min(start + query.page_size, last)
        if not token.repeat and self.faults.repeat_page():
            following: PageToken | None = PageToken(token.query, token.position, repeat=True)
        elif stop < last:
            following = PageToken(token.query, stop - first)
        else:
            following = None
        lines = self.index.kinds[query.kind].read_lines(start, stop)
        next_token = json.dumps(following.encode() if following else None).encode()
        body = b'{"items": [' + b",".join(lines) + b'], "next_page_token": ' + next_token + b"}"
        return Reply(200, body)


def _instant_parameter(params: dict[str, str], name: str) -> int:
    text = params.get(name, "")
    if not text:
        raise BadRequest(f"{name} is required")
    try:
        return epoch_us(parse_instant(text))
    except ValueError as problem:
        hint = " (a '+' in a query string must be sent as %2B)" if " " in text else ""
        raise BadRequest(f"{name} {problem}{hint}") from None


class _Handler(BaseHTTPRequestHandler):
    server: ExchangeServer
    protocol_version = "HTTP/1.1"  # keep-alive: clients page through thousands of requests
    timeout = 60  # drop idle keep-alive connections
    disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle would delay each reply ~40 ms

    def do_GET(self) -> None:
        try:
            reply = self.server.api.respond(self.path, self.headers.get("Authorization"))
        except Exception:  # a bug or a changed file must not kill the connection silently
            traceback.print_exc(file=sys.stderr)
            reply = json_reply(500, {"error": "internal_error"})
        self._send(reply)

    def _not_allowed(self) -> None:
        self._send(json_reply(405, {"error": f"method {self.command} not allowed"}, {"Allow": "GET"}))

    do_POST = do_PUT = do_PATCH = do_DELETE = _not_allowed

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log_requests:
            super().log_message(format, *args)


class ExchangeServer(ThreadingHTTPServer):
    """The exchange bound to an address; `start()` serves from a background thread."""

    daemon_threads = True

    def __init__(self, api: ExchangeApi, address: tuple[str, int], *, log_requests: bool = False) -> None:
        super().__init__(address, _Handler)
        self.api = api
        self.log_requests = log_requests
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        """Serve in a daemon thread; returns the base URL."""
        self._thread = threading.Thread(target=self.serve_forever, name="courier-exchange", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        if self._thread:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def make_server(
    data_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    token: str,
    fault_rate: float = 0.0,
    seed: int | None = None,
    retry_after: int = 1,
    log_requests: bool = False,
) -> ExchangeServer:
    """Index data_dir and bind (port 0: a free port). Nothing is served until start() or serve_forever()."""
    faults = FaultDice(fault_rate, seed, retry_after)
    api = ExchangeApi(build_index(data_dir), token, faults)
    return ExchangeServer(api, (host, port), log_requests=log_requests)


@contextmanager
def serve_in_thread(
    data_dir: str | Path,
    *,
    token: str,
    fault_rate: float = 0.0,
    seed: int | None = None,
    retry_after: int = 1,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[str]:
    """`with serve_in_thread(folder, token=...) as base_url:` - the exchange for the duration of the block."""
    server = make_server(
        data_dir, host, port, token=token, fault_rate=fault_rate, seed=seed, retry_after=retry_after
    )
    try:
        yield server.start()
    finally:
        server.stop()


def run_server(
    data_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    token: str,
    fault_rate: float = 0.0,
    seed: int | None = None,
    retry_after: int = 1,
) -> None:
    """Serve in the foreground until interrupted (what `zw exchange serve` runs)."""
    print(f"indexing {data_dir} ...", file=sys.stderr, flush=True)
    began = time.perf_counter()
    server = make_server(
        data_dir, host, port, token=token, fault_rate=fault_rate, seed=seed, retry_after=retry_after,
        log_requests=True,
    )
    index = server.api.index
    print(f"indexed in {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
    if index.skipped:
        print(
            f"warning: skipped {index.skipped} lines that are not JSON objects with a company and a received_at "
            "with UTC offset; first ones:",
            *(f"  {example}" for example in index.skipped_examples),
            sep="\n", file=sys.stderr, flush=True,
        )
    counts = {kind: len(kind_index) for kind, kind_index in index.kinds.items()}
    print(
        f"courier exchange serving {counts['waybills']} waybills, {counts['events']} events "
        f"from {data_dir} on {server.url}",
        flush=True,
    )
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
