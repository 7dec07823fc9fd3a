"""The cluster's components as processes on this machine (no Docker): what the
real-scheduler tests run on the local PostgreSQL and Redis, and what
`zw airflow standalone` builds on. Each process has its own process group and
log file, so it can be stopped, or killed with everything it forked, by name.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import requests

from zhongwei.config import PROJECT_ROOT, Settings
from zhongwei.deploy import Site, airflow_env, components


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_site(settings: Settings, *, executor: str, metadata_db: str, airflow_home: Path, broker: str = "",
               api_port: int | None = None, pii_key: str, fernet_key: str | None = None) -> Site:
    """A site on this machine: loopback addresses, free ports, the repository as the project."""
    from cryptography.fernet import Fernet

    port = api_port or free_port()
    return Site(
        executor=executor, metadata_db=metadata_db, broker=broker,
        api_url=f"http://127.0.0.1:{port}", base_url=f"http://localhost:{port}", api_port=str(port),
        project=str(PROJECT_ROOT), data=str(settings.data_dir), warehouse=str(settings.warehouse),
        airflow_home=str(airflow_home), fernet_key=fernet_key or Fernet.generate_key().decode(),
        jwt_secret=secrets.token_urlsafe(32), pii_key=pii_key, admin_user="admin",
        exchange_host="127.0.0.1", exchange_port=str(free_port()),
        ports={"worker_logs": str(free_port()), "trigger_logs": str(free_port()),
               "scheduler_health": str(free_port())},
    )


def _executable(name: str) -> str:
    """`airflow` and `zw` from this interpreter's environment (the venv, or the image)."""
    return str(Path(sys.executable).with_name(name))


class LocalCluster:
    """Start, stop and kill the site's components as processes; logs in `workdir/<service>.log`.

    `env` adds to every component's environment: the values of the variables a component
    lists (INIT_ENV, ZW_EXCHANGE_TOKEN) and any tuning (shorter timeouts in a test)."""

    def __init__(self, site: Site, workdir: Path, env: dict[str, str] | None = None):
        self.site, self.workdir = site, workdir
        self.parts = components(site)
        self.extra = env or {}
        self.procs: dict[str, subprocess.Popen] = {}
        workdir.mkdir(parents=True, exist_ok=True)

    def env_of(self, name: str) -> dict[str, str]:
        # this environment's `airflow` and `zw` first on the PATH: what they start finds them too
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, "PATH": path, **(airflow_env(self.site) if self.parts[name].airflow else {}),
                **self.extra}

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def _argv(self, step: list[str]) -> list[str]:
        return [_executable(step[0]), *step[1:]]

    def run_oneshot(self, name: str, timeout: float = 600) -> None:
        """Run a one-shot component's steps in order (airflow-init); raise with its log on failure."""
        with open(self.log(name), "ab") as out:
            for step in self.parts[name].steps:
                done = subprocess.run(self._argv(step), env=self.env_of(name), stdout=out, stderr=subprocess.STDOUT,
                                      timeout=timeout)
                if done.returncode:
                    raise RuntimeError(f"{name}: {' '.join(step)} exited {done.returncode}\n{self.tail(name)}")

    def start(self, name: str) -> subprocess.Popen:
        (step,) = self.parts[name].steps
        out = open(self.log(name), "ab")
        self.procs[name] = subprocess.Popen(self._argv(step), env=self.env_of(name), stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True, cwd=self.workdir)
        out.close()
        return self.procs[name]

    def start_all(self) -> None:
        """airflow-init, then every long-running component (the exchange simulator only when
        its token is given)."""
        self.run_oneshot("airflow-init")
        for name, part in self.parts.items():
            if part.oneshot or ("ZW_EXCHANGE_TOKEN" in part.env and "ZW_EXCHANGE_TOKEN" not in self.extra):
                continue
            self.start(name)

    def signal(self, name: str, sig: int) -> None:
        """Signal the component's whole process group (a worker and the tasks it forked)."""
        proc = self.procs[name]
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, name: str, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL for whatever of its group is left (children outliving their parent)."""
        if name not in self.procs:
            return
        self.signal(name, signal.SIGTERM)
        try:
            self.procs[name].wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        self.kill(name)

    def kill(self, name: str) -> None:
        """SIGKILL the component and everything in its process group, as a crash would."""
        self.signal(name, signal.SIGKILL)
        self.procs.pop(name).wait(10)

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)

    def dead(self) -> list[str]:
        return [name for name, p in self.procs.items() if p.poll() is not None]

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.log(name)
        text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
        return f"--- {name} (last {len(text)} lines of {path}) ---\n" + "\n".join(text)

    def tails(self, lines: int = 40) -> str:
        return "\n".join(self.tail(p.stem, lines) for p in sorted(self.workdir.glob("*.log")))

    def __enter__(self) -> "LocalCluster":
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()


class AirflowApi:
    """Airflow's REST API (/api/v2) as an engineer's tooling uses it: a JWT from /auth/token."""

    def __init__(self, base_url: str, username: str, password: str):
        self.base_url, self.credentials = base_url.rstrip("/"), {"username": username, "password": password}
        self.session = requests.Session()

    @classmethod
    def for_site(cls, site: Site) -> "AirflowApi":
        """Logged in as the site's admin, with the password `zw airflow init` stored."""
        passwords = json.loads(Path(airflow_env(site)["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).read_text())
        return cls(site.api_url, site.admin_user, passwords[site.admin_user])

    def login(self) -> None:
        r = self.session.post(f"{self.base_url}/auth/token", json=self.credentials, timeout=30)
        r.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs) -> dict:
        if "Authorization" not in self.session.headers:
            self.login()
        r = self.session.request(method, f"{self.base_url}/api/v2{path}", timeout=30, **kwargs)
        if r.status_code == 401:  # the token expired
            self.login()
            r = self.session.request(method, f"{self.base_url}/api/v2{path}", timeout=30, **kwargs)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:500]}")
        return r.json() if r.content else {}

    def health(self) -> dict:
        return requests.get(f"{self.base_url}/api/v2/monitor/health", timeout=10).json()

    def dag_ids(self) -> set[str]:
        return {d["dag_id"] for d in self.call("GET", "/dags", params={"limit": 100})["dags"]}

    def unpause(self, dag_id: str) -> None:
        self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict) -> str:
        from datetime import datetime, timezone

        run = self.call("POST", f"/dags/{dag_id}/dagRuns",
                        json={"logical_date": datetime.now(timezone.utc).isoformat(), "conf": conf})
        return run["dag_run_id"]

    def set_run_state(self, dag_id: str, run_id: str, state: str) -> None:
        self.call("PATCH", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}", json={"state": state})

    def runs(self, dag_id: str) -> list[dict]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances",
                         params={"limit": 100})["task_instances"]

    def queued_events(self, dag_id: str) -> list[dict]:
        """Asset events waiting to trigger a run of the DAG."""
        try:
            return self.call("GET", f"/dags/{dag_id}/assets/queuedEvents")["queued_events"]
        except RuntimeError as e:  # 404: nothing queued
            if " 404 " in str(e):
                return []
            raise


