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
    """Open a warehouse snapshot to read in a test."""
    import duckdb

    return duckdb.connect(str(path), read_only=True)


def require_service(name: str, available: bool) -> None:
    """tests/conftest.py's require_service (skip here, fail under CI), loaded by path: in this
    folder `conftest` is tests/warehouse's own."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("zw_tests_root_conftest", Path(__file__).parents[1] / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.require_service(name, available)


def require_postgres() -> None:
    """The local PostgreSQL (127.0.0.1:5432) the PostgreSQL tests use."""
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            reachable = True
    except OSError:
        reachable = False
    require_service("PostgreSQL (127.0.0.1:5432)", reachable)
