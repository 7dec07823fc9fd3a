"""From parsed batches to the lake: validate, account, write.

A batch is a file, or one company's API records for one day. A task takes its
batches a group at a time (about GROUP_ROWS rows, so a month of a feed is
never in memory at once), validates each group together with the GX suites
(one GX run per suite, failures traced back to each batch), then writes each
batch atomically with its ledger entry. A batch that fails its checks still
lands in the lake, marked `failed` in the ledger, so the publication can refuse
the months it touches until a person accepts it; the task reports it after
everything else is written.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import pandas as pd
import pyarrow as pa

from zhongwei.feeds import ParsedBatch, reasons
from zhongwei.lake import DUPLICATE_FILE, FAILED, LOADED, Lake, LedgerEntry
from zhongwei.quality.gx import BATCH, Quality

RECENT_BATCHES = 14  # how many earlier batches of a source make its "recent" volume
MIN_VOLUME_FOR_BAND = 20  # below this median, day-to-day noise says nothing
GROUP_ROWS = 300_000  # rows validated in one GX run and held in memory at once


class BatchFailures(RuntimeError):
    """Raised by a task after it wrote everything, when some of its batches failed."""


@dataclass
class Batch:
    """One batch on its way into the lake."""

    feed: str
    source: str
    batch_id: str
    partition: dict[str, str]
    origin: str
    parsed: ParsedBatch
    table_names: dict[str, str]  # parser table name -> lake table name
    checksum: str | None = None
    size_bytes: int | None = None
    duplicates: int = 0  # records dropped before parsing: a page served twice, a file sent twice
    duplicate_of: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def rows_arrived(self) -> int:
        return self.parsed.rows_arrived + self.duplicates

    @property
    def key(self) -> str:
        """Unique within a task (a company's waybills and events share batch ids)."""
        return f"{self.feed}/{self.batch_id}"


def _history(lake: Lake, feed: str, source: str) -> list[int]:
    entries = [e for e in lake.ledger(feed) if e["source"] == source and e["status"] == LOADED]
    entries.sort(key=lambda e: sorted(e["partition"].items()))
    return [e["rows_loaded"] for e in entries]


def _health_frame(lake: Lake, batches: list[Batch], history: dict[tuple[str, str], list[int]]) -> pd.DataFrame:
    """`history` is kept across a task's groups: a source's recent volumes are read before
    any of its batches is written, so a run's own loads never count as its history."""
    rows = []
    for b in batches:
        recent = history.setdefault((b.feed, b.source), _history(lake, b.feed, b.source))[-RECENT_BATCHES:]
        median = statistics.median(recent) if recent else None
        loaded, rejected = b.parsed.rows_loaded, len(b.parsed.rejected)
        rows.append({
            BATCH: b.key, "rows_arrived": b.rows_arrived, "rows_loaded": loaded, "rows_quarantined": rejected,
            "conflicting_duplicates": b.parsed.reason_counts().get(reasons.CONFLICTING_DUPLICATE, 0),
            "quarantined_share": rejected / max(loaded + rejected, 1),
            "volume_vs_recent": loaded / median if median and median >= MIN_VOLUME_FOR_BAND else None,
        })
    return pd.DataFrame(rows)


def _readable(b: Batch) -> bool:
    return b.parsed.file_error is None and b.duplicate_of is None


def _groups(batches: Iterable[Batch]) -> Iterator[list[Batch]]:
    """Consecutive batches with about GROUP_ROWS readable rows; unreadable files and duplicates ride along."""
    group, size = [], 0
    for b in batches:
        group.append(b)
        size += b.parsed.rows_loaded if _readable(b) else 0
        if size >= GROUP_ROWS:
            yield group
            group, size = [], 0
    if group:
        yield group


def _validate(quality: Quality, lake: Lake, group: list[Batch], run_name: str,
              history: dict[tuple[str, str], list[int]]) -> dict[str, list[dict]]:
    """Quality results per batch key: a list of suite results."""
    results: dict[str, list[dict]] = {b.key: [] for b in group}
    readable = [b for b in group if _readable(b)]
    if not readable:
        return results
    by_table: dict[str, list[pa.Table]] = {}
    for b in readable:
        for name, table in b.parsed.tables.items():
            by_table.setdefault(b.table_names[name], []).append(
                table.append_column(BATCH, pa.array([b.key] * table.num_rows, pa.string())))
    frames = {name: pa.concat_tables(tables).to_pandas() for name, tables in by_table.items()}
    frames["batch_health"] = _health_frame(lake, readable, history)
    for suite, frame in frames.items():
        if not quality.has_suite(suite) or frame.empty:
            continue
        outcome = quality.validate(suite, frame, run_name)
        present = set(frame[BATCH])
        for b in readable:
            if b.key in present:
                results[b.key].append(outcome.for_batch(b.key))
    return results


def load(lake: Lake, quality: Quality, batches: Iterable[Batch], run_name: str) -> list[LedgerEntry]:
    """Validate and write the batches, a group at a time; return their ledger entries (raise nothing).

    `batches` may be a generator: each batch is parsed only when its group's turn comes.
    """
    entries: list[LedgerEntry] = []
    history: dict[tuple[str, str], list[int]] = {}
    for k, group in enumerate(_groups(batches)):
        quality_results = _validate(quality, lake, group, f"{run_name}-{k}", history)
        entries += [_write(lake, b, quality_results[b.key], run_name) for b in group]
    return entries


def _write(lake: Lake, b: Batch, suites: list[dict], run_name: str) -> LedgerEntry:
    p = b.parsed
    failure = None
    if b.duplicate_of:
        status = DUPLICATE_FILE
    elif p.file_error:
        status, failure = FAILED, f"{p.file_error.reason}: {p.file_error.detail}"
    elif not all(s["success"] for s in suites):
        status = FAILED
        failure = "; ".join(f"{s['suite']}: " + ", ".join(f"{f['expectation']}({f['column']})" for f in s["failed"])
                            for s in suites if not s["success"])
    else:
        status = LOADED
    loaded = 0 if b.duplicate_of else p.rows_loaded
    entry = LedgerEntry(
        batch_id=b.batch_id, feed=b.feed, source=b.source, partition=b.partition, origin=b.origin,
        checksum=b.checksum, size_bytes=b.size_bytes,
        rows_arrived=b.rows_arrived if not b.duplicate_of else b.duplicates,
        rows_loaded=loaded, rows_quarantined=0 if b.duplicate_of else len(p.rejected),
        duplicates=b.duplicates if b.duplicate_of else b.duplicates + p.duplicates, quarantined_by_reason={} if b.duplicate_of else p.reason_counts(),
        warnings_by_reason=_counts(p.warnings), status=status, failure=failure, duplicate_of=b.duplicate_of,
        quality={"suites": suites, "metadata": {**p.metadata, **b.extra}}, run_id=run_name,
    )
    tables = {} if b.duplicate_of else {b.table_names[n]: t for n, t in p.tables.items()}
    quarantine = p.rejected_table() if not b.duplicate_of else p.rejected_table().slice(0, 0)
    lake.write_batch(entry, tables, quarantine, p.warnings_table())
    return entry


def _counts(issues) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in issues:
        out[i.reason] = out.get(i.reason, 0) + 1
    return out


def raise_if_failed(entries: list[LedgerEntry]) -> None:
    failed = [e for e in entries if e.status == FAILED]
    if failed:
        lines = "\n".join(f"- {e.batch_id}: {e.failure}" for e in failed)
        raise BatchFailures(f"{len(failed)} of {len(entries)} batches failed their checks "
                            f"(written to the lake, marked failed in the ledger):\n{lines}")
