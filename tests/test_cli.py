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
