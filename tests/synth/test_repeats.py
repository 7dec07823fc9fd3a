"""Records written twice in their file: verbatim repeats (`repeated_record`) in
every month, conflicting copies (`conflicting_duplicate`) only in the broken
month. Checked on the files themselves, read the way the parsers read them
(physical lines; sheet rows with python_calamine), never through the generator."""
from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from zhongwei.synth.generate import SynthConfig, generate

MONTHS = "2024-07:2024-09"
BROKEN = "202408"  # the middle month: lost files and conflicts
REPEATED, CONFLICT = "repeated_record", "conflicting_duplicate"
FEEDS = ["courier_waybills", "courier_events", "ecommerce_taobao", "ecommerce_pdd", "ecommerce_douyin",
         "ecommerce_zwyp", "outlets", "registry_enterprises"]
FILE_KINDS = {"truncated_file", "wrong_encoding", "schema_mismatch"}
# the field a conflicting copy changes, by feed (the key fields stay)
CHANGED = {"courier_waybills": "weight_g", "courier_events": "context", "ecommerce_taobao": "买家实际支付金额",
           "ecommerce_pdd": "用户实付金额(元)", "ecommerce_douyin": "订单应付金额", "ecommerce_zwyp": "amount_paid",
           "outlets": "网点名称", "registry_enterprises": "企业名称", "registry_training_classes": "培训人数",
           "registry_influencers": "昵称"}
KEYS = {"courier_waybills": ("company", "waybill_no", "received_at"),
        "courier_events": ("company", "waybill_no", "event_time", "state", "sub_state", "area_code", "received_at"),
        "ecommerce_taobao": ("订单编号",), "ecommerce_pdd": ("订单号",), "ecommerce_douyin": ("主订单编号", "子订单编号"),
        "ecommerce_zwyp": ("order_id",), "outlets": ("网点编码",), "registry_enterprises": ("统一社会信用代码",),
        "registry_training_classes": ("班次编号",), "registry_influencers": ("平台", "达人ID")}
SHEETS = {"ecommerce_douyin": "订单明细", "outlets": "网点台账"}
HEADER_ROW = {"outlets": 3}  # Excel row of the header (the others: row 1)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("repeats")
    generate(SynthConfig(out=str(out), months=MONTHS, scale=0.0005, seed=11, defect_rate=0.02))
    return out


@pytest.fixture(scope="module")
def entries(inbox) -> list[dict]:
    return [json.loads(line) for line in open(inbox / "_truth" / "defects.jsonl", encoding="utf-8")]


class Files:
    """Physical lines and sheet rows of the inbox's files, each read once."""

    def __init__(self, root: Path):
        self.root = root
        self._lines: dict[str, list[bytes]] = {}
        self._rows: dict[tuple[str, str], list[list]] = {}

    def line(self, rel: str, n: int) -> bytes:
        """Line n (1-based) with its line end, exactly as written."""
        if rel not in self._lines:
            self._lines[rel] = (self.root / rel).read_bytes().splitlines(keepends=True)
        return self._lines[rel][n - 1]

    def row(self, rel: str, sheet: str, n: int) -> list:
        """Excel row n as the parsers read it (from A1, empty rows kept)."""
        if (rel, sheet) not in self._rows:
            book = CalamineWorkbook.from_path(str(self.root / rel))
            self._rows[(rel, sheet)] = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        return self._rows[(rel, sheet)][n - 1]

    def record(self, feed: str, entry: dict, offset: int = 0) -> dict:
        """The record at the entry's line or row (+ offset), as {column: value}."""
        rel = entry["file"]
        if "line" in entry:
            raw = self.line(rel, entry["line"] + offset)
            if rel.endswith(".jsonl"):
                return json.loads(raw)
            encoding = "gb18030" if "TAOBAO" in rel else "utf-8"
            header = next(csv.reader([self.line(rel, 1).decode(encoding).lstrip("\ufeff")]))
            return dict(zip(header, next(csv.reader([raw.decode(encoding)]))))
        sheet = entry.get("sheet") or SHEETS[feed]
        header = self.row(rel, sheet, HEADER_ROW.get(feed, 1))
        return dict(zip(header, self.row(rel, sheet, entry["row"] + offset)))


def month_of(entry: dict) -> str:
    return re.search(r"_(\d{6})\d*\.\w+$", entry["file"]).group(1)


def norm(value) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def test_every_feed_repeats_records_and_conflicts_come_in_pairs_in_the_broken_month(entries):
    repeated = {e["feed"] for e in entries if e["kind"] == REPEATED}
    assert set(FEEDS) <= repeated, set(FEEDS) - repeated
    assert {"registry_training_classes", "registry_influencers"} <= repeated
    assert {month_of(e) for e in entries if e["kind"] == REPEATED} == {"202407", BROKEN, "202409"}
    conflicts = [e for e in entries if e["kind"] == CONFLICT]
    assert {month_of(e) for e in conflicts} == {BROKEN}
    assert {e["feed"] for e in conflicts} >= set(FEEDS) - {"courier_waybills"}
    pairs = defaultdict(list)
    for e in conflicts:
        identity = tuple((k, v) for k, v in e.items() if k not in ("line", "row"))
        pairs[identity].append(e.get("line", e.get("row")))
    for identity, at in pairs.items():
        assert len(at) == 2 and at[1] == at[0] + 1, (identity, at)  # the copy right after the original
    lost = {e["file"] for e in entries if e["kind"] in FILE_KINDS}
    assert len(lost) == 3 and all(month_of(e) == BROKEN for e in entries if e["file"] in lost)
    assert not any(e["file"] in lost and e["kind"] not in FILE_KINDS for e in entries)


