"""Helpers shared by the warehouse tests."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from zhongwei.config import Settings


def settings_for(data: Path, warehouse: Path, lake: Path | None = None) -> Settings:
    """Settings pointing at a test data dir's lake and at a given warehouse file."""
    base = Settings.from_env({"ZW_DATA": str(data)})
    return replace(base, lake=lake or data / "lake", warehouse=warehouse)


def connect(path):
    """Open a warehouse file to read in a test. dbt-duckdb may keep its own connection to the same
    file open in this process; DuckDB then only allows connections of the same configuration."""
    import duckdb

    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.ConnectionException:
        return duckdb.connect(str(path))
