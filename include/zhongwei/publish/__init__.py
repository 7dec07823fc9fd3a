"""The monthly publication: gate → release (revision) → bulletin → index.

`publish_month()` is what the DAG, `zw run` and the benchmark call.
"""
from __future__ import annotations

import json
import logging

from zhongwei.config import Settings
from zhongwei.publish.gate import GateBlocked, GateResult, check_month
from zhongwei.publish.release import Release, compare, month_rows, read_published, release, revisions
from zhongwei.publish.warehouse import read_only
from zhongwei.publish.site import write_index
from zhongwei.warehouse.snapshot import Pinned, pinned

log = logging.getLogger(__name__)

__all__ = ["GateBlocked", "GateResult", "Release", "check_month", "publish_month", "revise_published"]


def publish_month(settings: Settings, month: str, acceptance: str | None = None,
                  run_name: str | None = None) -> Release:
    """Check the month's gate, then publish it (or its next revision, or nothing when unchanged).

    Raises GateBlocked, listing the failing checks, unless `acceptance` gives a reason to publish anyway.
    """
    with pinned(settings) as snapshot:  # the gate and the release read one snapshot
        gate = check_month(settings, month, run_name or f"publish__{month}", snapshot.path)
        if not gate.passed and acceptance:
            gate.accept(acceptance)
        result = release(settings, month, gate, snapshot)
    write_index(settings.publications)
    return result


def revise_published(settings: Settings, run_name: str, skip: tuple[str, ...] = ()) -> list[Release]:
    """Republish every already published month whose values changed since (a revision), gate permitting.

    A month whose checks fail now is left at its current revision unless the failing checks are the
    ones a person accepted for that revision (the acceptance carries over).
    """
    root = settings.publications
    published = sorted(p.name for p in root.iterdir() if p.is_dir() and revisions(p)) if root.exists() else []
    months = [m for m in published if m not in skip]
    if not months:  # nothing published before: nothing to revise, with or without a warehouse
        return []
    with pinned(settings) as snapshot:
        out = [r for month in months if (r := _revise(settings, snapshot, month, run_name)) is not None]
    if out:
        write_index(settings.publications)
    return out


def _revise(settings: Settings, snapshot: Pinned, month: str, run_name: str) -> Release | None:
    """The month's next revision when its values changed and its gate permits, else None."""
    latest = settings.publications / month / "revisions" / str(revisions(settings.publications / month)[-1])
    with read_only(settings, snapshot.path) as con:
        if not compare(read_published(latest), month_rows(con, month)):
            return None
    gate = check_month(settings, month, run_name, snapshot.path)
    if not gate.passed:
        accepted = json.loads((latest / "manifest.json").read_text(encoding="utf-8"))["gate"]["accepted"]
        if not accepted or not {c.name for c in gate.failing} <= set(accepted["failing_checks"]):
            log.warning("%s changed since revision %s but is not republished:\n%s",
                        month, latest.name, gate.message())
            return None
        gate.accept(accepted["reason"])
    result = release(settings, month, gate, snapshot)
    return None if result.status == "unchanged" else result