def test_a_repeat_is_its_record_again_verbatim(inbox, entries):
    files = Files(inbox)
    seen = 0
    for e in entries:
        if e["kind"] != REPEATED:
            continue
        if "line" in e:
            assert e["line"] >= 2 + (not e["file"].endswith(".jsonl"))  # after the header and the original
            assert files.line(e["file"], e["line"]) == files.line(e["file"], e["line"] - 1), e
        else:
            sheet = e.get("sheet") or SHEETS[e["feed"]]
            assert files.row(e["file"], sheet, e["row"]) == files.row(e["file"], sheet, e["row"] - 1), e
        seen += 1
    assert seen > 100


def test_a_conflict_shares_the_key_and_changes_one_field_to_another_valid_value(inbox, entries):
    files = Files(inbox)
    firsts = {}
    for e in entries:  # the first of each pair (entries come in file order)
        if e["kind"] == CONFLICT:
            firsts.setdefault(tuple((k, v) for k, v in e.items() if k not in ("line", "row")), e)
    assert len(firsts) > 50
    for e in firsts.values():
        feed = e["feed"]
        a, b = files.record(feed, e), files.record(feed, e, offset=1)
        assert all(a[k] == b[k] for k in KEYS[feed]), (e, a, b)
        field = CHANGED[feed]
        assert {k for k in a if a[k] != b[k]} == {field}, (e, a, b)
        old, new = a[field], b[field]
        if feed == "courier_waybills":
            assert new == old + 100
        elif feed == "courier_events":
            assert new == old + "（重复推送）"
        elif feed.startswith("ecommerce"):
            assert re.fullmatch(r"\d+\.\d\d", str(old)) or feed == "ecommerce_douyin"
            shown = (lambda v: f"{v:.2f}") if feed == "ecommerce_douyin" else str
            assert Decimal(shown(new)) == Decimal(shown(old)) + 1, (old, new)
            assert feed == "ecommerce_douyin" or re.fullmatch(r"\d+\.\d\d", new)  # the contract's format
        elif feed == "registry_training_classes":
            assert new == old + 1
        else:
            assert isinstance(new, str) and new.startswith(old) and len(new) > len(old)


def test_every_entry_points_at_its_record_after_the_copies_shifted_it(inbox, entries):
    """Entries of every kind, copies or not: the line or row logged holds the record named."""
    files = Files(inbox)
    checked = 0
    for e in entries:
        if e["kind"] in FILE_KINDS:
            continue
        feed = e["feed"]
        if feed.startswith("courier"):
            raw = files.line(e["file"], e["line"]).decode()
            assert f'"waybill_no": "{e["waybill_no"]}"' in raw and f'"received_at": "{e["received_at"]}"' in raw, e
        elif feed == "ecommerce_douyin":
            row = files.record(feed, e)
            assert row["主订单编号"] in (e["order_no"], "") and row["子订单编号"].startswith(e["order_no"][:-1]), e
        elif feed.startswith("ecommerce"):
            assert e["order_no"].encode() in files.line(e["file"], e["line"]), e  # (order numbers are ASCII)
        elif feed == "outlets":
            assert norm(files.record(feed, e)["网点编码"]) == e["outlet_code"], e
        elif feed == "registry_enterprises":
            assert norm(files.record(feed, e)["统一社会信用代码"]) == e["credit_code"], e
        elif feed == "registry_training_classes":
            assert files.record(feed, e)["班次编号"] == e["class_code"], e
        else:
            row = files.record(feed, e)
            assert (row["平台"], row["达人ID"]) == (e["platform"], e["host_id"]), e
        checked += 1
    assert checked > 500


# A clean run of one month, as written before records were ever repeated.
CLEAN_FILES = 130
CLEAN_TRUTH_SHA256 = "eb047582861fc2201f3fdc40378dac44f9c13c88d263532dc7078e203f58098d"


def test_a_clean_run_repeats_nothing_and_its_truth_is_unchanged(tmp_path):
    out = tmp_path / "clean"
    summary = generate(SynthConfig(out=str(out), months="2024-08", scale=0.0005, seed=11, defect_rate=0))
    assert summary.files == CLEAN_FILES and not summary.defects and not summary.lost_files
    assert (out / "_truth" / "defects.jsonl").read_text() == ""
    assert hashlib.sha256((out / "_truth" / "indicators.csv").read_bytes()).hexdigest() == CLEAN_TRUTH_SHA256
    for path in out.glob("courier/*.jsonl"):
        lines = path.read_bytes().splitlines()
        assert all(a != b for a, b in zip(lines, lines[1:])), path
