"""File feeds: platform order exports and the monthly Excel ledgers.

A file is a batch. Its checksum is kept in the ledger: the same content arriving
again under another name is recognised and loads nothing (a duplicate file);
the same name arriving with new content replaces the earlier load.
"""
from __future__ import annotations

import re
from pathlib import Path

from zhongwei.feeds import parse_outlet_ledger, parse_platform_file, parse_registry
from zhongwei.ingest.batches import Batch, load
from zhongwei.ingest.windows import Window
from zhongwei.lake import Lake, LedgerEntry, file_checksum
from zhongwei.quality.gx import Quality

PLATFORM_EXT = {"TAOBAO": "csv", "PDD": "csv", "DOUYIN": "xlsx", "ZWYP": "jsonl"}
COUNTIES = ("640502", "640521", "640522")
REGISTRY_TABLES = {"enterprises": "registry_enterprises", "enterprise_shops": "registry_enterprise_shops",
                   "training_classes": "registry_training_classes", "influencers": "registry_influencers"}


def platform_files(inbox: Path, platform: str, window: Window) -> list[Path]:
    folder = inbox / "ecommerce" / platform
    names = [f"orders_{d.strftime('%Y%m%d')}.{PLATFORM_EXT[platform]}" for d in window.days()]
    return [folder / n for n in names if (folder / n).exists()]


def outlet_files(inbox: Path, window: Window) -> dict[str, Path]:
    """The county ledgers of the window's months (at most one per county and month)."""
    found = {}
    for county in COUNTIES:
        for month in window.months():
            path = inbox / "outlets" / county / f"网点台账_{month.replace('-', '')}.xlsx"
            if path.exists():
                found[f"{county}:{month}"] = path
    return found


def registry_files(inbox: Path, window: Window) -> list[Path]:
    return [p for m in window.months()
            if (p := inbox / "registry" / f"电商企业及培训台账_{m.replace('-', '')}.xlsx").exists()]


class FileBatches:
    """The file batches of one task, each checked against earlier loads and against
    the files before it in the same run for identical content."""

    def __init__(self, lake: Lake, feed: str):
        self.lake, self.feed = lake, feed
        self.batches: list[Batch] = []
        self._seen: dict[str, str] = {}  # checksum -> batch id, this run

    def add(self, path: Path, source: str, partition: dict[str, str], parsed, table_names: dict[str, str]) -> None:
        checksum = file_checksum(path)
        batch_id = f"{source}__{path.name}"
        batch = Batch(feed=self.feed, source=source, batch_id=batch_id, partition=partition, origin=str(path),
                      parsed=parsed, table_names=table_names, checksum=checksum, size_bytes=path.stat().st_size)
        earlier = self.lake.find_by_checksum(self.feed, checksum, other_than=batch_id)
        twin = self._seen.get(checksum) or (earlier["batch_id"] if earlier else None)
        if twin and twin != batch_id:
            batch.duplicate_of, batch.duplicates = twin, parsed.rows_arrived
        else:
            self._seen[checksum] = batch_id
        self.batches.append(batch)


def ingest_platform(lake: Lake, quality: Quality, inbox: Path, platform: str, window: Window,
                    run_name: str) -> list[LedgerEntry]:
    batches = FileBatches(lake, "ecommerce")
    for path in platform_files(inbox, platform, window):
        export_date = re.search(r"(\d{8})", path.name).group(1)
        partition = {"platform": platform, "export_date": f"{export_date[:4]}-{export_date[4:6]}-{export_date[6:]}"}
        batches.add(path, platform, partition, parse_platform_file(platform, path),
                    {"orders": "ecommerce_orders", "order_lines": "ecommerce_order_lines"})
    return load(lake, quality, batches.batches, f"{run_name}-{platform}")


def ingest_outlets(lake: Lake, quality: Quality, inbox: Path, county: str, window: Window,
                   run_name: str) -> list[LedgerEntry]:
    batches = FileBatches(lake, "outlets")
    for key, path in outlet_files(inbox, window).items():
        if key.startswith(county):
            month = key.split(":")[1]
            batches.add(path, county, {"county": county, "ledger_month": month}, parse_outlet_ledger(path, county),
                        {"outlets": "outlets"})
    return load(lake, quality, batches.batches, f"{run_name}-outlets-{county}")


def ingest_registry(lake: Lake, quality: Quality, inbox: Path, window: Window, run_name: str) -> list[LedgerEntry]:
    batches = FileBatches(lake, "registry")
    for path in registry_files(inbox, window):
        month = re.search(r"(\d{6})", path.name).group(1)
        batches.add(path, "commerce_bureau", {"ledger_month": f"{month[:4]}-{month[4:]}"}, parse_registry(path),
                    REGISTRY_TABLES)
    return load(lake, quality, batches.batches, f"{run_name}-registry")
