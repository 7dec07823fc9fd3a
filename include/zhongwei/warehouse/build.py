"""Run the dbt project in-process with dbt's programmatic runner, then publish the snapshot.

One `dbtRunner` per process is reused (start-up costs seconds; later invocations well under one).
The lake and dbt's working database come from `zhongwei.config.Settings` and are passed to dbt as
the environment variables its profile and sources read (ZW_LAKE, ZW_DBT_DATABASE). A build whose
tests and mart suite passed is published as the analysts' snapshot (`zhongwei.warehouse.snapshot`).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from zhongwei.config import DBT_PROJECT_DIR, Settings
from zhongwei.warehouse.snapshot import Snapshot, audit, publish, working_database

log = logging.getLogger(__name__)

_RUNNER = None
_LOCK = threading.Lock()


FAILED_TEST = "fail"  # dbt's status of a data or unit test whose assertion failed (not an error)
FAILING_ROWS_SHOWN = 5


@dataclass(frozen=True)
class NodeResult:
    name: str
    resource_type: str
    status: str
    execution_time: float
    failures: int | None
    message: str | None
    compiled_sql: str | None = None  # kept for a failed test, to show the rows it found


@dataclass
class BuildResult:
    success: bool
    target: str
    seconds: float
    nodes: list[NodeResult] = field(default_factory=list)
    audit_failures: list[str] = field(default_factory=list)  # the mart suite's, per month
    snapshot: Snapshot | None = None  # published when everything passed

    @property
    def failed(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in ("error", "fail", "runtime error")]

    @property
    def only_tests_failed(self) -> bool:
        """Whether the build failed only because tests (or the marts' audit) found bad data:
        running it again on the same lake fails the same way, so it is not retried (an error
        or crash is)."""
        return not self.success and all(n.status == FAILED_TEST for n in self.failed)

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for n in self.nodes:
            counts[n.status] = counts.get(n.status, 0) + 1
        return counts

    def summary(self) -> str:
        published = f"; snapshot {self.snapshot.id} published" if self.snapshot else ""
        return (f"dbt build on {self.target}: {'ok' if self.success else 'FAILED'} in {self.seconds:.1f}s "
                f"{self.counts}{published}")

    def failure_report(self, settings: Settings) -> str:
        """The summary, each failed node with its message, and for a failed data test the
        first rows it found (the offending keys), read from the warehouse."""
        lines = [self.summary() + "; failed:"]
        for n in self.failed:
            lines.append(f"- {n.resource_type.split('.')[-1]} {n.name}: {n.status} ({n.message})")
            if n.compiled_sql and self.target == "duckdb":
                lines += [f"    {row}" for row in _failing_rows(working_database(settings), n.compiled_sql)]
        lines += [f"- mart suite: {failure}" for failure in self.audit_failures]
        return "\n".join(lines)


def _failing_rows(warehouse: Path, sql: str) -> list[str]:
    """The first rows a failed test's query returns (read-only; an unreadable query says why)."""
    import duckdb

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            cursor = con.execute(f"select * from ({sql}) as failing limit {FAILING_ROWS_SHOWN}")
            names = [d[0] for d in cursor.description]
            return [", ".join(f"{k}={v}" for k, v in zip(names, row)) for row in cursor.fetchall()]
    except duckdb.Error as exc:
        return [f"(the failing rows could not be read: {exc})"]


def last_build_path(settings: Settings) -> Path:
    """Where the latest build's outcome is kept, next to the snapshot (publications cite it)."""
    return settings.warehouse.with_name(settings.warehouse.stem + ".last_build.json")


def lake_tables_without_data(settings: Settings, project_dir: Path = DBT_PROJECT_DIR) -> list[str]:
    """The lake tables the dbt sources read that have no Parquet file yet.

    Read from the sources file, so the list is the one dbt uses. On a fresh
    deployment the first loads (a courier day, say) come before any platform
    export or ledger: until every table has data there is nothing to build.
    """
    import yaml

    sources = yaml.safe_load((project_dir / "models" / "staging" / "_sources.yml").read_text(encoding="utf-8"))
    tables = [t["name"] for source in sources["sources"] for t in source["tables"]
              if "/raw/" in t.get("meta", {}).get("external_location", "")]
    return [t for t in tables if next((settings.lake / "raw" / t).rglob("*.parquet"), None) is None]


class DbtError(RuntimeError):
    pass


def _runner():
    global _RUNNER
    if _RUNNER is None:
        from dbt.cli.main import dbtRunner

        _RUNNER = dbtRunner()
    return _RUNNER


def dbt_env(settings: Settings, target: str = "duckdb") -> dict[str, str]:
    """The environment dbt reads: the lake, dbt's working database, the target."""
    return {"ZW_LAKE": str(settings.lake), "ZW_DBT_DATABASE": str(working_database(settings)),
            "ZW_DBT_TARGET": target}


def run_dbt(args: Sequence[str], settings: Settings | None = None, target: str = "duckdb",
            project_dir: Path = DBT_PROJECT_DIR):
    """Invoke dbt with `args` (e.g. ["build", "--select", "marts"]) on the project; returns dbtRunnerResult."""
    settings = settings or Settings.from_env()
    working_database(settings).parent.mkdir(parents=True, exist_ok=True)
    env = dbt_env(settings, target)
    full = [*args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir), "--target", target]
    with _LOCK:  # dbt is not re-entrant within a process
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            return _runner().invoke(full)
        finally:  # leave the process environment as it was, and the warehouse file closed
            release_duckdb()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in the process between invocations
    (`keep_open`): otherwise the process holds the warehouse's lock after dbt returns, and
    nothing else (the publication, a retry in another process) can open it meanwhile."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()


