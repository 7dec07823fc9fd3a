"""The courier exchange simulator and client, over real HTTP on 127.0.0.1.

The data is generated here: several companies over four days, records exactly
on day boundaries written in different UTC offsets, CRLF and BOM files, nested
folders, unparseable lines, plus the shared samples. The expectation comes from
an independent reading of the files (json.loads + fromisoformat per line).
"""
from __future__ import annotations

import base64
import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from zhongwei.exchange.client import ExchangeClient, ExchangeError, connection_from_uri
from zhongwei.exchange.contract import KINDS
from zhongwei.exchange.index import build_index
from zhongwei.exchange.server import make_server, serve_in_thread
from zhongwei.reference import COMPANY_NAMES

TOKEN = "zw-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "courier"
CST = timezone(timedelta(hours=8))
OFFSETS = (CST, timezone.utc, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=45)))
FIRST_DAY = datetime(2025, 3, 1, tzinfo=CST)
DAYS = 4
GENERATED_COMPANIES = ("SF", "ZTO", "JTSD", "EMS", "YUNDA", "ZWKD")  # ZWKD: a local brand outside the contract table
BOUNDARY_COMPANIES = ("SF", "ZTO")
# Daily windows over the generated days (boundaries in varying offsets), then one to the end of the samples.
BOUNDARIES = [
    (FIRST_DAY + timedelta(days=day)).astimezone(OFFSETS[day % 3]) for day in range(-1, DAYS + 2)
] + [datetime(2025, 4, 3, tzinfo=CST)]
WINDOWS = list(zip(BOUNDARIES, BOUNDARIES[1:]))
WHOLE_RANGE = {"received_from": BOUNDARIES[0].isoformat(), "received_to": BOUNDARIES[-1].isoformat()}
UNSERVABLE = [
    b"this is not json",
    b'{"company": "SF", "received_at": "2025-03-02T10:00:00+08:00"',
    b'{"company": "SF"}',
    b'{"company": "SF", "received_at": "2025-03-02T10:00:00"}',
    b'{"company": "SF", "received_at": "yesterday"}',
    b'{"company": "SF", "received_at": "2025-02-29T10:00:00+08:00"}',
    b'{"company": 7, "received_at": "2025-03-02T10:00:00+08:00"}',
    b'{"company": "", "received_at": "2025-03-02T10:00:00+08:00"}',
    b'{"company": "SF", "received_at": "2025-03-02T10:00:00+08:00", "weight_g": NaN}',
    b'{"company": "SF", "received_at": "2025-03-02T10:00:00+08:00", "context": "\xff\xfe"}',
    b"[1, 2, 3]",
    b'{"company": "SF", "received_at": "2025-03-02T10:00:00+08:00"}'
    b' {"company": "SF", "received_at": "2025-03-02T11:00:00+08:00"}',  # two records on one line
    b'{"parcel": {"company": "SF", "received_at": "2025-03-02T10:00:00+08:00"}}',
]
# Unusual but valid: served as they are.
ODD_BUT_VALID = [
    b'   {"company": "ZTO", "received_at": "2025-03-02T11:00:00+08:00", "note": "leading blanks"}',
    b'{"company": "S\\u0046", "received_at": "2025-03-02T12:00:00+08:00", "note": "escaped code"}',
    b'{"company": "ZTO", "company": "SF", "received_at": "2025-03-02T13:00:00+08:00", "note": "last key wins"}',
]


# ---------------------------------------------------------------- test data


def _received_at(rng: random.Random, moment: datetime) -> str:
    style = rng.random()
    if style < 0.05:
        return moment.astimezone(CST).isoformat(sep=" ", timespec="milliseconds")
    if style < 0.1:
        return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return moment.astimezone(OFFSETS[0] if style < 0.7 else rng.choice(OFFSETS)).isoformat()


