"""`zw` checks its arguments before any work: a bad one is one line naming it and what is
allowed, exit status 2, no traceback (and nothing is written)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ZW = str(Path(sys.executable).with_name("zw"))


@pytest.mark.parametrize(("args", "names"), [
    (["run", "--month", "2025-13"], ["'--month'", "YYYY-MM"]),
    (["run", "--month", "2025-03:2024-01"], ["'--month'", "ends before it starts"]),
    (["run", "--month", "2025-03", "--only", "everything"], ["'--only'", "ingest"]),
    (["run", "--month", "2025-03", "--accept-quality-failures", "abc"], ["'--accept-quality-failures'", "at least 5"]),
    (["run", "--month", "2025-03", "--accept-quality-failures", "      "], ["'--accept-quality-failures'", "reason"]),
    (["synth", "--out", "{tmp}/inbox", "--months", "2025-01", "--scale", "-1"], ["'--scale'", "0<x<=10"]),
    (["synth", "--out", "{tmp}/inbox", "--months", "2025-01", "--scale", "11"], ["'--scale'", "0<x<=10"]),
    (["synth", "--out", "{tmp}/inbox", "--months", "2025-1"], ["'--months'", "YYYY-MM"]),
    (["synth", "--out", "{tmp}/inbox", "--months", "2025-01", "--defect-rate", "2"], ["'--defect-rate'"]),
    (["bench", "--scales", "0.1,-2"], ["--scales", "0<x<=10"]),
    (["exchange", "serve", "--data", "{tmp}/missing", "--token", "t"], ["'--data'", "does not exist"]),
    (["warehouse", "open", "--as-of", "2025-03r0"], ["--as-of", "YYYY-MMrN"]),
])
def test_a_bad_argument_is_one_line_and_exit_2(args, names, tmp_path):
    out = subprocess.run([ZW, *(a.format(tmp=tmp_path) for a in args)], capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "ZW_DATA": str(tmp_path)})
    errors = [line for line in out.stderr.splitlines() if line.startswith("Error:")]
    assert out.returncode == 2, out.stdout + out.stderr
    assert len(errors) == 1 and all(n in errors[0] for n in names), out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "inbox").exists()


def test_sigterm_stops_zw_run_within_seconds(tmp_path):
    """A month's ingestion over a generated inbox, stopped with SIGTERM while it runs: the process
    ends within seconds, says so, and leaves no partial file in the lake."""
    import os
    import signal
    import time

    from zhongwei.synth.generate import SynthConfig, generate

    generate(SynthConfig(out=str(tmp_path / "inbox"), months="2025-03", scale=0.0005, seed=1))
    env = {**os.environ, "ZW_DATA": str(tmp_path), "ZW_PII_KEY": "k"}
    env.pop("AIRFLOW_HOME", None)
    proc = subprocess.Popen([ZW, "run", "--month", "2025-03", "--only", "ingest"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not (tmp_path / "lake" / "ledger").exists() and time.monotonic() < deadline:  # loading has begun
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out[-2000:] + err[-2000:]
    assert time.monotonic() - stopped < 30 and "Stopping (SIGTERM)" in err
    import pyarrow.parquet as pq

    for part in (tmp_path / "lake").rglob("*.parquet"):  # every file the lake shows is whole
        if not part.name.startswith("."):
            pq.read_metadata(part)


@pytest.mark.parametrize("terminal", [True, False])
def test_zw_synth_shows_its_progress_on_stderr_and_its_summary_on_stdout(terminal, tmp_path):
    """On a terminal (forced here) rich redraws the bars in place; piped, as in CI, it prints them
    once, plainly, at the end. stdout stays the one summary line either way."""
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    if terminal:
        env.update(TTY_COMPATIBLE="1", TTY_INTERACTIVE="1")
    out = subprocess.run([ZW, "synth", "--out", str(tmp_path / "inbox"), "--months", "2025-01:2025-02",
                          "--scale", "0.0002"], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert len(out.stdout.splitlines()) == 1 and out.stdout.startswith("wrote "), out.stdout
    files = out.stdout.split()[1]
    assert f"orders and parcels to 2025-02: {files} files" in out.stderr and "ledgers" in out.stderr
    assert ("\x1b[" in out.stderr) == terminal, out.stderr[-3000:]  # redrawn with control codes, or plain
    if not terminal:  # once, finished
        assert out.stderr.count("ledgers") == 1 and out.stderr.count(" 2/2 ") == 2, out.stderr


def test_publishing_with_no_warehouse_fails_at_once_saying_so(tmp_path):
    """Nothing has been built in this data folder: the publication fails on its first try (a retry
    cannot make a warehouse appear) and says what to do; the revisions teardown has nothing to do."""
    import os

    env = {**os.environ, "ZW_DATA": str(tmp_path)}
    env.pop("AIRFLOW_HOME", None)
    out = subprocess.run([ZW, "run", "--month", "2025-03", "--only", "publish"], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 1, out.stdout[-2000:] + out.stderr[-2000:]
    assert "failed: publish_month" in out.stdout and "build it first" in out.stdout + out.stderr
    logs = tmp_path / "airflow" / "logs" / "dag_id=publish_monthly_indicators"
    assert sorted(p.name for p in logs.rglob("attempt=*.log") if "task_id=publish_month/" in p.as_posix()) == ["attempt=1.log"]
    assert not list(logs.rglob("task_id=revise_earlier_months/attempt=2.log"))
    assert not (tmp_path / "publications").exists() or not any((tmp_path / "publications").iterdir())
