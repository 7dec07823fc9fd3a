"""A month's publication: the files, their revisions and the manifest.

Layout under `$ZW_PUBLICATIONS`:

    index.html                      every month and revision
    YYYY-MM/indicators.csv ...      the month's current revision
    YYYY-MM/revisions/N/...         every revision ever published, never rewritten, with
                                    warehouse.duckdb: what it was computed from (the month's part
                                    of the snapshot its gate checked; `zw warehouse open --as-of`)

A revision is written into a temporary folder and renamed into place, so a
crash leaves no half-written revision. Publishing values equal to the latest
revision's writes nothing (same files, same checksums); different values make
revision N+1, which lists every value that changed.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from zhongwei.config import REVISION_SNAPSHOT_FILE, Settings
from zhongwei.lake import replace_atomically, write_json
from zhongwei.publish.gate import GateResult
from zhongwei.publish.warehouse import read_only, records
from zhongwei.warehouse import last_build_path
from zhongwei.warehouse.snapshot import Pinned, keep_for_revision

VALUE_FIELDS = ("value", "ytd_value", "yoy_growth", "ytd_yoy_growth", "target_value", "progress")
COLUMNS = ("period", "region_code", "indicator_code", *VALUE_FIELDS[:1], "unit", *VALUE_FIELDS[1:], "revision",
           "indicator_name", "region_name")
FILES = ("indicators.csv", "indicators.json", "bulletin.html")
HISTORY_MONTHS = 24


def format_number(x) -> str:
    """The published text of a value: plain decimal, at most 10 decimals, empty when undefined."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    text = format(Decimal(repr(round(float(x), 10))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def parse_number(text: str) -> int | float | None:
    if text == "":
        return None
    return int(text) if "." not in text else float(text)


def changed(old: str, new: str) -> bool:
    if old == new:
        return False
    if "" in (old, new):
        return True
    a, b = float(old), float(new)
    # a fen of 80亿 counts; the last bits of a different summation order do not
    return abs(a - b) > max(1e-9, 1e-13 * abs(a))


@dataclass
class Release:
    period: str
    revision: int
    status: str  # published | revised | unchanged
    folder: Path
    changes: list[dict] = field(default_factory=list)


def month_rows(con, month: str) -> list[dict]:
    """The month's rows of mart_monthly_indicators, every value as its published text."""
    cur = con.execute(
        "select m.period, m.region_code, m.indicator_code, m.value, m.unit, m.ytd_value, m.yoy_growth, "
        "m.ytd_yoy_growth, m.target_value, m.progress, m.indicator_name, r.region_name "
        "from mart_monthly_indicators m left join dim_region r on r.region_code = m.region_code "
        "where m.period = ? order by m.indicator_order, m.region_code", [month])
    return [{**row, **{f: format_number(row[f]) for f in VALUE_FIELDS}} for row in records(cur)]


def history(con, month: str) -> list[dict]:
    """The rows of the (up to) 24 months ending with the month, for the bulletin's charts."""
    cur = con.execute(
        "with p as (select distinct period from mart_monthly_indicators where period <= ? "
        f"order by period desc limit {HISTORY_MONTHS}) "
        "select m.period, m.region_code, m.indicator_code, m.value, m.ytd_value, m.target_value "
        "from mart_monthly_indicators m join p using (period) order by m.period", [month])
    return records(cur)


def revisions(month_dir: Path) -> list[int]:
    folder = month_dir / "revisions"
    return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) if folder.exists() else []


def read_published(folder: Path) -> dict[tuple[str, str], dict]:
    with (folder / "indicators.csv").open(encoding="utf-8", newline="") as f:
        return {(r["region_code"], r["indicator_code"]): r for r in csv.DictReader(f)}


def compare(previous: dict[tuple[str, str], dict], rows: list[dict]) -> list[dict]:
    """Every published value that differs from the previous revision, with the difference."""
    out = []
    current = {(r["region_code"], r["indicator_code"]): r for r in rows}
    for key in sorted(previous.keys() | current.keys()):
        old, new = previous.get(key), current.get(key)
        for f in VALUE_FIELDS:
            before, after = (old or {}).get(f, ""), (new or {}).get(f, "")
            if changed(before, after):
                ref = new or old
                delta = (format_number(float(after) - float(before)) if "" not in (before, after) else "")
                out.append({"region_code": key[0], "region_name": ref["region_name"], "indicator_code": key[1],
                            "indicator_name": ref["indicator_name"], "unit": ref["unit"], "field": f,
                            "previous": before, "current": after, "change": delta})
    return out


def indicators_csv(rows: list[dict], revision: int) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([revision if c == "revision" else r[c] for c in COLUMNS])
    return buf.getvalue().encode("utf-8")