def _record(kind: str, seq: int, company: str, received_at: str) -> bytes:
    common = {"waybill_no": f"{company}{seq:010d}", "company": company, "received_at": received_at, "seq": seq}
    extra = (
        {"weight_g": seq % 30000, "receiver": {"name": "李娜", "address": "上海市浦东新区张江镇"}}
        if kind == "waybills"
        else {"state": seq % 6, "context": "快件已发车,正在运往【银川转运中心】"}
    )
    return json.dumps(common | extra, ensure_ascii=False).encode()


def _records(kind: str, count: int, rng: random.Random) -> list[bytes]:
    lines = []
    for seq in range(count):
        moment = FIRST_DAY + timedelta(seconds=rng.randrange(DAYS * 86400))
        lines.append(_record(kind, seq, rng.choice(GENERATED_COMPANIES), _received_at(rng, moment)))
    for day in range(DAYS + 1):
        boundary = FIRST_DAY + timedelta(days=day)
        for company in BOUNDARY_COMPANIES:
            for tz in OFFSETS[:3]:  # the same instant three ways: all belong to the later window
                lines.append(_record(kind, len(lines), company, boundary.astimezone(tz).isoformat()))
            just_before = boundary - timedelta(microseconds=1)
            lines.append(_record(kind, len(lines), company, just_before.isoformat()))
    rng.shuffle(lines)
    lines.append(lines[0])  # the same record delivered twice is two records
    return lines


def write_courier_data(root: Path) -> Path:
    """A folder in the contract's layout; deterministic."""
    rng = random.Random(20250304)
    waybills, events = _records("waybills", 900, rng), _records("events", 1800, rng)
    (root / "2025-03").mkdir(parents=True)
    (root / "deep" / "er").mkdir(parents=True)
    half = len(waybills) // 2
    (root / "waybills_2025-03-01.jsonl").write_bytes(b"\n".join(waybills[:half]) + b"\n")
    (root / "2025-03" / "waybills_2025-03-03.jsonl").write_bytes(b"\r\n".join(waybills[half:]) + b"\r\n")
    first = events[:900]
    for at, line in enumerate(UNSERVABLE + ODD_BUT_VALID + [b"", b"   "]):
        first.insert(37 * at + 11, line)
    (root / "events_a.jsonl").write_bytes(b"\xef\xbb\xbf" + b"\n".join(first) + b"\n")
    (root / "deep" / "er" / "events_b.jsonl").write_bytes(b"\n".join(events[900:]))  # no final newline
    shutil.copytree(SAMPLES, root / "samples")
    (root / "notes.jsonl").write_text("not a record file: the name matches neither pattern\n")
    return root


