"""`zw warehouse open`: the current snapshot, or the one a publication revision was computed from.

Kept out of the `zhongwei.warehouse` package, whose import brings in Airflow: a CLI command starts fast."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from zhongwei.config import REVISION_SNAPSHOT_FILE, Settings

_AS_OF = re.compile(r"^(\d{4}-(?:0[1-9]|1[0-2]))(?:r([1-9]\d*))?$")


def snapshot_path(settings: Settings, as_of: str | None) -> Path:
    """`$ZW_WAREHOUSE`, or for `2025-03` (the latest revision) / `2025-03r2` the revision's kept
    snapshot; a click error naming what is allowed when there is none."""
    if as_of is None:
        path = settings.warehouse
        if not path.exists():
            raise click.UsageError(f"no snapshot at {path} yet: build it first (zw run --month YYYY-MM)")
        return path
    match = _AS_OF.match(as_of)
    if match is None:
        raise click.BadParameter(f"{as_of!r}: a published month YYYY-MM, or a revision YYYY-MMrN", param_hint="--as-of")
    month, revision = match.groups()
    folder = settings.publications / month / "revisions"
    published = sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) if folder.exists() else []
    if not published:
        raise click.BadParameter(f"{month} has not been published", param_hint="--as-of")
    chosen = int(revision) if revision else published[-1]
    if chosen not in published:
        raise click.BadParameter(f"{month} has revisions {', '.join(map(str, published))}", param_hint="--as-of")
    return folder / str(chosen) / REVISION_SNAPSHOT_FILE


@click.group("warehouse")
def warehouse_group() -> None:
    """The analysts' warehouse snapshot."""


@warehouse_group.command("open")
@click.option("--as-of", default=None, metavar="YYYY-MM[rN]",
              help="The snapshot a publication revision was computed from (default: the latest revision).")
@click.option("--sql", default=None, help="Run one query, print its rows and exit (else an interactive console).")
def warehouse_open(as_of: str | None, sql: str | None) -> None:
    """Open the published snapshot read-only (never dbt's working database)."""
    import duckdb

    path = snapshot_path(Settings.from_env(), as_of)
    con = duckdb.connect(str(path), read_only=True)
    [(snapshot_id,)] = con.execute("select snapshot_id from snapshot_info").fetchall()
    if sql is not None:
        cursor = con.execute(sql)
        click.echo("\t".join(d[0] for d in cursor.description))
        for row in cursor.fetchall():
            click.echo("\t".join("" if v is None else str(v) for v in row))
        return
    import code

    banner = (f"{path} (snapshot {snapshot_id}), read-only. `con` is the DuckDB connection:\n"
              "  con.sql('select * from mart_monthly_indicators limit 5').show()")
    code.interact(banner=banner, local={"con": con}, exitmsg="")
    sys.exit(0)