def _nodes(res: Any) -> list[NodeResult]:
    out = []
    results = getattr(res.result, "results", None) or []
    for r in results:
        node = getattr(r, "node", None)
        out.append(NodeResult(
            name=getattr(node, "name", "?"),
            resource_type=str(getattr(node, "resource_type", "?")),
            status=str(getattr(r, "status", "?")),
            execution_time=float(getattr(r, "execution_time", 0.0) or 0.0),
            failures=getattr(r, "failures", None),
            message=getattr(r, "message", None),
            compiled_sql=getattr(node, "compiled_code", None) if str(getattr(r, "status", "")) == FAILED_TEST
            and str(getattr(node, "resource_type", "")) == "test" else None,
        ))
    return out


def build(settings: Settings | None = None, select: str | Sequence[str] | None = None, full_refresh: bool = False,
          target: str = "duckdb", vars: dict | None = None, exclude: str | Sequence[str] | None = None) -> BuildResult:
    """`dbt seed` then `dbt build` (models, tests, unit tests) into dbt's working database, each
    node's result; on DuckDB, when all passed and the marts pass their suite (the audit), the
    snapshot is published. A failure publishes nothing: analysts keep the last good snapshot."""
    settings = settings or Settings.from_env()
    start = time.monotonic()
    nodes: list[NodeResult] = []
    success = True
    common: list[str] = []
    if vars:
        import json

        common += ["--vars", json.dumps(vars)]
    for command in (["seed"], ["build"]):
        args = [*command, *common]
        if full_refresh:
            args.append("--full-refresh")
        if command == ["build"] and select:
            args += ["--select", *([select] if isinstance(select, str) else select)]
        if exclude:
            args += ["--exclude", *([exclude] if isinstance(exclude, str) else exclude)]
        res = run_dbt(args, settings, target)
        if res.exception is not None:
            raise DbtError(f"dbt {' '.join(command)} could not run: {res.exception}")
        step = _nodes(res)
        nodes += step
        success = success and bool(res.success)
        for n in step:
            log.info("%-8s %-45s %-10s %6.2fs%s", n.resource_type.split('.')[-1], n.name, n.status,
                     n.execution_time, f" failures={n.failures}" if n.failures else "")
        if not res.success:
            break
    result = BuildResult(success=success, target=target, seconds=time.monotonic() - start, nodes=nodes)
    return audit_and_publish(settings, result, select=select, full_refresh=full_refresh)


def audit_and_publish(settings: Settings, result: BuildResult, select: str | Sequence[str] | None = None,
                      full_refresh: bool = False) -> BuildResult:
    """After a dbt build: on DuckDB, when every node passed, the marts' suite (the audit) and,
    when it passes, the snapshot; the outcome recorded beside the snapshot either way."""
    start = time.monotonic() - result.seconds
    if result.success and result.target == "duckdb":
        result.audit_failures = audit(settings, f"build-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}")
        result.success = not result.audit_failures
        result.snapshot = publish(settings) if result.success else None
        result.seconds = time.monotonic() - start
    log.info(result.summary())
    from zhongwei.lake import write_json

    write_json(last_build_path(settings), {
        "target": result.target, "success": result.success, "seconds": round(result.seconds, 1),
        "counts": result.counts, "select": select, "full_refresh": full_refresh,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "failed": [n.name for n in result.failed] + result.audit_failures,
        "snapshot": result.snapshot.id if result.snapshot else None})
    return result


def freshness(settings: Settings | None = None) -> dict[str, dict]:
    """`dbt source freshness`: for each source with a freshness rule, its status (pass, warn,
    error) and when it last loaded."""
    res = run_dbt(["source", "freshness"], settings)
    if res.exception is not None:
        raise DbtError(f"dbt source freshness could not run: {res.exception}")
    # sorted: dbt's threads finish in any order
    results = sorted(res.result.results, key=lambda r: (r.node.source_name, r.node.name))
    return {f"{r.node.source_name}.{r.node.name}": {
        "status": str(r.status), "max_loaded_at": str(getattr(r, "max_loaded_at", None)),
        "age_hours": float(getattr(r, "age", 0.0) or 0.0) / 3600} for r in results}


def docs_generate(settings: Settings | None = None, target: str = "duckdb") -> Path:
    """`dbt docs generate` into dbt_project/target (index.html, manifest.json, catalog.json)."""
    res = run_dbt(["docs", "generate"], settings, target)
    if not res.success:
        raise DbtError(f"dbt docs generate failed: {res.exception}")
    return DBT_PROJECT_DIR / "target" / "index.html"