def _reference_instant(text: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return moment if moment and moment.utcoffset() is not None else None


def _reference_parse(raw: bytes) -> dict | None:
    try:
        record = json.loads(raw.decode("utf-8"), parse_constant=lambda name: 1 / 0)
    except (UnicodeDecodeError, ValueError, ZeroDivisionError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("company"), str) or not record["company"]:
        return None
    return record if _reference_instant(record.get("received_at")) else None


def reference(data_dir: Path) -> tuple[dict[str, list[bytes]], int]:
    """(servable raw lines per kind, number of unservable lines), read independently of the index."""
    served: dict[str, list[bytes]] = {}
    unservable = 0
    for kind in KINDS:
        served[kind] = []
        for path in sorted(data_dir.rglob(f"{kind}*.jsonl")):
            for raw in path.read_bytes().removeprefix(b"\xef\xbb\xbf").split(b"\n"):
                raw = raw.removesuffix(b"\r")
                if not raw.strip():
                    continue
                if _reference_parse(raw) is None:
                    unservable += 1
                else:
                    served[kind].append(raw)
    return served, unservable


def canonical(record: dict) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def canonical_counts(lines: list[bytes]) -> Counter[str]:
    return Counter(canonical(json.loads(line)) for line in lines)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_courier_data(tmp_path_factory.mktemp("courier"))


@pytest.fixture(scope="module")
def expected(data_dir: Path) -> dict[str, list[bytes]]:
    served, unservable = reference(data_dir)
    assert unservable == len(UNSERVABLE)
    return served


@pytest.fixture(scope="module")
def base_url(data_dir: Path) -> Iterator[str]:
    with serve_in_thread(data_dir, token=TOKEN) as url:
        yield url


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def present_companies(expected: dict[str, list[bytes]]) -> list[str]:
    return sorted({json.loads(line)["company"] for lines in expected.values() for line in lines})


# ---------------------------------------------------------------- index


def test_index_matches_the_reference_whatever_the_block_size(data_dir: Path, expected: dict[str, list[bytes]]) -> None:
    """A big block has Arrow reject batches and halve them down to the bad lines; tiny ones go line by line."""
    for block_size in (1024, 1 << 20):
        index = build_index(data_dir, block_size=block_size)
        assert index.skipped == len(UNSERVABLE)
        assert re.fullmatch(r"events_a\.jsonl:\d+: .+", index.skipped_examples[0])
        for kind in KINDS:
            kind_index = index.kinds[kind]
            lines = kind_index.read_lines(0, len(kind_index))
            assert sorted(lines) == sorted(expected[kind])


def test_index_reads_timestamps_exactly_as_fromisoformat(tmp_path: Path) -> None:
    texts = [
        "2025-03-04T10:25:13+08:00", "2024-02-29T23:59:59-00:30", "2025-03-04T10:25:13+23:59",
        "2025-03-04T10:25:13Z", "2025-03-04T10:25:13.250+08:00", "2025-03-04 10:25:13+08:00",
        "20250304T102513+0800", "0999-01-01T00:00:00+00:00", "2025-03-04T10:25:13+05:45",
        "2025-02-29T10:25:13+08:00", "2025-03-04T24:00:00+08:00", "2025-03-04T10:60:00+08:00",
        "2025-03-04T10:25:13+24:00", "2025-03-04T10:25:13", "2025-03-04", "0000-01-01T00:00:00+00:00",
    ]
    lines = [json.dumps({"company": "SF", "received_at": text}) for text in texts * 3]
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + "\n")
    index = build_index(tmp_path, block_size=64)  # a block a line: the vectorised path sees valid ones alone
    valid = [moment for moment in map(_reference_instant, texts * 3) if moment]
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert index.skipped == len(lines) - len(valid)
    assert index.kinds["events"].received_us.tolist() == sorted((m - epoch) // timedelta(microseconds=1) for m in valid)


# ---------------------------------------------------------------- serving every record once


@pytest.mark.parametrize("page_size", [1, 7, 1000, 5000])
def test_adjacent_windows_serve_every_record_exactly_once(
    base_url: str, expected: dict[str, list[bytes]], page_size: int
) -> None:
    client = ExchangeClient(base_url, TOKEN, page_size=page_size)
    for kind in KINDS:
        served: Counter[str] = Counter()
        for company in present_companies(expected) + ["DBL"]:
            for received_from, received_to in WINDOWS:
                previous = received_from
                for _, items in client.iter_pages(kind, company, received_from, received_to):
                    assert len(items) <= page_size
                    for item in items:
                        instant = datetime.fromisoformat(item["received_at"])
                        assert item["company"] == company and previous <= instant < received_to
                        previous = instant  # served in received_at order
                        served[canonical(item)] += 1
        assert served == canonical_counts(expected[kind])


def test_records_on_a_boundary_belong_to_the_later_window_whatever_their_offset(
    base_url: str, http: requests.Session
) -> None:
    boundary = FIRST_DAY + timedelta(days=2)
    params = {"company": "SF", "received_from": boundary.astimezone(timezone.utc).isoformat(),
              "received_to": (boundary + timedelta(seconds=1)).isoformat()}
    items = http.get(f"{base_url}/v1/events", params=params, headers=AUTH).json()["items"]
    instants = {datetime.fromisoformat(item["received_at"]) for item in items}
    offsets = {datetime.fromisoformat(item["received_at"]).utcoffset() for item in items}
    assert instants == {boundary} and len(offsets) == 3


def test_lines_are_served_byte_for_byte(
    base_url: str, http: requests.Session, expected: dict[str, list[bytes]]
) -> None:
    params = {"company": "ZTO", "page_size": 5000, **WHOLE_RANGE}
    body = http.get(f"{base_url}/v1/waybills", params=params, headers=AUTH).content
    mine = [line for line in expected["waybills"] if json.loads(line)["company"] == "ZTO"]
    assert body.startswith(b'{"items": [') and b"\r" not in body
    assert all(line in body for line in mine)
    assert len(json.loads(body)["items"]) == len(mine)


def test_companies_lists_the_data_with_contract_names(
    base_url: str, http: requests.Session, expected: dict[str, list[bytes]]
) -> None:
    items = http.get(f"{base_url}/v1/companies", headers=AUTH).json()["items"]
    assert items == [{"code": code, "name": COMPANY_NAMES.get(code, code)} for code in present_companies(expected)]
    assert {"code": "ZWKD", "name": "ZWKD"} in items


# ---------------------------------------------------------------- paging


def _follow(http: requests.Session, url: str, params: dict[str, str | int]) -> list[requests.Response]:
    pages = [http.get(url, params=params, headers=AUTH)]
    while token := pages[-1].json()["next_page_token"]:
        pages.append(http.get(url, params=params | {"page_token": token}, headers=AUTH))
    return pages


def test_paging_tokens(base_url: str, http: requests.Session) -> None:
    url, params = f"{base_url}/v1/events", {"company": "SF", "page_size": 7, **WHOLE_RANGE}
    pages = _follow(http, url, params)
    assert len(pages) > 3 and all(page.status_code == 200 for page in pages)
    assert pages[-1].json()["next_page_token"] is None
    token = pages[0].json()["next_page_token"]
    again = http.get(url, params=params | {"page_token": token}, headers=AUTH)
    assert again.content == pages[1].content

    # the same instants in another offset are the same query; page_size may change
    same_instants = params | {"received_from": BOUNDARIES[0].astimezone(timezone.utc).isoformat(), "page_size": 3}
    reply = http.get(url, params=same_instants | {"page_token": token}, headers=AUTH)
    assert reply.json()["items"] == pages[1].json()["items"][:3]

    for other in ({"company": "ZTO"}, {"received_to": BOUNDARIES[-2].isoformat()}):
        reply = http.get(url, params=params | other | {"page_token": token}, headers=AUTH)
        assert reply.status_code == 400 and "another query" in reply.json()["error"]
    reply = http.get(f"{base_url}/v1/waybills", params=params | {"page_token": token}, headers=AUTH)
    assert reply.status_code == 400

    fields = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps(fields | {"p": 10**9}).encode()).decode()
    reply = http.get(url, params=params | {"page_token": forged}, headers=AUTH)
    assert reply.status_code == 400 and "past the end" in reply.json()["error"]


