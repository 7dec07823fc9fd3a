"""`zw analyst`: a SQL workbench (a marimo notebook, `workbench.py`) on the published warehouse snapshot.

The helpers here are what the notebook needs beyond marimo: a read-only connection to the snapshot
and the revisions of a published month. Kept free of marimo imports so `zw` starts fast.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

CATALOG_URL_ENV = "ZW_ANALYST_CATALOG_URL"  # where `zw analyst` serves the dbt docs, for the notebook's link


def snapshot_path() -> Path:
    """The snapshot the workbench opens: $ZW_WAREHOUSE (`zw analyst --snapshot` sets it), else the default."""
    from zhongwei.config import Settings

    return Settings.from_env().warehouse


def connect(path: Path | str):
    """A read-only DuckDB connection to the snapshot at `path`, for one notebook session.

    The file is attached to a private in-memory database rather than opened with
    `duckdb.connect(path)`: DuckDB shares one open database per path within a process, and the
    workbench's sessions all run in one process, so a session started after a new snapshot was
    swapped in would otherwise get the old file from a session still open. Attached under the
    file's stem, the catalog name dbt's views refer to. File access is then switched off and the
    configuration locked, so SQL typed in the workbench can neither write the snapshot, attach
    another file writable, nor read or write files on the server.
    """
    import duckdb

    from zhongwei.config import TIMEZONE

    path = Path(path)
    con = duckdb.connect()
    catalog = path.stem.replace('"', '""')
    con.execute(f"""attach '{str(path).replace("'", "''")}' as "{catalog}" (read_only)""")
    con.execute(f'use "{catalog}"')
    con.execute(f"set TimeZone = '{TIMEZONE}'")  # timestamps as the city reads them (months are local months)
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con


def snapshot_info(con) -> dict:
    """The snapshot's id and publication time (table `snapshot_info`), or {} for a database without one."""
    import duckdb

    try:
        cur = con.execute("select * from snapshot_info")
    except duckdb.CatalogException:
        return {}
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else {}


def published_months(publications: Path) -> list[str]:
    """The months with at least one revision under $ZW_PUBLICATIONS, newest first."""
    if not publications.exists():
        return []
    return sorted((p.name for p in publications.iterdir() if (p / "revisions").is_dir()), reverse=True)


def month_revisions(publications: Path, month: str) -> list[dict]:
    """Each revision's manifest.json (layout of zhongwei.publish.release), oldest first."""
    folder = publications / month / "revisions"
    numbers = sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) if folder.exists() else []
    return [json.loads((folder / str(n) / "manifest.json").read_text(encoding="utf-8")) for n in numbers]


def catalog_url() -> str | None:
    return os.environ.get(CATALOG_URL_ENV) or None
