"""What the record-by-record parsers made of fixed inputs, kept after they were deleted (issue 13).

The columnar engine replaced parsers that read one record at a time. Before those
were deleted, they parsed the inputs under `expected/` and their batches were
written to `expected/<feed>.jsonl.gz`, one line per case (by `make_expectations.py`,
which went with them; see commit 027097d); `test_parser_expectations` holds the
engine to them. The inputs:

- `generated-2025-03.tar.gz`: one generated month (scale 0.0005, seed 11, every
  defect kind at 5 %; as the range's only month it is the broken one, with
  conflicting copies and lost files), the four platforms' daily files and the
  courier exchange's records, which are cut into windows per company and received
  day as the exchange serves them;
- `hostile/`: hand-made files and records with the spellings a generator does not
  write (full-width digits, exotic whitespace, offsets, Chinese dates, summer time
  before 1992, open quotes, other scripts' digits; JSON's wrong types, NaN, broken
  and non-object lines; cells as a sheet holds them: numbers, serials, dates;
  Douyin's whole-order rules; copies with the same key; courier records with wrong
  types everywhere), each courier file also reversed, once alone three times, and
  as an empty window;
- `file-checks/`: ZWYP files that fail as a whole or hold nothing (the generator
  never loses a ZWYP file).

A batch is compared whole: counts, file error, quarantine entries (location,
reason, detail, masked raw text, in order), warnings, metadata, and every table's
schema and values.
"""
from __future__ import annotations

import dataclasses
import gzip
import json
import tarfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from zhongwei.feeds import ParsedBatch, parse_events, parse_platform_file, parse_waybills

from feedkit import DEID

EXPECTED = Path(__file__).resolve().parent / "expected"
GENERATED = EXPECTED / "generated-2025-03.tar.gz"
PLATFORMS = ("DOUYIN", "PDD", "TAOBAO", "ZWYP")
COURIER = {
    "waybills": lambda records, source: parse_waybills(records, source, deid=DEID),
    "events": lambda records, source: parse_events(records, source),
}
Case = tuple[str, Callable[[], ParsedBatch]]


def _plain(value: object) -> object:
    if isinstance(value, (Decimal, datetime, date)):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"no plain form for {type(value).__name__}")


def described(batch: ParsedBatch) -> dict[str, Any]:
    """The whole batch as plain JSON values (a table's schema says what its values' types are)."""
    entries = lambda items: [dataclasses.asdict(item) for item in items]  # noqa: E731
    whole = {
        "counts": [batch.rows_arrived, batch.rows_loaded, batch.duplicates, batch.rows_ignored],
        "file_error": batch.file_error and dataclasses.asdict(batch.file_error),
        "rejected": entries(batch.rejected),
        "warnings": entries(batch.warnings),
        "metadata": batch.metadata,
        "tables": {name: {"schema": table.schema.to_string(), "columns": table.to_pydict()}
                   for name, table in sorted(batch.tables.items())},
    }
    return json.loads(json.dumps(whole, default=_plain))


def unpack(into: Path) -> Path:
    """The inputs in one folder: the generated month unpacked beside the hand-made files."""
    with tarfile.open(GENERATED) as archive:
        archive.extractall(into / "generated", filter="data")
    return into


def served(path: Path) -> dict[str, list[object]]:
    """A month of courier records as the exchange serves them: JSON objects by company and received day."""
    windows: dict[str, list[object]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the exchange does not serve a line that is not JSON
        windows[f"{record.get('company')}:{str(record.get('received_at'))[:10]}"].append(record)
    return windows


def platform_cases(inputs: Path, platform: str) -> Iterator[Case]:
    files = [*sorted((inputs / "generated" / "ecommerce" / platform).iterdir()),
             *sorted((EXPECTED / "hostile" / platform).iterdir())]
    if platform == "ZWYP":
        files += sorted((EXPECTED / "file-checks" / platform).rglob("*.jsonl"))
    for path in files:
        case = path.relative_to(inputs if path.is_relative_to(inputs) else EXPECTED).as_posix()
        yield case, lambda path=path: parse_platform_file(platform, path, deid=DEID)


def courier_cases(inputs: Path, kind: str) -> Iterator[Case]:
    parse = COURIER[kind]
    for file in sorted((inputs / "generated" / "courier").glob(f"{kind}_*.jsonl")):
        for source, records in served(file).items():
            yield f"generated/{source}", lambda records=records, source=source: parse(records, source)
    hostile = [json.loads(line) for line in (EXPECTED / "hostile" / f"{kind}.jsonl").read_text().splitlines()]
    source = f"{kind}:SF:2025-03-04"
    variants = {"hostile": hostile, "hostile reversed": hostile[::-1], "empty": [], "one thrice": hostile[:1] * 3}
    for case, records in variants.items():
        yield case, lambda records=records: parse(records, source)


def cases(inputs: Path, feed: str) -> Iterator[Case]:
    return platform_cases(inputs, feed) if feed in PLATFORMS else courier_cases(inputs, feed)


def expected_path(feed: str) -> Path:
    return EXPECTED / f"{feed}.jsonl.gz"


def expected(feed: str) -> dict[str, dict[str, Any]]:
    with gzip.open(expected_path(feed), "rt", encoding="utf-8") as lines:
        return {entry["case"]: entry["batch"] for entry in map(json.loads, lines)}