def test_known_company_without_data_gets_an_empty_page(base_url: str, http: requests.Session) -> None:
    reply = http.get(f"{base_url}/v1/waybills", params={"company": "DBL", **WHOLE_RANGE}, headers=AUTH)
    assert reply.status_code == 200 and reply.json() == {"items": [], "next_page_token": None}


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                                     {"Authorization": "Bearer"}])
@pytest.mark.parametrize("path", ["/v1/companies", "/v1/events", "/v1/nothing"])
def test_missing_or_wrong_token_is_401(base_url: str, http: requests.Session, headers: dict, path: str) -> None:
    reply = http.get(base_url + path, params={"company": "SF", **WHOLE_RANGE}, headers=headers)
    assert reply.status_code == 401 and reply.content == b'{"error": "invalid_token"}'


BAD_PARAMETERS = {
    "company missing": {"company": None},
    "company empty": {"company": ""},
    "company unknown": {"company": "XYZ"},
    "company lower case": {"company": "sf"},
    "received_from missing": {"received_from": None},
    "received_to missing": {"received_to": None},
    "received_from unparseable": {"received_from": "2025-03-01 at noon"},
    "received_to not a date": {"received_to": "2025-02-30T00:00:00+08:00"},
    "no UTC offset": {"received_from": "2025-03-01T00:00:00"},
    "plus not encoded": {"received_from": "2025-03-01T00:00:00 08:00"},
    "empty window": {"received_to": WHOLE_RANGE["received_from"]},
    "reversed window": {"received_from": WHOLE_RANGE["received_to"], "received_to": WHOLE_RANGE["received_from"]},
    "page_size 0": {"page_size": "0"},
    "page_size 5001": {"page_size": "5001"},
    "page_size negative": {"page_size": "-1"},
    "page_size fraction": {"page_size": "1.5"},
    "page_size word": {"page_size": "ten"},
    "page_token garbage": {"page_token": "not-a-token"},
    "page_token wrong shape": {"page_token": "WzEsMiwzXQ"},  # base64 of [1,2,3]
    "unknown parameter": {"pagesize": "10"},
}