def indicators_json(rows: list[dict], month: str, revision: int, published_at: str) -> bytes:
    items = [{c: (revision if c == "revision" else parse_number(r[c]) if c in VALUE_FIELDS else r[c])
              for c in COLUMNS} for r in rows]
    doc = {"period": month, "revision": revision, "published_at": published_at, "indicators": items}
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def generated_data(settings: Settings) -> dict | None:
    """What generated the inbox, when `zw synth` did (its truth file says so): a bulletin of
    generated data must say it is a demonstration, not the city's figures."""
    summary = settings.inbox / "_truth" / "summary.json"
    if not summary.exists():
        return None
    config = json.loads(summary.read_text(encoding="utf-8"))["config"]
    return {"generator": "zw synth", **{k: config[k] for k in ("scale", "seed", "months", "defect_rate")}}


def _manifest(con, settings: Settings, month: str, revision: int, published_at: str, gate: GateResult,
              changes: list[dict], files: dict[str, bytes], n_rows: int, snapshot: Pinned) -> dict:
    loads = records(con.execute(
        "select feed, source, batch_id, status, origin, checksum, rows_arrived, rows_loaded, rows_quarantined, "
        "duplicates, quality_passed, run_id, loaded_at from fct_load_ledger where data_month = ? "
        "order by feed, batch_id", [month]))
    facts = dict(zip(("waybills_accepted", "tracking_events", "orders_paid"), con.execute(
        "select (select count(*) from fct_waybill where accepted_month = $m), "
        "(select count(*) from fct_tracking_event where event_month = $m), "
        "(select count(*) from fct_order where paid_month = $m)", {"m": month}).fetchone()))
    build = last_build_path(settings)
    return {
        "period": month, "revision": revision, "published_at": published_at,
        "previous_revision": revision - 1 or None,
        "gate": gate.to_dict(),
        "loads": loads,
        "row_counts": {"indicator_rows": n_rows, "loads": len(loads),
                       **{k: sum(x[k] for x in loads) for k in
                          ("rows_arrived", "rows_loaded", "rows_quarantined", "duplicates")},
                       **facts},
        "quality": {"loads_passed": sum(1 for x in loads if x["quality_passed"]),
                    "loads_failed": [f"{x['feed']}/{x['batch_id']}" for x in loads if not x["quality_passed"]],
                    "mart_suite": [c.__dict__ for c in gate.checks if c.name.startswith("mart_monthly")]},
        "dbt_build": json.loads(build.read_text(encoding="utf-8")) if build.exists() else None,
        "generated_data": generated_data(settings),  # None: the partners' feeds
        "warehouse": str(settings.warehouse),
        "snapshot": {**asdict(snapshot.snapshot), "kept": REVISION_SNAPSHOT_FILE},
        "changes": changes,
        "files": {name: {"sha256": sha256(data), "bytes": len(data)} for name, data in files.items()},
    }


def _write_revision(month_dir: Path, revision: int, files: dict[str, bytes], manifest: dict,
                    snapshot: Pinned) -> Path:
    """Write the revision's folder completely, then rename it into place (all or nothing)."""
    final = month_dir / "revisions" / str(revision)
    tmp = final.with_name(f".{revision}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    kept = keep_for_revision(snapshot.path, tmp, manifest["period"])
    manifest["snapshot"]["kept_bytes"] = kept.stat().st_size
    write_json(tmp / "manifest.json", manifest)
    os.rename(tmp, final)
    return final


def _make_current(month_dir: Path, revision_dir: Path) -> None:
    """The month's top-level files are the latest revision's (each replaced atomically)."""
    for name in (*FILES, "manifest.json"):
        replace_atomically(month_dir / name, lambda tmp, name=name: shutil.copyfile(revision_dir / name, tmp))


def release(settings: Settings, month: str, gate: GateResult, snapshot: Pinned, *,
            now: datetime | None = None) -> Release:
    """Publish the month as it stands in the snapshot (the one the gate checked): revision 1,
    the next revision, or nothing new."""
    from zhongwei.publish.bulletin import render_bulletin
    from zhongwei.publish.gate import GateBlocked

    if not gate.may_publish:
        raise GateBlocked(gate)
    month_dir = settings.publications / month
    done = revisions(month_dir)
    with read_only(settings, snapshot.path) as con:
        rows = month_rows(con, month)
        if not rows:
            raise ValueError(f"the warehouse has no indicators for {month}")
        changes = compare(read_published(month_dir / "revisions" / str(done[-1])), rows) if done else []
        if done and not changes:
            _make_current(month_dir, month_dir / "revisions" / str(done[-1]))  # repairs a crash after the rename
            return Release(month, done[-1], "unchanged", month_dir)
        revision = done[-1] + 1 if done else 1
        published_at = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        files = {
            "indicators.csv": indicators_csv(rows, revision),
            "indicators.json": indicators_json(rows, month, revision, published_at),
            "bulletin.html": render_bulletin(month, revision, published_at, rows, history(con, month), changes,
                                             gate, generated_data(settings)).encode("utf-8"),
        }
        manifest = _manifest(con, settings, month, revision, published_at, gate, changes, files, len(rows),
                             snapshot)
    folder = _write_revision(month_dir, revision, files, manifest, snapshot)
    _make_current(month_dir, folder)
    return Release(month, revision, "revised" if revision > 1 else "published", month_dir, changes)
