"""The benchmark's inbox: one month at one scale, generated once and kept.

Clean data (no injected defects): the floor reads the same files with plain
DuckDB readers, which a truncated workbook or a wrongly encoded file would stop.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from zhongwei.config import Settings

SEED = 42
MARKER = ".complete"  # written last: its presence says the inbox is whole


def default_cache(settings: Settings | None = None) -> Path:
    return (settings or Settings.from_env()).data_dir / "bench"


def inbox_for(cache: Path, scale: float, month: str) -> Path:
    """The month's inbox at `scale`, generated the first time it is asked for.

    In a process of its own: the generator's memory (GiBs at scale 1) would otherwise
    stay with the benchmark, and each stage it starts would report it as its own peak
    (the kernel's `ru_maxrss` of a child starts from its parent's across fork and exec).
    """
    inbox = _path(cache, scale, month)
    if not (inbox / MARKER).exists():
        subprocess.run([sys.executable, "-m", "zhongwei.bench.inbox", f"{scale:g}", month, str(cache)], check=True)
    return inbox


def _path(cache: Path, scale: float, month: str) -> Path:
    return cache / f"inbox-{scale:g}-{month}"


def _generate(inbox: Path, scale: float, month: str) -> None:
    from zhongwei.synth.generate import SynthConfig, generate

    summary = generate(SynthConfig(out=str(inbox), months=month, scale=scale, seed=SEED))
    (inbox / MARKER).write_text(json.dumps({"seconds": round(summary.seconds, 1), "files": summary.files,
                                            "bytes": summary.bytes}))


def inbox_summary(inbox: Path) -> dict:
    return json.loads((inbox / MARKER).read_text())


if __name__ == "__main__":  # python -m zhongwei.bench.inbox SCALE MONTH [CACHE]: (also) warm the cache ahead of a run
    scale, month = float(sys.argv[1]), sys.argv[2]
    cache = Path(sys.argv[3]) if len(sys.argv) > 3 else default_cache()
    inbox = _path(cache, scale, month)
    if not (inbox / MARKER).exists():
        _generate(inbox, scale, month)
    print(inbox)