@pytest.mark.parametrize("change", BAD_PARAMETERS.values(), ids=BAD_PARAMETERS.keys())
def test_bad_parameters_are_400(base_url: str, http: requests.Session, change: dict[str, str | None]) -> None:
    params = {"company": "SF", **WHOLE_RANGE} | change
    reply = http.get(f"{base_url}/v1/events", params={k: v for k, v in params.items() if v is not None}, headers=AUTH)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]


def test_repeated_parameter_unknown_path_and_method(base_url: str, http: requests.Session) -> None:
    query = "company=SF&company=ZTO&" + "&".join(f"{k}={requests.utils.quote(v)}" for k, v in WHOLE_RANGE.items())
    reply = http.get(f"{base_url}/v1/events?{query}", headers=AUTH)
    assert reply.status_code == 400 and "more than once" in reply.json()["error"]
    reply = http.get(f"{base_url}/v2/events", headers=AUTH)
    assert reply.status_code == 404 and reply.json()["error"]
    assert http.post(f"{base_url}/v1/events", headers=AUTH).status_code == 405


# ---------------------------------------------------------------- fault mode


def test_fault_mode_fails_and_repeats_but_the_client_still_gets_everything(
    data_dir: Path, http: requests.Session, expected: dict[str, list[bytes]]
) -> None:
    with make_server(data_dir, token=TOKEN, fault_rate=0.3, seed=7, retry_after=1) as server:
        url = server.start()
        first_reply = {}
        for _ in range(60):
            reply = http.get(f"{url}/v1/companies", headers=AUTH)
            first_reply.setdefault(reply.status_code, reply)
        assert first_reply.keys() == {200, 429, 500, 503}
        assert first_reply[429].headers["Retry-After"] == "1"
        assert all("error" in first_reply[status].json() for status in (429, 500, 503))

        sleeps: list[float] = []
        client = ExchangeClient(url, TOKEN, page_size=40, sleep=sleeps.append)
        for kind in KINDS:
            served: list[str] = []
            repeated_pages = 0
            for company in present_companies(expected):
                previous: list = []
                for _, items in client.iter_pages(kind, company, BOUNDARIES[0], BOUNDARIES[-1]):
                    repeated_pages += bool(items) and items == previous
                    previous = items
                    served.extend(canonical(item) for item in items)
            wanted = canonical_counts(expected[kind])
            assert set(served) == set(wanted)  # nothing lost or altered
            assert repeated_pages and len(served) > sum(wanted.values())
        assert {"429", "500", "503", "repeated_page"} <= server.api.faults.counts.keys()
        assert client.stats["http_429"] and client.stats["http_500"] and client.stats["http_503"]
        assert sleeps.count(1.0) >= client.stats["http_429"]  # Retry-After honoured


# ---------------------------------------------------------------- client failures


def _counting_session(statuses: list[int]) -> requests.Session:
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: statuses.append(response.status_code))
    return session


