"""The publication reads the published snapshot (the one its gate checked), never dbt's working database."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from zhongwei.config import Settings
from zhongwei.warehouse.snapshot import NoWarehouse


@contextlib.contextmanager
def read_only(settings: Settings, path: Path | None = None) -> Iterator:
    """A read-only connection to the snapshot at `path` (a pinned one), or to the current one."""
    import duckdb

    path = path or settings.warehouse
    if not path.exists():
        raise NoWarehouse(f"no warehouse at {path}: build it first (build_warehouse / zw run)")
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def records(cursor) -> list[dict]:
    """A query's rows as dicts keyed by column name."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]
