"""`zw airflow standalone` (`make airflow`): stopping it stops everything it started, within seconds,
on SIGTERM (a supervisor, `kill`) as on Ctrl-C: airflow standalone and its components, and the
exchange simulator."""
from __future__ import annotations

import contextlib
import os
import signal
import time

import psutil
import pytest
from deploy_helpers import reachable, start_standalone

pytestmark = pytest.mark.slow


# Ctrl-C in a terminal reaches `zw` (and make) only: what it starts has a session of its own
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_stops_standalone_and_everything_it_started(tmp_path, sig):
    (tmp_path / "inbox" / "courier").mkdir(parents=True)  # so it starts the exchange simulator over it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ZW_"))}
    env.update({"ZW_DATA": str(tmp_path), "ZW_PII_KEY": "k"})
    log = tmp_path / "standalone.log"
    proc, port = start_standalone(env, log)
    started = psutil.Process(proc.pid).children(recursive=True)
    try:
        commands = {p: p.cmdline() for p in started}
        [exchange] = [c for c in commands.values() if "exchange" in c]
        exchange_port = int(exchange[exchange.index("--port") + 1])
        assert reachable(exchange_port)
        assert {"scheduler", "dag-processor", "triggerer"} <= {  # and the API server, on `port`
            a for c in commands.values() for a in c[1:3]}, commands

        proc.send_signal(sig)
        stopping = time.monotonic()
        assert proc.wait(60) == 0, log.read_text()[-3000:]
        _, alive = psutil.wait_procs(started, timeout=5)
        seconds = time.monotonic() - stopping
        assert not alive, [commands[p] for p in alive]
        assert not reachable(exchange_port) and not reachable(port)
        assert seconds < 20, seconds
        print(f"{len(started)} processes stopped in {seconds:.1f} s")
    finally:
        for p in started:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        proc.kill()