def test_client_raises_on_401_and_400_without_retrying(base_url: str) -> None:
    statuses: list[int] = []
    sleeps: list[float] = []
    intruder = ExchangeClient(base_url, "wrong", session=_counting_session(statuses), sleep=sleeps.append)
    with pytest.raises(ExchangeError) as refused:
        intruder.companies()
    assert refused.value.status == 401 and "invalid_token" in refused.value.body
    client = ExchangeClient(base_url, TOKEN, session=_counting_session(statuses), sleep=sleeps.append)
    with pytest.raises(ExchangeError) as refused:
        next(client.iter_pages("events", "XYZ", BOUNDARIES[0], BOUNDARIES[-1]))
    assert refused.value.status == 400
    assert statuses == [401, 400] and sleeps == []


def test_client_gives_up_after_max_retries(data_dir: Path) -> None:
    sleeps: list[float] = []
    with serve_in_thread(data_dir, token=TOKEN, fault_rate=1.0, seed=1, retry_after=0) as url:
        client = ExchangeClient(url, TOKEN, max_retries=3, sleep=sleeps.append)
        with pytest.raises(ExchangeError) as gave_up:
            client.companies()
    assert gave_up.value.status in (500, 503)
    assert client.stats["http_500"] + client.stats["http_503"] == 4
    assert len(sleeps) == 3 + client.stats["http_429"]


def test_client_backs_off_exponentially_on_connection_errors(data_dir: Path) -> None:
    with serve_in_thread(data_dir, token=TOKEN) as url:
        pass  # the port is free again: nothing listens there now
    sleeps: list[float] = []
    client = ExchangeClient(url, TOKEN, max_retries=4, backoff_base=0.5, sleep=sleeps.append)
    with pytest.raises(ExchangeError) as gave_up:
        client.companies()
    assert gave_up.value.status is None and client.stats["connection_error"] == 5
    assert [0.25 * 2**n <= wait <= 0.75 * 2**n for n, wait in enumerate(sleeps)] == [True] * 4


def test_client_rejects_naive_datetimes_and_unknown_kinds(base_url: str) -> None:
    client = ExchangeClient(base_url, TOKEN)
    with pytest.raises(ValueError):
        next(client.iter_pages("events", "SF", datetime(2025, 3, 1), datetime(2025, 3, 2)))
    with pytest.raises(ValueError):
        next(client.iter_pages("parcels", "SF", BOUNDARIES[0], BOUNDARIES[1]))


def test_connection_from_uri() -> None:
    assert connection_from_uri("http://:TOKEN@127.0.0.1:8765") == ("http://127.0.0.1:8765", "TOKEN")
    behind_a_proxy = "https://:a%2Fb%3D@exchange.example.cn/api/"
    assert connection_from_uri(behind_a_proxy) == ("https://exchange.example.cn/api", "a/b=")
    with pytest.raises(ValueError):
        connection_from_uri("http://127.0.0.1:8765")
    with pytest.raises(ValueError):
        connection_from_uri("postgres://:x@db:5432")


# ---------------------------------------------------------------- the command line


def test_cli_serves_on_a_free_port(data_dir: Path, expected: dict[str, list[bytes]]) -> None:
    command = [sys.executable, "-m", "zhongwei.cli", "exchange", "serve", "--data", str(data_dir),
               "--port", "0", "--token", TOKEN, "--fault-rate", "0", "--seed", "3"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=os.environ | {"PYTHONUNBUFFERED": "1"})
    try:
        banner = process.stdout.readline()
        started = re.fullmatch(r"courier exchange serving (\d+) waybills, (\d+) events from .+ on (\S+)\n", banner)
        assert started, banner
        assert [int(started[1]), int(started[2])] == [len(expected[kind]) for kind in KINDS]
        reply = requests.get(f"{started[3]}/v1/companies", headers=AUTH, timeout=10)
        assert reply.status_code == 200 and reply.json()["items"][0] == {"code": "EMS", "name": "中国邮政速递物流"}
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert f"skipped {len(UNSERVABLE)} lines" in errors