def all_healthy(health: dict) -> bool:
    """Whether the API server's health report says the metadata database, the scheduler, the DAG
    processor and the triggerer are healthy."""
    return all(health.get(c, {}).get("status") == "healthy"
               for c in ("metadatabase", "scheduler", "dag_processor", "triggerer"))


def wait_until_ready(cluster: LocalCluster, api: AirflowApi, dag_ids: set[str], timeout: float = 180) -> None:
    """Until the scheduler, the DAG processor and the triggerer report healthy and the DAGs are parsed."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if cluster.dead():
            raise RuntimeError(f"components exited: {cluster.dead()}\n{cluster.tails()}")
        try:
            health = api.health()
            last = health
            if all_healthy(health) and dag_ids <= api.dag_ids():
                return
        except (requests.RequestException, RuntimeError, ValueError) as e:
            last = e
        time.sleep(1)
    raise TimeoutError(f"cluster not ready in {timeout}s (last: {last})\n{cluster.tails()}")


def standalone_cluster(settings: Settings, port: int) -> LocalCluster:
    """`airflow standalone`'s site: SQLite, with Airflow's state (metadata, task logs, Fernet key)
    in the home `zw run` uses ($ZW_DATA/airflow), so the UI shows the runs `zw run` made; the
    project's DAGs, the data folders `zw run` uses, and the exchange simulator over the inbox
    unless ZW_CONN_COURIER_EXCHANGE names a real exchange."""
    from zhongwei.config import pii_key
    from zhongwei.runner import airflow_env as run_env

    shared = run_env(settings)
    home = Path(shared["AIRFLOW_HOME"])
    site = local_site(settings, executor="LocalExecutor", metadata_db=f"sqlite:///{home}/airflow.db",
                      airflow_home=home, api_port=port, pii_key=pii_key(settings=settings).decode(),
                      fernet_key=shared["AIRFLOW__CORE__FERNET_KEY"])
    env = {}
    if not os.environ.get("ZW_CONN_COURIER_EXCHANGE") and (settings.inbox / "courier").exists():
        token = secrets.token_urlsafe(16)
        env = {"ZW_EXCHANGE_TOKEN": token,
               "ZW_CONN_COURIER_EXCHANGE": f"http://:{token}@127.0.0.1:{site.exchange_port}"}
    return LocalCluster(site, home / "processes", env)


STOP_SECONDS = 10  # for airflow standalone to stop its components (5-8 s) before what is left is killed


def standalone(port: int) -> None:
    """`zw airflow standalone`: init, then `airflow standalone` in the foreground until Ctrl-C or
    SIGTERM, which stop it and everything started with it."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM as Ctrl-C: the cleanup below runs
    settings = Settings.from_env()
    with standalone_cluster(settings, port) as cluster:
        try:
            cluster.run_oneshot("airflow-init")
            if "ZW_EXCHANGE_TOKEN" in cluster.extra:
                cluster.start("courier-exchange")
            api = AirflowApi.for_site(cluster.site)
            print(f"\nAirflow UI: {cluster.site.base_url}   login: {api.credentials['username']} / "
                  f"{api.credentials['password']}\nDAGs: {cluster.site.project}/dags   data: {settings.data_dir}\n",
                  flush=True)
            # a process group of its own, which the cluster stops with the simulator; Ctrl-C in a
            # terminal reaches this process only, which then stops it as below
            proc = cluster.procs["airflow-standalone"] = subprocess.Popen(
                [_executable("airflow"), "standalone"], env=cluster.env_of("airflow-apiserver"),
                start_new_session=True)
            proc.wait()
        except KeyboardInterrupt:
            if "airflow-standalone" in cluster.procs:  # SIGINT is how it stops its components itself
                cluster.signal("airflow-standalone", signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    cluster.procs["airflow-standalone"].wait(STOP_SECONDS)
                # what of its group outlived the grace period is killed now: a second, SIGTERM round
                # (stop_all's) would wait up to 20 s more, which a loaded machine did use up
                cluster.kill("airflow-standalone")
