"""Fixtures of the warehouse tests: one small generated-and-ingested lake (cached between runs,
keyed on the generator's and parsers' source), and one full DuckDB build of it per session."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from wh_helpers import settings_for
from zhongwei.config import PROJECT_ROOT

HERE = Path(__file__).parent


def _source_hash() -> str:
    """The lake depends on the generator, the parsers and ingestion: rebuild it when they change."""
    h = hashlib.sha256((HERE / "make_lake.py").read_bytes())
    pkg = PROJECT_ROOT / "include" / "zhongwei"
    for sub in ("synth", "ingest", "feeds", "quality", "exchange"):
        for f in sorted((pkg / sub).rglob("*.py")):
            h.update(f.read_bytes())
    for f in ("lake.py", "config.py"):
        h.update((pkg / f).read_bytes())
    for f in sorted((PROJECT_ROOT / "dbt_project" / "seeds").glob("*.csv")):
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


@pytest.fixture(scope="session")
def lake_data() -> Path:
    """A data dir with inbox/ (and its truth) and lake/, 14 months at scale 0.0003 (~6 min to make
    the first time: generation ~1 min, ingestion through the real parsers ~5 min; then cached in
    $ZW_TEST_CACHE or the temp dir)."""
    cache = Path(os.environ.get("ZW_TEST_CACHE", Path(tempfile.gettempdir()) / "zw-warehouse-tests"))
    data = cache / f"lake-{_source_hash()}"
    if not (data / "READY").exists():
        shutil.rmtree(data, ignore_errors=True)
        subprocess.run([sys.executable, str(HERE / "make_lake.py"), str(data)], check=True,
                       stdout=subprocess.DEVNULL, timeout=1800)
    return data


@pytest.fixture(scope="session")
def built(lake_data, tmp_path_factory):
    """One full `dbt seed` + `dbt build` of the lake into a fresh warehouse file."""
    from zhongwei.warehouse import build

    warehouse = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    settings = settings_for(lake_data, warehouse)
    result = build(settings)
    return settings, result
