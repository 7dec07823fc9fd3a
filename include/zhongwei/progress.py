"""Progress of long work (`zw synth`, `zw run`, `zw bench`): rich's progress bars on stderr.

The work's functions add their tasks to a `Progress` they are given; called without one (by
tests, scripts, the benchmark's children) they add them to a disabled one, which shows nothing.
"""
from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, TimeElapsedColumn


def bars() -> Progress:
    """Bars on stderr, redrawn in place on a terminal; elsewhere (CI logs, tests) rich prints them
    once, plainly, when the work ends. Lines printed meanwhile go above the bars only when stdout
    is a terminal too: rich would send them to stderr, out of a redirected stdout. The console holds
    the stream itself, not whatever sys.stderr is later (`zw run` tees its tasks' output into their logs)."""
    return Progress(*Progress.get_default_columns(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(file=sys.stderr), redirect_stdout=sys.stdout.isatty())


def or_quiet(progress: Progress | None) -> Progress:
    return Progress(disable=True) if progress is None else progress
