"""Write, audit, publish: the analysts' snapshot of the warehouse.

dbt builds into a working database that only it opens (`working_database`). When the
build and every test passed and the marts pass their quality suite, the working
database is copied into a new file, written in a storage format DuckDB 1.4 and
later read, and renamed over `$ZW_WAREHOUSE` in one step. A reader that has the old
snapshot open keeps reading it (it holds the old file); the next reader opens the
new one; a failed build or check publishes nothing, so analysts keep the last good
snapshot. The publication reads the snapshot, never the working database.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from zoneinfo import ZoneInfo

from zhongwei.config import REVISION_SNAPSHOT_FILE, TIMEZONE, Settings

# The oldest DuckDB that opens the snapshot: the DuckDB bundled in analysts' tools lags.
STORAGE_VERSION = "v1.4.0"
BUILD_FOLDER = ".build"


def working_database(settings: Settings) -> Path:
    """dbt's own database: beside the snapshot, same file name (so the same catalog name, which
    the views dbt creates name), in a folder no analyst is pointed at."""
    return settings.warehouse.parent / BUILD_FOLDER / settings.warehouse.name


def _records(settings: Settings) -> Path:
    """One record per snapshot ever published (id, checksum, when): ids never change meaning."""
    return settings.warehouse.parent / BUILD_FOLDER / "snapshots"


@dataclass(frozen=True)
class Snapshot:
    id: str
    sha256: str
    size_bytes: int
    published_at: str
    storage_version: str = STORAGE_VERSION


def publish(settings: Settings) -> Snapshot:
    """Copy the working database into a new snapshot file and swap it in atomically.

    The snapshot carries its id in table `snapshot_info`, so whoever opened it knows which it is.
    """
    import duckdb

    work, target = working_database(settings), settings.warehouse
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    catalog = target.stem  # the working database attached under the name its views use
    published = datetime.now(timezone.utc)
    snapshot_id = f"{published:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    try:
        with duckdb.connect() as con:
            con.execute(f"attach '{_sql_path(work)}' as \"{catalog}\" (read_only)")
            con.execute(f"attach '{_sql_path(tmp)}' as snapshot (storage_version '{STORAGE_VERSION}')")
            con.execute(f'copy from database "{catalog}" to snapshot')
            con.execute("create table snapshot.main.snapshot_info as select ? as snapshot_id, "
                        "cast(? as timestamptz) as published_at, ? as storage_version",
                        [snapshot_id, published, STORAGE_VERSION])
            con.execute("detach snapshot")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        snapshot = Snapshot(id=snapshot_id, sha256=digest, size_bytes=tmp.stat().st_size,
                            published_at=published.isoformat(timespec="seconds"))
        from zhongwei.lake import write_json

        write_json(_records(settings) / f"{snapshot_id}.json", asdict(snapshot))
        os.replace(tmp, target)  # readers of the old file keep it; new readers get this one
    finally:
        tmp.unlink(missing_ok=True)
    return snapshot


@dataclass(frozen=True)
class Pinned:
    path: Path  # a hard link to the snapshot's file, gone when the holder lets go
    snapshot: Snapshot


class NoWarehouse(FileNotFoundError):
    """No snapshot has been published yet. Nothing to read until a build succeeds: not a
    passing condition a retry would wait out (build_warehouse's asset triggers the publication)."""


@contextlib.contextmanager
def pinned(settings: Settings) -> Iterator[Pinned]:
    """The current snapshot, held for a while: a hard link to the file, so that a snapshot
    published meanwhile does not change what the holder reads (the publication's gate and
    release read the same one)."""
    import duckdb

    if not settings.warehouse.exists():
        raise NoWarehouse(f"no warehouse snapshot at {settings.warehouse}: build it first "
                                "(build_warehouse / zw run)")
    pins = settings.warehouse.parent / BUILD_FOLDER / "pins"
    pins.mkdir(parents=True, exist_ok=True)
    for stale in pins.iterdir():  # left by a process that died: they keep old snapshots on disk
        if not _alive(int(stale.name.split("-", 1)[0])):
            stale.unlink(missing_ok=True)
    pin = pins / f"{os.getpid()}-{uuid.uuid4().hex}{settings.warehouse.suffix}"
    os.link(settings.warehouse, pin)
    try:
        with duckdb.connect(str(pin), read_only=True) as con:
            [(snapshot_id,)] = con.execute("select snapshot_id from snapshot_info").fetchall()
        record = json.loads((_records(settings) / f"{snapshot_id}.json").read_text(encoding="utf-8"))
        yield Pinned(pin, Snapshot(**record))
    finally:
        pin.unlink(missing_ok=True)


# What a publication revision keeps of the snapshot it was computed from, to re-query a published
# figure and drill into it: every dimension, mart and the indicator components whole, and the
# facts behind the month (these filters); anything else (staging views, intermediate tables) not.
KEPT_TABLES = ("dim_%", "mart_%", "int_indicator_components", "snapshot_info", "fct_%")
KEPT_FACT_ROWS = {
    "fct_waybill": "accepted_month = $month",
    "fct_tracking_event": "event_month = $month",
    "fct_order": "paid_month = $month",
    "fct_order_line": "order_key in (select order_key from source.main.fct_order where paid_month = $month)",
    "fct_load_ledger": "data_month = $month",
}


def keep_for_revision(snapshot: Path, folder: Path, month: str) -> Path:
    """Write the month's part of a snapshot into `folder`/warehouse.duckdb (DuckDB 1.4 format)."""
    import duckdb

    kept = folder / REVISION_SNAPSHOT_FILE
    with duckdb.connect() as con:
        con.execute(f"attach '{_sql_path(snapshot)}' as source (read_only)")
        con.execute(f"attach '{_sql_path(kept)}' as kept (storage_version '{STORAGE_VERSION}')")
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'source' "
            "and table_schema = 'main' and table_type = 'BASE TABLE' and ("
            + " or ".join("table_name like ?" for _ in KEPT_TABLES) + ") order by table_name",
            list(KEPT_TABLES)).fetchall()]
        for table in tables:
            where = KEPT_FACT_ROWS.get(table, "true")
            con.execute(f"create table kept.main.{table} as select * from source.main.{table} where {where}",
                        {"month": month} if "$month" in where else None)
        con.execute("detach kept")
    return kept


def audit(settings: Settings, run_name: str) -> list[str]:
    """The mart suite on the working database, for every month that has ended (the month
    still running fills up day by day; the publication's gate checks it when it is due):
    what failed, one line per month and check."""
    import duckdb

    from zhongwei.publish.gate import mart_checks

    open_month = datetime.now(ZoneInfo(TIMEZONE)).strftime("%Y-%m")
    with duckdb.connect(str(working_database(settings)), read_only=True) as con:
        try:
            mart = con.execute("select * from mart_monthly_indicators where period < ? order by period",
                               [open_month]).df()
        except duckdb.CatalogException:
            return ["mart_monthly_indicators was not built"]
    return [f"{period}: {check.name} ({check.detail})" for period, rows in mart.groupby("period")
            for check in mart_checks(settings, str(period), rows, run_name) if not check.passed]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
