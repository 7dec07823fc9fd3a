"""The `zw` command: what people, the README and the tests use.

Arguments are checked before any work starts: a bad one is one line naming it and what is
allowed, exit status 2 (click's usage error), never a traceback.
"""
from __future__ import annotations

import click

SCALE = click.FloatRange(0, 10, min_open=True)  # 1.0 is the plan's 2025 volume


def _checked(rule, value: str | None) -> str | None:
    """An option's value through its rule: the rule's ValueError is a usage error (exit 2)."""
    try:
        return None if value is None else rule(value)
    except ValueError as bad:
        raise click.BadParameter(str(bad)) from None


def month_range(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A month YYYY-MM, or a range YYYY-MM:YYYY-MM that does not end before it starts."""
    from zhongwei.ingest.windows import check_months

    return _checked(check_months, value)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Zhongwei e-commerce and express-delivery data platform."""


@main.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Inbox folder to write.")
@click.option("--months", required=True, callback=month_range, help="Month range, e.g. 2024-01:2025-06 (or one month).")
@click.option("--scale", default=0.01, show_default=True, type=SCALE, help="1.0 = the plan's 2025 level for the whole city.")
@click.option("--seed", default=42, show_default=True, type=click.IntRange(min=0))
@click.option("--defect-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of records carrying a defect.")
def synth(out_dir: str, months: str, scale: float, seed: int, defect_rate: float) -> None:
    """Write a complete synthetic inbox (all four feeds) and its truth file."""
    from zhongwei.progress import bars
    from zhongwei.synth.generate import SynthConfig, generate

    with bars() as progress:
        summary = generate(SynthConfig(out=out_dir, months=months, scale=scale, seed=seed, defect_rate=defect_rate),
                           progress)
    click.echo(summary.describe())


@main.group()
def exchange() -> None:
    """The courier exchange simulator (feeds/courier contract)."""


@exchange.command("serve")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="Folder of waybills*.jsonl / events*.jsonl files.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--token", required=True, envvar="ZW_EXCHANGE_TOKEN", help="Bearer token clients must send.")
@click.option("--fault-rate", default=0.0, show_default=True, type=float,
              help="Share of requests answered 429/500/503, or with a repeated page.")
@click.option("--seed", default=None, type=int, help="Seed for the fault dice (reproducible faults).")
def exchange_serve(data_dir: str, host: str, port: int, token: str, fault_rate: float, seed: int | None) -> None:
    """Serve the courier exchange API over the given JSON Lines files."""
    from zhongwei.exchange.server import run_server

    run_server(data_dir, host=host, port=port, token=token, fault_rate=fault_rate, seed=seed)


STOP_GRACE_SECONDS = 10


def _stop_on_signals() -> None:
    """SIGTERM (a supervisor, `kill`) and SIGINT stop the process within seconds.

    Airflow's in-process task runner replaces a SIGTERM handler with its own (which only calls
    on_kill) and takes a KeyboardInterrupt inside a task for a task failure, so both signals are
    blocked here and taken by a thread of its own: it interrupts the main thread, and if that has
    not ended after a grace period, ends the process. Nothing is half-written either way: the lake,
    the ledger and the publications are written to temporary names and renamed.
    """
    import _thread
    import os
    import signal
    import threading
    import time

    signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)  # threads started later inherit the mask

    def wait() -> None:
        received = signal.Signals(signal.sigwait(signals)).name
        click.echo(f"Stopping ({received}): what finished is kept; run the same command again to go on.", err=True)
        _thread.interrupt_main()
        time.sleep(STOP_GRACE_SECONDS)
        os._exit(130)

    threading.Thread(target=wait, name="stop-on-signal", daemon=True).start()


