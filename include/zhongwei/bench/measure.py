"""Run one stage in a child process and measure it: wall time, CPU time, peak memory.

CPU time is what the kernel charges the child and every descendant it waited
for (`wait4`), so it does not depend on what else runs on the machine. Peak
memory is the RSS of the whole process tree, sampled every few tenths of a
second, and never below the largest single process's own peak (also from `wait4`).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.2


@dataclass
class Measurement:
    stage: str
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    ok: bool
    details: dict = field(default_factory=dict)  # what the stage itself reported


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:  # exited between listing and reading
            pass
    return total


def run_stage(stage: str, workdir: Path, env: dict[str, str], args: list[str] = ()) -> Measurement:
    """`python -m zhongwei.bench.stages STAGE`, its output in `workdir/STAGE.log`."""
    report = workdir / f"{stage}.json"
    report.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "zhongwei.bench.stages", stage, "--report", str(report), *args]
    with open(workdir / f"{stage}.log", "w") as log:
        start = time.monotonic()
        child = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        process, peak = psutil.Process(child.pid), 0
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            try:
                peak = max(peak, _tree_rss(process))
            except psutil.Error:
                pass
            time.sleep(SAMPLE_SECONDS)
        wall = time.monotonic() - start
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    details = json.loads(report.read_text()) if report.exists() else {}
    return Measurement(stage=stage, wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime,
                       peak_rss_bytes=max(peak, usage.ru_maxrss * 1024), ok=child.returncode == 0 and
                       details.get("ok", False), details=details)
