"""The Airflow cluster's components, described once.

`docker-compose.yml` runs them as services and `zhongwei.deploy.local` starts
them as processes (the real-scheduler tests, on the local PostgreSQL and
Redis); tests/deploy checks that the compose file says what is written here.
A `Site` is where a cluster runs: the compose file's values (`COMPOSE`, with
`${...}` taken from `.env`) or a test's ports and folders.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from zhongwei.config import TIMEZONE

API_PORT = 8080
EXCHANGE_PORT = 8765


@dataclass(frozen=True)
class Site:
    executor: str  # "CeleryExecutor" or "LocalExecutor"
    metadata_db: str  # SQLAlchemy URL of the metadata database
    broker: str  # Celery broker URL
    api_url: str  # how the other components reach the API server
    base_url: str  # how people reach the UI (links in alerts)
    api_port: str
    project: str  # the repository's root inside the image / on this machine
    data: str  # ZW_DATA: inbox/, lake/, publications/ below it
    warehouse: str  # ZW_WAREHOUSE
    airflow_home: str
    fernet_key: str
    jwt_secret: str
    pii_key: str
    admin_user: str
    exchange_host: str  # where the exchange simulator listens
    exchange_port: str
    serving_postgres: str = ""  # ZW_SERVING_POSTGRES: the analysts' PostgreSQL (schema warehouse); "" for none
    # ports of the logs servers and the scheduler's health check: fixed in containers, free ones in a test
    ports: dict[str, str] = field(default_factory=lambda: {"worker_logs": "8793", "trigger_logs": "8794",
                                                           "scheduler_health": "8974"})


def airflow_env(site: Site) -> dict[str, str]:
    """The environment of every Airflow component (the compose file's `x-airflow-common`)."""
    return {
        "AIRFLOW_HOME": site.airflow_home,
        "AIRFLOW__CORE__EXECUTOR": site.executor,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": site.metadata_db,
        "AIRFLOW__CELERY__BROKER_URL": site.broker,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + site.metadata_db,
        "AIRFLOW__CORE__FERNET_KEY": site.fernet_key,
        "AIRFLOW__API_AUTH__JWT_SECRET": site.jwt_secret,
        "AIRFLOW__API__PORT": site.api_port,
        "AIRFLOW__API__BASE_URL": site.base_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{site.api_url}/execution/",
        "AIRFLOW__CORE__DAGS_FOLDER": f"{site.project}/dags",
        "AIRFLOW__CORE__PLUGINS_FOLDER": f"{site.project}/plugins",  # the pipeline's sites in the UI
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": TIMEZONE,
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",  # cosmos reports each task run to its vendor otherwise
        "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "120",
        # the simple auth manager (FAB is not installed): users from here, passwords from `zw airflow init`
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{site.admin_user}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": f"{site.airflow_home}/config/passwords.json",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": f"{site.airflow_home}/logs",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": site.ports["worker_logs"],
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": site.ports["trigger_logs"],
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": site.ports["scheduler_health"],
        "ZW_DATA": site.data,
        "ZW_WAREHOUSE": site.warehouse,
        "ZW_PII_KEY": site.pii_key,
        # only when set: a local site leaves ZW_SERVING_POSTGRES to the caller's environment
        **({"ZW_SERVING_POSTGRES": site.serving_postgres} if site.serving_postgres else {}),
    }


# what `zw airflow init` reads besides the common environment (secrets: from .env, never stored here)
INIT_ENV = ["AIRFLOW_ADMIN_PASSWORD", "ZW_ANALYST_PASSWORD", "ZW_CONN_COURIER_EXCHANGE", "ZW_CONN_APPRISE_DEFAULT",
            "ZW_CONN_SMTP_DEFAULT"]


@dataclass(frozen=True)
class Component:
    name: str  # the compose service
    steps: list[list[str]]  # command lines run one after the other (one for a long-running service)
    env: list[str] = field(default_factory=list)  # variables it needs besides the Airflow environment
    airflow: bool = True  # runs with the Airflow environment
    oneshot: bool = False  # runs to completion before the others start


def components(site: Site) -> dict[str, Component]:
    """The cluster, in start order. The worker only runs with the CeleryExecutor."""
    parts = [
        Component("airflow-init", [["airflow", "db", "migrate"], ["zw", "airflow", "init"]], env=INIT_ENV,
                  oneshot=True),
        Component("airflow-apiserver", [["airflow", "api-server"]]),
        Component("airflow-scheduler", [["airflow", "scheduler"]]),
        Component("airflow-dag-processor", [["airflow", "dag-processor"]]),
        Component("airflow-triggerer", [["airflow", "triggerer"]]),
        Component("airflow-worker", [["airflow", "celery", "worker"]]),
        # the simulator of the brands' exchange, over the inbox's courier files: for a demo
        Component("courier-exchange", [["zw", "exchange", "serve", "--data", f"{site.data}/inbox/courier",
                                        "--host", site.exchange_host, "--port", site.exchange_port]],
                  env=["ZW_EXCHANGE_TOKEN"], airflow=False),
    ]
    return {c.name: c for c in parts if c.name != "airflow-worker" or site.executor == "CeleryExecutor"}


def _required(name: str) -> str:
    return "${%s:?set %s in .env (see .env.example)}" % (name, name)


# where docker-compose.yml puts things: the image's layout, the services' host names, secrets from .env
COMPOSE = Site(
    executor="CeleryExecutor",
    metadata_db=f"postgresql+psycopg2://airflow:{_required('POSTGRES_PASSWORD')}@postgres/airflow",
    broker="redis://redis:6379/0",
    api_url=f"http://airflow-apiserver:{API_PORT}",
    base_url="${AIRFLOW_BASE_URL:-http://localhost:%d}" % API_PORT,
    api_port=str(API_PORT),
    project="/opt/zhongwei",
    data="/opt/zhongwei/data",
    warehouse="/opt/zhongwei/data/warehouse/warehouse.duckdb",  # in a folder of its own: a volume
    airflow_home="/opt/airflow",
    fernet_key=_required("AIRFLOW_FERNET_KEY"),
    jwt_secret=_required("AIRFLOW_JWT_SECRET"),
    pii_key=_required("ZW_PII_KEY"),
    admin_user="${AIRFLOW_ADMIN_USER:-admin}",
    exchange_host="0.0.0.0",
    exchange_port=str(EXCHANGE_PORT),
    # the compose postgres's database zhongwei_serving unless .env names another server
    serving_postgres="${ZW_SERVING_POSTGRES:-postgresql://airflow:%s@postgres/zhongwei_serving}"
                     % _required("POSTGRES_PASSWORD"),
)
