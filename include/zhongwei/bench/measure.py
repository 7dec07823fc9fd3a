"""Run one stage in a child process and measure it: wall time, CPU time, peak memory.

CPU time is what the kernel charges the child and every descendant it waited
for (`wait4`), so it does not depend on what else runs on the machine. Peak
memory is the RSS of the whole process tree, sampled every few tenths of a
second, and never below the largest single process's own peak (also from `wait4`).

A `Service` is a process a stage talks to that is not part of it (the courier
exchange simulator: the partner's machine in production). The benchmark starts
it itself, so it is outside the stage's process tree, and measures it apart
over its whole life, the same way (`wait4`: it and its children).
"""
from __future__ import annotations

import json
import os
import re
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
    return Measurement(stage=stage, wall_s=wall, cpu_s=_cpu(usage), peak_rss_bytes=max(peak, usage.ru_maxrss * 1024),
                       ok=child.returncode == 0 and details.get("ok", False), details=details)


def _cpu(usage: os.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


class Service:
    """`cmd` running beside the stages, its output in `workdir/NAME.log`; `stop()` measures it."""

    STOP_SECONDS = 10  # after SIGTERM, before SIGKILL

    def __init__(self, name: str, cmd: list[str], workdir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log = workdir / f"{name}.log"
        self._started = time.monotonic()
        with open(self.log, "w") as log:
            self._process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._ended: tuple[float, int, os.struct_rusage] | None = None  # wall, exit code, usage once reaped
        self.measurement: Measurement | None = None

    def _reap(self, block: bool) -> bool:
        """Whether it has ended; its usage kept (reaped here with `wait4`, not by Popen)."""
        if self._ended is None:
            pid, status, usage = os.wait4(self._process.pid, 0 if block else os.WNOHANG)
            if pid:
                self._ended = (time.monotonic() - self._started, os.waitstatus_to_exitcode(status), usage)
        return self._ended is not None

    def wait_for(self, pattern: str, timeout_s: float) -> re.Match:
        """The first match of `pattern` in its output, waiting for it to be printed."""
        deadline = time.monotonic() + timeout_s
        while not (found := re.search(pattern, self.log.read_text(errors="replace"))):
            if self._reap(block=False):
                raise RuntimeError(f"{self.name} exited (status {self._ended[1]}) before it was ready; see {self.log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} not ready after {timeout_s:.0f} s; see {self.log}")
            time.sleep(SAMPLE_SECONDS)
        return found

    def stop(self, details: dict | None = None) -> Measurement:
        """SIGTERM (SIGKILL if it lingers), then its wall time, CPU time and peak RSS; ok when it was still
        running until then. Only the first call stops it and sets `details`."""
        if self.measurement is None:
            running = not self._reap(block=False)
            if running:
                self._process.terminate()
                deadline = time.monotonic() + self.STOP_SECONDS
                while not self._reap(block=False) and time.monotonic() < deadline:
                    time.sleep(0.05)
                if not self._reap(block=False):
                    self._process.kill()
                    self._reap(block=True)
            wall, code, usage = self._ended
            self._process.returncode = code
            self.measurement = Measurement(stage=self.name, wall_s=wall, cpu_s=_cpu(usage),
                                           peak_rss_bytes=usage.ru_maxrss * 1024, ok=running,
                                           details={"exit_status": code, **(details or {})})
        return self.measurement
