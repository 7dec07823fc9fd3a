"""File feeds: platform order exports and the monthly Excel ledgers.

A file is a batch. Its checksum is kept in the ledger: the same content arriving
again under another name is recognised and loads nothing (a duplicate file);
the same name arriving with new content replaces the earlier load.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from zhongwei.feeds import ParsedBatch, parse_outlet_ledger, parse_platform_file, parse_registry
from zhongwei.ingest.batches import Batch, load
from zhongwei.ingest.windows import Window
from zhongwei.lake import Lake, LedgerEntry, file_checksum
from zhongwei.quality.gx import Quality
from zhongwei.reference import COUNTY_CODES, EXPORT_FILE_EXT

REGISTRY_TABLES = {"enterprises": "registry_enterprises", "enterprise_shops": "registry_enterprise_shops",
                   "training_classes": "registry_training_classes", "influencers": "registry_influencers"}


def platform_files(inbox: Path, platform: str, window: Window) -> list[Path]:
    folder = inbox / "ecommerce" / platform
    names = [f"orders_{d.strftime('%Y%m%d')}.{EXPORT_FILE_EXT[platform]}" for d in window.days()]
    return [folder / n for n in names if (folder / n).exists()]


def outlet_files(inbox: Path, window: Window) -> dict[str, Path]:
    """The county ledgers of the window's months (at most one per county and month)."""
    found = {}
    for county in COUNTY_CODES:
        for month in window.months():
            path = inbox / "outlets" / county / f"网点台账_{month.replace('-', '')}.xlsx"
            if path.exists():
                found[f"{county}:{month}"] = path
    return found


def registry_files(inbox: Path, window: Window) -> list[Path]:
    return [p for m in window.months()
            if (p := inbox / "registry" / f"电商企业及培训台账_{m.replace('-', '')}.xlsx").exists()]


@dataclass(frozen=True)
class _File:
    path: Path
    source: str
    partition: dict[str, str]
    parse: Callable[[], ParsedBatch]
    table_names: dict[str, str]
    checksum: str
    duplicate_of: str | None

    @property
    def batch_id(self) -> str:
        return f"{self.source}__{self.path.name}"


class FileBatches:
    """The file batches of one task, each checked against earlier loads and against
    the files before it in the same run for identical content.

    Files are told apart by checksum when added, before anything is written, and
    parsed only when `batches()` reaches them, so a month of files is never in memory at once.
    """

    def __init__(self, lake: Lake, feed: str):
        self.lake, self.feed = lake, feed
        self._files: list[_File] = []
        self._seen: dict[str, str] = {}  # checksum -> batch id, this run

    def add(self, path: Path, source: str, partition: dict[str, str], parse: Callable[[], ParsedBatch],
            table_names: dict[str, str]) -> None:
        checksum = file_checksum(path)
        batch_id = f"{source}__{path.name}"
        earlier = self.lake.find_by_checksum(self.feed, checksum, other_than=batch_id)
        twin = self._seen.get(checksum) or (earlier["batch_id"] if earlier else None)
        if not twin or twin == batch_id:
            twin = None
            self._seen[checksum] = batch_id
        self._files.append(_File(path, source, partition, parse, table_names, checksum, twin))

    def batches(self) -> Iterator[Batch]:
        for f in self._files:
            parsed = f.parse()
            batch = Batch(feed=self.feed, source=f.source, batch_id=f.batch_id, partition=f.partition,
                          origin=str(f.path), parsed=parsed, table_names=f.table_names, checksum=f.checksum,
                          size_bytes=f.path.stat().st_size)
            if f.duplicate_of:
                batch.duplicate_of, batch.duplicates = f.duplicate_of, parsed.rows_arrived
            yield batch


def ingest_platform(lake: Lake, quality: Quality, inbox: Path, platform: str, window: Window,
                    run_name: str) -> list[LedgerEntry]:
    batches = FileBatches(lake, "ecommerce")
    for path in platform_files(inbox, platform, window):
        export_date = re.search(r"(\d{8})", path.name).group(1)
        partition = {"platform": platform, "export_date": f"{export_date[:4]}-{export_date[4:6]}-{export_date[6:]}"}
        batches.add(path, platform, partition, partial(parse_platform_file, platform, path),
                    {"orders": "ecommerce_orders", "order_lines": "ecommerce_order_lines"})
    return load(lake, quality, batches.batches(), f"{run_name}-{platform}")


def ingest_outlets(lake: Lake, quality: Quality, inbox: Path, county: str, window: Window,
                   run_name: str) -> list[LedgerEntry]:
    batches = FileBatches(lake, "outlets")
    for key, path in outlet_files(inbox, window).items():
        if key.startswith(county):
            month = key.split(":")[1]
            batches.add(path, county, {"county": county, "ledger_month": month},
                        partial(parse_outlet_ledger, path, county), {"outlets": "outlets"})
    return load(lake, quality, batches.batches(), f"{run_name}-outlets-{county}")


def ingest_registry(lake: Lake, quality: Quality, inbox: Path, window: Window, run_name: str) -> list[LedgerEntry]:
    batches = FileBatches(lake, "registry")
    for path in registry_files(inbox, window):
        month = re.search(r"(\d{6})", path.name).group(1)
        batches.add(path, "commerce_bureau", {"ledger_month": f"{month[:4]}-{month[4:]}"},
                    partial(parse_registry, path), REGISTRY_TABLES)
    return load(lake, quality, batches.batches(), f"{run_name}-registry")
