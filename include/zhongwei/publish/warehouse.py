"""The publication reads the warehouse, never writes it (dbt is its only writer)."""
from __future__ import annotations

import contextlib
from typing import Iterator

from zhongwei.config import Settings


@contextlib.contextmanager
def read_only(settings: Settings) -> Iterator:
    import duckdb

    if not settings.warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {settings.warehouse}: build it first (build_warehouse / zw run)")
    try:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
    except duckdb.ConnectionException:
        # dbt ran in this process (`zw run`) and still holds the file: DuckDB then only lets this
        # process connect with dbt's configuration; the publication still only reads
        con = duckdb.connect(str(settings.warehouse))
    try:
        yield con
    finally:
        con.close()


def records(cursor) -> list[dict]:
    """A query's rows as dicts keyed by column name."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]
