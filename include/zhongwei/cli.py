"""The `zw` command: what people, the README and the tests use."""
from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Zhongwei e-commerce and express-delivery data platform."""


@main.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Inbox folder to write.")
@click.option("--months", required=True, help="Month range, e.g. 2024-01:2025-06 (or one month).")
@click.option("--scale", default=0.01, show_default=True, type=float, help="1.0 = the plan's 2025 level for the whole city.")
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--defect-rate", default=0.0, show_default=True, type=float, help="Share of records carrying a defect.")
def synth(out_dir: str, months: str, scale: float, seed: int, defect_rate: float) -> None:
    """Write a complete synthetic inbox (all four feeds) and its truth file."""
    from zhongwei.synth.generate import SynthConfig, generate

    summary = generate(SynthConfig(out=out_dir, months=months, scale=scale, seed=seed, defect_rate=defect_rate))
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


@main.command()
@click.option("--month", required=True, help="The month to run, YYYY-MM, or a range YYYY-MM:YYYY-MM in one go.")
@click.option("--only", type=click.Choice(["ingest"]), default=None, help="Run only this stage.")
def run(month: str, only: str | None) -> None:
    """Run the month's DAG runs locally through Airflow, in dependency order.

    Exit status: 0 when everything passed; 3 when everything ran but some
    batches failed their quality checks (listed); 1 when a task failed otherwise.
    """
    from zhongwei.runner import run_month

    outcomes = run_month(month, only=only)
    for o in outcomes:
        click.echo(f"{o.dag_id:<24} {o.state:<8} {'failed: ' + ', '.join(o.failed_tasks) if o.failed_tasks else ''}")
    batches = [b for o in outcomes for b in o.failed_batches]
    if batches:
        click.echo(f"{len(batches)} batches failed their checks (in the lake, marked failed in the ledger):")
        for b in batches:
            click.echo(f"  - {b}")
    if any(o.crashed_tasks for o in outcomes):
        raise SystemExit(1)
    if batches:
        raise SystemExit(3)


@main.command()
@click.option("--failed", is_flag=True, help="List only the batches that failed their checks.")
def ledger(failed: bool) -> None:
    """What the load ledger says: batches per feed and status, or the failed ones."""
    from collections import Counter

    from zhongwei.config import Settings
    from zhongwei.lake import Lake

    lake = Lake(Settings.from_env().lake)
    for feed in lake.feeds():
        entries = lake.ledger(feed)
        if failed:
            for e in entries:
                if e["status"] == "failed":
                    click.echo(f"{feed:<18} {e['batch_id']:<42} {e['failure']}")
            continue
        status = Counter(e["status"] for e in entries)
        rows = {k: sum(e[k] for e in entries) for k in ("rows_arrived", "rows_loaded", "rows_quarantined", "duplicates")}
        click.echo(f"{feed:<18} {len(entries):>6} batches {dict(status)}  " + "  ".join(f"{k}={v}" for k, v in rows.items()))


if __name__ == "__main__":
    main()
