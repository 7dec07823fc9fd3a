"""The lake: Parquet partitions written by ingestion, read by dbt.

Layout under `$ZW_LAKE`:

    raw/<table>/<key>=<value>/.../part.parquet     accepted rows, one file per batch
    quarantine/<feed>/<batch_id>.parquet           rejected rows (reason, location, redacted raw)
    warnings/<feed>/<batch_id>.parquet             kept rows with a reported problem
    ledger/<feed>/<batch_id>.json                  what arrived and what became of it

Every file is written under a temporary name and renamed into place, so a
reader (or a rerun after a crash) sees a batch's old file or its new one,
never half of one. A batch always rewrites the same paths: rerunning a load
replaces it instead of adding to it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

# A batch's outcome in the ledger: its rows are in the lake; nothing of it is (see
# `failure`); or the file was loaded before under another name (see `duplicate_of`).
LOADED, FAILED, DUPLICATE_FILE = "loaded", "failed", "duplicate_file"
LEDGER_STATUSES = (LOADED, FAILED, DUPLICATE_FILE)

_SAFE = re.compile(r"[^0-9A-Za-z_.=\-\u4e00-\u9fff]")


def safe_name(text: str) -> str:
    return _SAFE.sub("_", text)


def file_checksum(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def replace_atomically(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_parquet(path: Path, table: pa.Table) -> None:
    replace_atomically(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def write_json(path: Path, data: Any) -> None:
    def write(tmp: Path) -> None:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, default=str), encoding="utf-8")

    replace_atomically(path, write)


@dataclass
class LedgerEntry:
    """One batch: a file, or one company's API window for one day.

    `rows_arrived == rows_loaded + rows_quarantined + duplicates`, always.
    """

    batch_id: str
    feed: str
    source: str
    partition: dict[str, str]
    origin: str  # the file's inbox path, or the API window
    checksum: str | None
    size_bytes: int | None
    rows_arrived: int
    rows_loaded: int
    rows_quarantined: int
    duplicates: int
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    warnings_by_reason: dict[str, int] = field(default_factory=dict)
    status: str = LOADED  # one of LEDGER_STATUSES
    failure: str | None = None
    duplicate_of: str | None = None
    quality: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # what the batch wrote, relative to the lake
    run_id: str | None = None
    loaded_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def __post_init__(self) -> None:
        if self.rows_arrived != self.rows_loaded + self.rows_quarantined + self.duplicates:
            raise ValueError(f"ledger does not balance for {self.batch_id}: {self.rows_arrived} arrived != "
                             f"{self.rows_loaded} + {self.rows_quarantined} + {self.duplicates}")


class Lake:
    def __init__(self, root: Path):
        self.root = Path(root)
        self._ledgers: dict[str, dict[str, dict]] = {}  # feed -> batch id -> entry, read once

    # --- paths ---------------------------------------------------------------
    def table_path(self, table: str, partition: dict[str, str]) -> Path:
        parts = [f"{k}={safe_name(str(v))}" for k, v in partition.items()]
        return self.root.joinpath("raw", table, *parts, "part.parquet")

    def ledger_path(self, feed: str, batch_id: str) -> Path:
        return self.root / "ledger" / feed / f"{safe_name(batch_id)}.json"

    def issues_path(self, kind: str, feed: str, batch_id: str) -> Path:
        return self.root / kind / feed / f"{safe_name(batch_id)}.parquet"

    # --- writing -------------------------------------------------------------
    def write_batch(self, entry: LedgerEntry, tables: dict[str, pa.Table], quarantine: pa.Table,
                    warnings: pa.Table) -> None:
        """The batch's data, then its issues, then its ledger entry (written last: it says the batch is complete)."""
        entry.files = []
        for name, table in tables.items():
            path = self.table_path(name, entry.partition)
            write_parquet(path, table)
            entry.files.append(path.relative_to(self.root).as_posix())
        for kind, table in (("quarantine", quarantine), ("warnings", warnings)):
            path = self.issues_path(kind, entry.feed, entry.batch_id)
            if table.num_rows:
                batch = pa.array([entry.batch_id] * table.num_rows, pa.string())
                write_parquet(path, table.add_column(0, "batch_id", batch))
                entry.files.append(path.relative_to(self.root).as_posix())
            elif path.exists():
                path.unlink()  # a rerun that no longer rejects anything
        record = asdict(entry)
        write_json(self.ledger_path(entry.feed, entry.batch_id), record)
        if entry.feed in self._ledgers:
            self._ledgers[entry.feed][entry.batch_id] = json.loads(json.dumps(record, default=str))

    # --- reading -------------------------------------------------------------
    def ledger(self, feed: str) -> list[dict]:
        """The feed's ledger entries (read from disk once per Lake object)."""
        if feed not in self._ledgers:
            self._ledgers[feed] = {}
            for path in sorted((self.root / "ledger" / feed).glob("*.json")):
                entry = json.loads(path.read_text(encoding="utf-8"))
                self._ledgers[feed][entry["batch_id"]] = entry
        return list(self._ledgers[feed].values())

    def feeds(self) -> list[str]:
        return sorted(p.name for p in (self.root / "ledger").glob("*") if p.is_dir())

    def find_by_checksum(self, feed: str, checksum: str, other_than: str) -> dict | None:
        """An earlier batch of the same feed with identical content (a file sent twice under another name)."""
        for entry in self.ledger(feed):
            if entry["checksum"] == checksum and entry["batch_id"] != other_than and entry["status"] == LOADED:
                return entry
        return None
