"""The publication's gate: may a month be published?

A month rests on the batches whose data belongs to it (courier days, export
dates and ledger months in the month: `fct_load_ledger.data_month`), on the
outlet ledgers and registry snapshot that hold for it, on the last dbt build
and on the month's rows of `mart_monthly_indicators`, which must pass the
`mart_monthly_indicators` GX suite. Every check is listed, passed or not, so
the manifest shows what the publication was checked against.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from zhongwei.acceptance import acceptance_reason
from zhongwei.config import DBT_PROJECT_DIR, Settings
from zhongwei.lake import FAILED, LOADED
from zhongwei.publish.warehouse import read_only
from zhongwei.reference import COUNTY_CODES
from zhongwei.warehouse import last_build_path

MART_SUITE = "mart_monthly_indicators"
REQUIRED_FEEDS = ("courier_waybills", "courier_events", "ecommerce")  # a month without them is not a month


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class GateResult:
    month: str
    checks: list[Check] = field(default_factory=list)
    accepted: dict | None = None  # {"reason": ..., "failing_checks": [...]} when a person accepted failures

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failing(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    @property
    def may_publish(self) -> bool:
        return self.passed or self.accepted is not None

    def accept(self, reason: str) -> "GateResult":
        """Record a person's explicit acceptance of the failing checks (it goes into the manifest)."""
        self.accepted = {"reason": acceptance_reason(reason), "failing_checks": [c.name for c in self.failing]}
        return self

    def message(self) -> str:
        if self.passed:
            return f"{self.month}: all {len(self.checks)} checks passed"
        lines = [f"{self.month} is not published: {len(self.failing)} of {len(self.checks)} checks failed"]
        lines += [f"  - {c.name}: {c.detail}" for c in self.failing]
        lines.append("Fix the data and rerun, or accept the failures explicitly with a reason "
                     "(`zw run --month M --accept-quality-failures REASON`, or the DAG's "
                     "`accept_quality_failures` param).")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"month": self.month, "passed": self.passed, "accepted": self.accepted,
                "checks": [asdict(c) for c in self.checks]}


class GateBlocked(RuntimeError):
    def __init__(self, gate: GateResult):
        super().__init__(gate.message())
        self.gate = gate


def check_month(settings: Settings, month: str, run_name: str, snapshot: Path | None = None) -> GateResult:
    """The month's checks on the snapshot at `snapshot` (a pinned one), or on the current one."""
    with read_only(settings, snapshot) as con:
        loads = con.execute(
            "select feed, source, batch_id, status, failure, is_balanced, quality_passed, suites_failed, data_month "
            "from fct_load_ledger where data_month <= ? order by feed, batch_id", [month]).fetchall()
        mart = con.execute("select * from mart_monthly_indicators where period = ?", [month]).df()
    checks = _load_checks(month, loads) + [_build_check(settings)] + mart_checks(settings, month, mart, run_name)
    return GateResult(month, checks)


def _load_checks(month: str, loads: list[tuple]) -> list[Check]:
    """One check per failing batch of the month, and per feed one that the month's data is there."""
    checks, passed = [], {}
    for feed, source, batch_id, status, failure, balanced, quality_passed, suites_failed, data_month in loads:
        if data_month != month:
            continue
        problems = []
        if status == FAILED:
            problems.append(failure or "failed")
        if not quality_passed:
            problems.append(f"{suites_failed} quality suite(s) failed")
        if not balanced:
            problems.append("ledger does not balance")
        if problems:
            checks.append(Check(f"load {feed}/{batch_id}", False, "; ".join(problems)))
        else:
            passed[feed] = passed.get(feed, 0) + 1
    for feed in sorted({*REQUIRED_FEEDS, *passed}):
        n = passed.get(feed, 0)
        checks.append(Check(f"{feed} loads of {month}", n > 0 or feed not in REQUIRED_FEEDS,
                            f"{n} batches passed" if n else "no batch loaded"))
    # the ledgers that hold for the month: the month's own or the latest earlier one
    loaded = {(feed, source, data_month) for feed, source, _, status, *_, data_month in loads if status == LOADED}
    for county in COUNTY_CODES:
        months = sorted(m for f, s, m in loaded if f == "outlets" and s == county)
        checks.append(Check(f"outlet ledger of {county} holding for {month}", bool(months),
                            f"ledger of {months[-1]}" if months else f"no ledger of {month} or earlier"))
    months = sorted(m for f, _, m in loaded if f == "registry")
    checks.append(Check(f"registry holding for {month}", bool(months),
                        f"registry of {months[-1]}" if months else f"no registry of {month} or earlier"))
    return checks


def _build_check(settings: Settings) -> Check:
    path = last_build_path(settings)
    if not path.exists():
        return Check("dbt build", False, f"no record of a dbt build ({path.name} missing)")
    build = json.loads(path.read_text(encoding="utf-8"))
    detail = f"{build['counts']} at {build['finished_at']}"
    if build["failed"]:
        detail += "; failed: " + ", ".join(build["failed"])
    return Check("dbt build (models, data tests, unit tests)", bool(build["success"]), detail)


@lru_cache(maxsize=1)
def rows_per_month() -> int:
    """A month's rows of mart_monthly_indicators: each indicator for the city and, unless it is
    city-only, for each county. Counted from the indicator definitions (the dbt macro, rendered
    here with Jinja as dbt does), so that a new indicator needs no edit to the mart suite."""
    import jinja2

    defined = []
    env = jinja2.Environment()
    env.globals["return"] = defined.append  # dbt's return(): the macro's value
    macro = (DBT_PROJECT_DIR / "macros" / "indicator_definitions.sql").read_text(encoding="utf-8")
    env.from_string(macro).module.indicator_definitions()
    return sum(1 if d["city_only"] else 1 + len(COUNTY_CODES) for d in defined[0])


@lru_cache(maxsize=2)
def _quality(settings: Settings):
    from zhongwei.quality.gx import Quality

    return Quality(settings)  # seconds to set up: once per process


def mart_checks(settings: Settings, month: str, mart, run_name: str) -> list[Check]:
    """The mart suite on one month's rows of mart_monthly_indicators (the gate's, and the build's audit)."""
    batch = f"mart_monthly_indicators/{month}"
    result = _quality(settings).validate(MART_SUITE, mart.assign(batch_id=batch), run_name,
                                         {"rows_per_month": rows_per_month()})
    failed = result.failures.get(batch, [])
    checks = [Check(f"{MART_SUITE} suite: {f['expectation']}({f['column'] or ''})", False,
                    f"{f['unexpected_count']} unexpected" if f["unexpected_count"] is not None
                    else f"observed {f['observed']}") for f in failed]
    return checks or [Check(f"{MART_SUITE} suite", True, f"{result.evaluated} expectations passed on {len(mart)} rows")]
