"""The lake's guarantees and the batch accounting, without Airflow."""
from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zhongwei.config import Settings
from zhongwei.ingest import files
from zhongwei.ingest.windows import Window, for_run
from zhongwei.lake import Lake, LedgerEntry, write_parquet
from zhongwei.quality.gx import Quality

SAMPLES = Path(__file__).parents[1] / "fixtures" / "samples"


def test_windows_follow_local_time_and_params():
    # 01:30 in Zhongwei on 2 March is still 1 March in UTC: the run covers 1 March
    logical = datetime(2025, 3, 1, 17, 30, tzinfo=timezone.utc)
    assert for_run({}, logical) == Window.day(date(2025, 3, 1))
    assert for_run({}, datetime(2025, 4, 7, 23, 0, tzinfo=timezone.utc), period="month") == Window.month("2025-03")
    assert for_run({"month": "2024-12"}, logical).days()[-1] == date(2024, 12, 31)
    assert for_run({"date": "2025-02-28"}, logical) == Window.day(date(2025, 2, 28))
    assert Window.month("2024-11:2025-02").months() == ["2024-11", "2024-12", "2025-01", "2025-02"]
    with pytest.raises(ValueError):
        Window.month("2025-03:2025-01")


def test_a_crash_mid_write_leaves_the_old_partition(tmp_path, monkeypatch):
    path = tmp_path / "raw" / "t" / "part.parquet"
    write_parquet(path, pa.table({"x": [1, 2]}))

    def crash(table, where, **kw):
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", crash)
    with pytest.raises(OSError):
        write_parquet(path, pa.table({"x": [3]}))
    monkeypatch.undo()
    assert pq.read_table(path).column("x").to_pylist() == [1, 2]
    assert [p.name for p in path.parent.iterdir()] == ["part.parquet"]  # no temporary file left behind


def test_the_ledger_refuses_to_lose_rows():
    with pytest.raises(ValueError, match="does not balance"):
        LedgerEntry(batch_id="b", feed="f", source="s", partition={}, origin="o", checksum=None, size_bytes=None,
                    rows_arrived=10, rows_loaded=7, rows_quarantined=2, duplicates=0)


@pytest.fixture(scope="module")
def quality(tmp_path_factory):
    return Quality(Settings.from_env({"ZW_DATA": str(tmp_path_factory.mktemp("q"))}))


def test_a_file_sent_twice_under_another_name_loads_once_and_a_rerun_replaces(tmp_path, quality, monkeypatch):
    monkeypatch.setenv("ZW_PII_KEY", "k")
    inbox = tmp_path / "inbox" / "ecommerce" / "TAOBAO"
    inbox.mkdir(parents=True)
    shutil.copy(SAMPLES / "ecommerce/TAOBAO/orders_20250304.csv", inbox / "orders_20250304.csv")
    shutil.copy(SAMPLES / "ecommerce/TAOBAO/orders_20250304.csv", inbox / "orders_20250305.csv")  # resent as the 5th
    lake = Lake(tmp_path / "lake")
    window = Window(date(2025, 3, 4), date(2025, 3, 5))
    first = files.ingest_platform(lake, quality, tmp_path / "inbox", "TAOBAO", window, "run1")
    assert [e.status for e in first] == ["loaded", "duplicate_file"]
    assert first[1].rows_loaded == 0 and first[1].duplicates == first[1].rows_arrived == 3
    assert first[1].duplicate_of == first[0].batch_id
    again = files.ingest_platform(Lake(tmp_path / "lake"), quality, tmp_path / "inbox", "TAOBAO", window, "run2")
    assert [e.status for e in again] == ["loaded", "duplicate_file"]
    parts = sorted((tmp_path / "lake" / "raw").rglob("*.parquet"))
    assert [p.relative_to(tmp_path / "lake").as_posix() for p in parts] == [
        "raw/ecommerce_order_lines/platform=TAOBAO/export_date=2025-03-04/part.parquet",
        "raw/ecommerce_orders/platform=TAOBAO/export_date=2025-03-04/part.parquet",
    ]
    entry = json.loads(next((tmp_path / "lake" / "ledger" / "ecommerce").glob("*20250304*")).read_text())
    assert entry["run_id"] == "run2-TAOBAO" and {s["suite"] for s in entry["quality"]["suites"]} == {
        "ecommerce_orders", "ecommerce_order_lines", "batch_health"}


def test_a_repeated_row_is_a_duplicate_and_a_conflicting_one_fails_its_batch(tmp_path, quality, monkeypatch):
    """A Taobao export in which one order row appears twice, verbatim (the 4th), and a PDD
    export in which one order appears twice with different amounts (the 5th)."""
    monkeypatch.setenv("ZW_PII_KEY", "k")
    inbox = tmp_path / "inbox" / "ecommerce"
    for platform, day, change in (("TAOBAO", "04", None), ("PDD", "05", (b",113.00,", b",112.00,"))):
        lines = (SAMPLES / f"ecommerce/{platform}/orders_20250304.csv").read_bytes().splitlines(keepends=True)
        copy = lines[1] if change is None else lines[1].replace(*change)
        assert copy != lines[1] or change is None
        (inbox / platform).mkdir(parents=True)
        (inbox / platform / f"orders_202503{day}.csv").write_bytes(b"".join([*lines, copy]))
    lake = Lake(tmp_path / "lake")
    window = Window(date(2025, 3, 4), date(2025, 3, 6))
    [taobao] = files.ingest_platform(lake, quality, tmp_path / "inbox", "TAOBAO", window, "run")
    assert (taobao.status, taobao.rows_arrived, taobao.rows_loaded, taobao.duplicates) == ("loaded", 4, 3, 1)
    assert taobao.rows_quarantined == 0
    [pdd] = files.ingest_platform(lake, quality, tmp_path / "inbox", "PDD", window, "run")
    assert pdd.status == "failed" and pdd.quarantined_by_reason == {"conflicting_duplicate": 2}
    assert pdd.failure == "batch_health: expect_column_values_to_be_between(conflicting_duplicates)"
    assert pdd.rows_arrived == pdd.rows_loaded + pdd.rows_quarantined + pdd.duplicates
    quarantine = pq.read_table(next((tmp_path / "lake" / "quarantine" / "ecommerce").glob("PDD*.parquet")))
    assert quarantine.column("location").to_pylist() == ["orders_20250305.csv:line 2",
                                                         f"orders_20250305.csv:line {pdd.rows_arrived + 1}"]