def acceptance(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A reason to publish despite failing checks (`zhongwei.acceptance`)."""
    from zhongwei.acceptance import acceptance_reason

    return _checked(acceptance_reason, value)


@main.command()
@click.option("--month", required=True, callback=month_range,
              help="The month to run, YYYY-MM, or a range YYYY-MM:YYYY-MM in one go.")
@click.option("--only", type=click.Choice(["ingest", "build", "publish"]), default=None, help="Run only this stage.")
@click.option("--accept-quality-failures", "accept", default=None, metavar="REASON", callback=acceptance,
              help="Publish even though checks failed, for this reason (kept in the manifest and the bulletin).")
def run(month: str, only: str | None, accept: str | None) -> None:
    """Run the month's chain locally through Airflow: ingest → build → check → publish.

    Exit status: 0 when the months were published (or the stage passed); 3 when
    data failed its checks: the publication's gate stopped a month (its failing
    checks are listed), or, without the publication stage, batches failed;
    1 when a task failed otherwise (the chain stops there); 130 when stopped (SIGINT or SIGTERM).
    """
    from zhongwei.config import Settings
    from zhongwei.progress import bars
    from zhongwei.runner import run_month

    _stop_on_signals()
    settings = Settings.from_env()
    try:
        with bars() as progress:
            outcomes = run_month(month, only=only, accept=accept, settings=settings, progress=progress)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    for o in outcomes:
        click.echo(f"{o.dag_id:<28} {o.state:<8} {o.seconds:7.1f}s "
                   f"{'failed: ' + ', '.join(o.failed_tasks) if o.failed_tasks else ''}"
                   f"{'skipped: ' + ', '.join(o.skipped_tasks) if o.skipped_tasks else ''}")
    if any(o.dag_id == "build_warehouse" and "wait_for_every_feed" in o.skipped_tasks for o in outcomes):
        from zhongwei.warehouse import lake_tables_without_data

        click.echo(f"Nothing built: no data yet in lake tables {', '.join(lake_tables_without_data(settings))}.")
    batches = [b for o in outcomes for b in o.failed_batches]
    if batches:
        click.echo(f"{len(batches)} batches failed their checks (in the lake, marked failed in the ledger):")
        for b in batches:
            click.echo(f"  - {b}")
    blocked = [g for o in outcomes for g in o.blocked]
    for gate in blocked:
        failing = [c for c in gate["checks"] if not c["passed"]]
        click.echo(f"{gate['month']} NOT PUBLISHED: {len(failing)} of {len(gate['checks'])} checks failed:")
        for c in failing:
            click.echo(f"  - {c['name']}: {c['detail']}")
    if blocked:
        click.echo("Fix the data and rerun, or publish anyway with --accept-quality-failures \"REASON\".")
    published = any(o.dag_id == "publish_monthly_indicators" for o in outcomes)
    if published and (settings.publications / "index.html").exists():
        click.echo(f"Bulletins: {settings.publications / 'index.html'}")
    if any(o.crashed_tasks for o in outcomes):
        raise SystemExit(1)
    if blocked or (batches and not published):
        raise SystemExit(3)


@main.command()
@click.option("--failed", is_flag=True, help="List only the batches that failed their checks.")
def ledger(failed: bool) -> None:
    """What the load ledger says: batches per feed and status, or the failed ones."""
    from collections import Counter

    from zhongwei.config import Settings
    from zhongwei.lake import FAILED, Lake

    lake = Lake(Settings.from_env().lake)
    for feed in lake.feeds():
        entries = lake.ledger(feed)
        if failed:
            for e in entries:
                if e["status"] == FAILED:
                    click.echo(f"{feed:<18} {e['batch_id']:<42} {e['failure']}")
            continue
        status = Counter(e["status"] for e in entries)
        rows = {k: sum(e[k] for e in entries) for k in ("rows_arrived", "rows_loaded", "rows_quarantined", "duplicates")}
        click.echo(f"{feed:<18} {len(entries):>6} batches {dict(status)}  " + "  ".join(f"{k}={v}" for k, v in rows.items()))


@main.command()
@click.option("--scale", type=SCALE, default=None, help="One scale (1.0 = the plan's 2025 level).")
@click.option("--scales", default=None, help="Several scales in one run, e.g. 0.01,0.1,0.3,1.0 (the scaling curve).")
@click.option("--month", default="2025-03", show_default=True, callback=month_range,
              help="The month to generate and process, YYYY-MM.")
@click.option("--cache", type=click.Path(file_okay=False), default=None,
              help="Inboxes (generated once per scale and month) and working folders. [default: $ZW_DATA/bench]")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Where results-<scale>.json and bench.png go. [default: bench/ in the repository]")
def bench(scale: float | None, scales: str | None, month: str, cache: str | None, out_dir: str | None) -> None:
    """Measure a month stage by stage (wall, CPU, peak RSS) beside DuckDB reading the same files."""
    from pathlib import Path

    from zhongwei.bench.inbox import default_cache
    from zhongwei.bench.run import run_all
    from zhongwei.config import PROJECT_ROOT
    from zhongwei.progress import bars

    if (scale is None) == (scales is None):
        raise click.UsageError("give either --scale or --scales")
    try:
        chosen = [scale] if scale is not None else [SCALE.convert(s, None, None) for s in scales.split(",")]
    except click.BadParameter as bad:
        raise click.BadParameter(f"{scales!r}: {bad.message}", param_hint="--scales") from None
    with bars() as progress:
        run_all(chosen, month, Path(cache) if cache else default_cache(),
                Path(out_dir) if out_dir else PROJECT_ROOT / "bench", log=click.echo, progress=progress)


@main.group("airflow")
def airflow_group() -> None:
    """Set up Airflow for this project, or run it locally."""


@airflow_group.command("init")
def airflow_init() -> None:
    """Create the pools, the connections given as ZW_CONN_<NAME> URIs and the admin's password
    (AIRFLOW_ADMIN_PASSWORD, or a random one) in a migrated metadata database: the
    deployment's init step, after `airflow db migrate`."""
    import os

    from zhongwei.airflow_setup import POOLS, ensure_admin_password, ensure_connections, ensure_pools

    ensure_pools()
    stored = ensure_connections(dict(os.environ))
    user, _ = ensure_admin_password(os.environ.get("AIRFLOW_ADMIN_PASSWORD"))
    click.echo(f"pools: {', '.join(POOLS)}; connections: {', '.join(stored) or 'none'}; admin user: {user}")


@airflow_group.command("standalone")
@click.option("--port", default=8080, show_default=True, type=int, help="The UI's port on localhost.")
def airflow_standalone(port: int) -> None:
    """Airflow standalone over this project's DAGs and data folders ($ZW_DATA), with the pools
    and connections created; prints the UI's address and the login. Ctrl-C stops it."""
    from zhongwei.deploy.local import standalone

    standalone(port)


from zhongwei.open_warehouse import warehouse_group  # noqa: E402

main.add_command(warehouse_group)

from zhongwei.analyst.command import analyst  # noqa: E402

main.add_command(analyst)

if __name__ == "__main__":
    main()
