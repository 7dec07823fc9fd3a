"""Write, audit, publish: analysts read a snapshot that a build never blocks, that changes in
one step, and that DuckDB 1.4 opens."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from wh_helpers import connect, require_service, settings_for
from zhongwei.config import PROJECT_ROOT

OLD_DUCKDB = PROJECT_ROOT / ".venv" / "duckdb-1.4"  # installed by `make test` (pip --target)
READER = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1], read_only=True)
def look():
    return con.execute("select (select snapshot_id from snapshot_info), count(*), sum(value) "
                       "from mart_monthly_indicators").fetchone()
print(*look(), sep="|", flush=True)
while not __import__("os").path.exists(sys.argv[2]):
    time.sleep(0.2)
print(*look(), sep="|", flush=True)
"""


def _snapshot_id(path: Path) -> str:
    with connect(path) as con:
        return con.execute("select snapshot_id from snapshot_info").fetchone()[0]


@pytest.fixture(scope="module")
def published(lake_data, tmp_path_factory):
    from zhongwei.warehouse import build

    settings = settings_for(lake_data, tmp_path_factory.mktemp("snap") / "warehouse.duckdb")
    result = build(settings, exclude="test_type:unit")
    assert result.success and result.snapshot, result.summary()
    return settings, result


def test_a_reader_never_blocks_the_build_and_keeps_its_snapshot(published, tmp_path):
    from zhongwei.warehouse import build

    settings, first = published
    release = tmp_path / "release"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(settings.warehouse), str(release)],
                              stdout=subprocess.PIPE, text=True)
    before = reader.stdout.readline().strip().split("|")
    assert before[0] == first.snapshot.id

    seen, errors, stop = [], [], threading.Event()

    def open_and_read():  # readers that open while the build runs and the new snapshot is swapped in
        while not stop.is_set():
            try:
                with connect(settings.warehouse) as con:
                    seen.append(con.execute("select (select snapshot_id from snapshot_info), count(*) "
                                            "from mart_monthly_indicators").fetchone())
            except Exception as exc:  # noqa: BLE001 - any failure to read is what the test looks for
                errors.append(repr(exc))
            time.sleep(0.05)

    poller = threading.Thread(target=open_and_read)
    poller.start()
    try:
        second = build(settings, select="mart_monthly_indicators")  # with the reader holding the snapshot open
    finally:
        stop.set()
        poller.join()
    assert second.success and second.snapshot and second.snapshot.id != first.snapshot.id, second.summary()
    release.touch()
    after = reader.stdout.readline().strip().split("|")
    assert reader.wait(timeout=30) == 0
    assert after == before  # the reader saw one snapshot throughout
    assert not errors, errors[:3]
    assert {s for s, _ in seen} <= {first.snapshot.id, second.snapshot.id} and {n for _, n in seen} == {int(before[1])}
    assert _snapshot_id(settings.warehouse) == second.snapshot.id  # the next reader gets the new one


def test_a_failed_audit_publishes_nothing(published, monkeypatch):
    from zhongwei.warehouse import build

    settings, _ = published
    current = _snapshot_id(settings.warehouse)
    monkeypatch.setattr(sys.modules[build.__module__], "audit",
                        lambda *_: ["2025-02: mart_monthly_indicators suite: broken on purpose"])
    result = build(settings, select="mart_monthly_indicators")
    assert not result.success and result.only_tests_failed and result.snapshot is None
    assert "broken on purpose" in result.failure_report(settings)
    assert _snapshot_id(settings.warehouse) == current  # analysts keep the last good snapshot


def test_the_snapshot_opens_in_duckdb_1_4(published):
    settings, _ = published
    require_service("DuckDB 1.4 (make test installs it in .venv/duckdb-1.4)", OLD_DUCKDB.exists())
    probe = ("import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
             "print(duckdb.__version__, con.execute('select count(*) from mart_monthly_indicators').fetchone()[0])")
    out = subprocess.run([sys.executable, "-c", probe, str(settings.warehouse)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(OLD_DUCKDB)})
    assert out.returncode == 0, out.stderr[-2000:]
    version, rows = out.stdout.split()
    assert version.startswith("1.4.") and int(rows) > 0
