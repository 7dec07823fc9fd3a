"""docker-compose.yml and the Dockerfile say what zhongwei.deploy describes, which is what the
real-scheduler tests run: the same services, commands and environment, so the compose file
cannot rot unnoticed."""
from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
import yaml

from zhongwei.config import PROJECT_ROOT
from zhongwei.deploy import COMPOSE, airflow_env, components
from zhongwei.deploy.local import LocalCluster, free_port, standalone_cluster

SERVICES = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())["services"]
DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()
IMAGE_ONLY = {"DUMB_INIT_SETSID"}  # the official image's entrypoint's own switch


def steps_of(service: dict) -> list[list[str]]:
    """The command lines a service runs: the image's entrypoint runs `airflow <command>`;
    `bash -c "a && b"` runs a, then b."""
    command = service["command"]
    if service.get("entrypoint") == "/bin/bash":
        assert command[0] == "-c"
        return [shlex.split(step) for step in command[1].split(" && ")]
    return [["airflow", *shlex.split(command)]]


def test_the_same_services():
    assert set(SERVICES) == set(components(COMPOSE)) | {"postgres", "redis"}


@pytest.mark.parametrize("name", list(components(COMPOSE)))
def test_each_service_runs_the_same_commands_with_the_same_environment(name):
    part, service = components(COMPOSE)[name], SERVICES[name]
    assert steps_of(service) == part.steps
    env = {k: v for k, v in service["environment"].items() if k not in IMAGE_ONLY}
    expected = airflow_env(COMPOSE) if part.airflow else {}
    assert {k: v for k, v in env.items() if k not in part.env} == expected
    assert set(part.env) <= set(env)


def test_every_airflow_service_waits_for_init_and_has_a_health_check():
    for name, part in components(COMPOSE).items():
        if part.airflow and not part.oneshot:
            assert SERVICES[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
            assert SERVICES[name]["healthcheck"]["test"], name


def test_volumes_hold_the_inbox_lake_warehouse_publications_and_logs():
    env = airflow_env(COMPOSE)
    mounted = {v.rsplit(":", 1)[1] for v in SERVICES["airflow-worker"]["volumes"]}
    folders = {f"{COMPOSE.data}/{d}" for d in ("inbox", "lake", "publications")}
    assert folders | {COMPOSE.warehouse.rsplit("/", 1)[0], env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"]} <= mounted
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"].rsplit("/", 1)[0] in mounted


def test_the_api_server_sees_the_sites_the_workers_write():
    """The sites of the UI's Browse menu (zhongwei.airflow_plugin) are written by tasks on a worker and
    served by the API server: each is on a volume both mount."""
    from zhongwei.airflow_plugin import site_folders
    from zhongwei.config import Settings

    local = site_folders(Settings.from_env({"ZW_DATA": COMPOSE.data}))
    folders = [f"{COMPOSE.project}/{Path(f).relative_to(PROJECT_ROOT)}" if Path(f).is_relative_to(PROJECT_ROOT) else f
               for f, _ in local.values()]
    for service in ("airflow-worker", "airflow-apiserver"):
        mounted = [v.rsplit(":", 1)[1] for v in SERVICES[service]["volumes"]]
        for folder in folders:
            assert any(folder == m or folder.startswith(f"{m}/") for m in mounted), (service, folder)


def test_no_secret_in_the_compose_file():
    text = (PROJECT_ROOT / "docker-compose.yml").read_text()
    for secret in ("POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "AIRFLOW_ADMIN_PASSWORD",
                   "ZW_PII_KEY", "ZW_EXCHANGE_TOKEN"):
        assert re.findall(rf"\$\{{{secret}(:\?[^}}]*)?\}}", text), secret  # only ever a required ${...}
        assert f"{secret}=" in (PROJECT_ROOT / ".env.example").read_text()
    assert ".env" in (PROJECT_ROOT / ".gitignore").read_text().split()


def test_the_image_is_the_tested_airflow_and_python_with_the_pinned_packages_and_the_project():
    from importlib.metadata import version

    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"FROM apache/airflow:{version('apache-airflow')}-python{python}\n" in DOCKERFILE
    assert re.search(r"pip install .*-c \S*constraints\.txt -r \S*requirements\.txt", DOCKERFILE)
    for folder in ("include", "dags", "dbt_project", "expectations", "plugins"):
        assert f"COPY --chown=airflow:0 {folder} {COMPOSE.project}/{folder}\n" in DOCKERFILE
    # editable, so that zhongwei.config.PROJECT_ROOT is the project folder (dags/, dbt_project/)
    assert f"pip install --no-cache-dir --no-deps -e {COMPOSE.project}\n" in DOCKERFILE
    assert airflow_env(COMPOSE)["AIRFLOW__CORE__DAGS_FOLDER"] == f"{COMPOSE.project}/dags"


def test_standalone_runs_the_project_on_sqlite_in_the_data_folder(tmp_path, monkeypatch):
    """In the Airflow home `zw run` uses, with its Fernet key: the UI shows what `zw run` ran."""
    from zhongwei.config import Settings
    from zhongwei.runner import airflow_env as run_env

    monkeypatch.delenv("AIRFLOW_HOME", raising=False)

    settings = Settings.from_env({"ZW_DATA": str(tmp_path), "ZW_PII_KEY": "k"})
    (tmp_path / "inbox" / "courier").mkdir(parents=True)
    port = free_port()
    cluster = standalone_cluster(settings, port)
    assert isinstance(cluster, LocalCluster)
    env = cluster.env_of("airflow-apiserver")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path}/airflow/airflow.db"
    shared = ("AIRFLOW_HOME", "AIRFLOW__CORE__FERNET_KEY")
    assert {k: env[k] for k in shared} == {k: run_env(settings)[k] for k in shared}
    assert env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"] == f"{tmp_path}/airflow/logs"  # where `zw run` writes task logs
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(PROJECT_ROOT / "plugins")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(PROJECT_ROOT / "dags")
    assert env["AIRFLOW__API__BASE_URL"] == f"http://localhost:{port}"
    assert env["ZW_DATA"] == str(tmp_path) and env["ZW_WAREHOUSE"] == str(settings.warehouse)
    # no exchange configured: the simulator over the inbox, and its connection for airflow-init
    assert env["ZW_CONN_COURIER_EXCHANGE"].endswith(f"@127.0.0.1:{cluster.site.exchange_port}")
    assert cluster.parts["courier-exchange"].steps[0][:4] == ["zw", "exchange", "serve", "--data"]
