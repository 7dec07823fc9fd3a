"""The benchmark's inbox: one month at one scale, generated once and kept.

Clean data (no injected defects): the floor reads the same files with plain
DuckDB readers, which a truncated workbook or a wrongly encoded file would stop.
"""
from __future__ import annotations

import json
from pathlib import Path

from rich.progress import Progress

from zhongwei.config import Settings

SEED = 42
MARKER = ".complete"  # written last: its presence says the inbox is whole


def default_cache(settings: Settings | None = None) -> Path:
    return (settings or Settings.from_env()).data_dir / "bench"


def inbox_for(cache: Path, scale: float, month: str, progress: Progress | None = None) -> Path:
    """The month's inbox at `scale`, generated the first time it is asked for."""
    from zhongwei.synth.generate import SynthConfig, generate

    inbox = cache / f"inbox-{scale:g}-{month}"
    if not (inbox / MARKER).exists():
        summary = generate(SynthConfig(out=str(inbox), months=month, scale=scale, seed=SEED), progress)
        (inbox / MARKER).write_text(json.dumps({"seconds": round(summary.seconds, 1), "files": summary.files,
                                                "bytes": summary.bytes}))
    return inbox


def inbox_summary(inbox: Path) -> dict:
    return json.loads((inbox / MARKER).read_text())


if __name__ == "__main__":  # python -m zhongwei.bench.inbox SCALE MONTH: warm the cache ahead of a run
    import sys

    print(inbox_for(default_cache(), float(sys.argv[1]), sys.argv[2]))
