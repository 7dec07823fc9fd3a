"""Helpers of the deployment tests: the services they need, a fresh metadata database, a Redis key
prefix of their own, the warehouse tests' comparison with the truth."""
from __future__ import annotations

import contextlib
import importlib.util
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

TESTS = Path(__file__).parents[1]
MONTH = "2025-03"


def _module(path: Path, name: str):
    """A helper module of another test folder, loaded by path (`conftest` names several modules)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


require_service = _module(TESTS / "conftest.py", "zw_tests_root_conftest").require_service
mismatches = _module(TESTS / "warehouse" / "wh_compare.py", "zw_wh_compare").mismatches


def reachable(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def healthy(port: int) -> bool:
    """Whether an API server answers on `port` that every Airflow component is healthy."""
    import requests

    from zhongwei.deploy.local import AirflowApi, all_healthy

    try:
        return all_healthy(AirflowApi(f"http://127.0.0.1:{port}", "", "").health())
    except (requests.RequestException, ValueError):
        return False


@contextlib.contextmanager
def fresh_database():
    """A new PostgreSQL database for one cluster's metadata, dropped afterwards."""
    import psycopg

    from zhongwei.warehouse.postgres_lake import conninfo

    name = f"airflow_test_{secrets.token_hex(4)}"
    with psycopg.connect(conninfo("postgres"), autocommit=True) as con:
        con.execute(f'create database "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(conninfo("postgres"), autocommit=True) as con:
            con.execute(f'drop database if exists "{name}" with (force)')


@contextlib.contextmanager
def redis_prefix():
    """A key prefix of the cluster's own on the shared Redis; its keys are deleted afterwards."""
    import redis

    prefix = f"zwtest{secrets.token_hex(4)}:"
    try:
        yield prefix
    finally:
        client = redis.Redis(host="127.0.0.1", port=6379)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)


def start_standalone(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, int]:
    """`zw airflow standalone` on a free port, output in `log`, once every component is healthy."""
    from zhongwei.deploy.local import free_port

    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("zw")), "airflow", "standalone", "--port",
                                 str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while not healthy(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"zw airflow standalone did not start:\n{log.read_text()[-3000:]}")
        time.sleep(1)
    return proc, port
