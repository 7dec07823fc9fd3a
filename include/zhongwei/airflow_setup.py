"""What an Airflow installation of this project needs besides the DAGs: its pools,
its connections and a login (and the analysts' role on the serving PostgreSQL, if any).

Used by `zw run` (local, SQLite), by `zw airflow init` (the deployment's init
step) and `zw airflow standalone`, so every environment has the same pools with
the same sizes and the same connections.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

POOLS = {
    # DuckDB allows one writing process per database file: dbt is the warehouse's only writer
    "warehouse": (1, "The warehouse's single writer (dbt build, dbt docs)."),
}

# created from ZW_CONN_<NAME> (a connection URI, or Airflow's JSON form) when set; alerts go only
# where a connection exists (zhongwei.alerts)
CONNECTIONS = {
    "courier_exchange": "The brands' data exchange; the password is the bearer token.",
    "apprise_default": "Failure and deadline alerts through Apprise; extra config: {\"path\": \"<Apprise URL>\"} "
                       "or a list of them (dingtalk://, wecombot://, feishu://, ...).",
    "smtp_default": "Failure and deadline alerts by e-mail; extras: from_email and to (comma-separated).",
}


def ensure_pools() -> None:
    """Create or resize the project's pools in the configured metadata database."""
    from airflow.models.pool import Pool

    for name, (slots, description) in POOLS.items():
        Pool.create_or_update_pool(name, slots, description, include_deferred=False)


def ensure_connections(env: dict[str, str]) -> list[str]:
    """Store each connection given as ZW_CONN_<NAME> (a URI, or JSON like AIRFLOW_CONN_<NAME>: an
    Apprise config is JSON) in the metadata database (encrypted with
    the Fernet key, editable in the UI), replacing an older one. Returns the names stored.
    With ZW_SERVING_POSTGRES set, also creates the analysts' role there (ZW_ANALYST_PASSWORD)."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    from zhongwei.warehouse.serving import ensure_analyst_role, from_env

    stored = []
    with create_session() as session:
        for name, description in CONNECTIONS.items():
            value = env.get(f"ZW_CONN_{name.upper()}")
            if not value:
                continue
            conn = (Connection.from_json(value, conn_id=name) if value.lstrip().startswith("{")
                    else Connection(conn_id=name, uri=value))
            conn.description = description
            session.query(Connection).filter(Connection.conn_id == name).delete()
            session.add(conn)
            stored.append(name)
    if from_env(env):  # before the first publish needs it
        ensure_analyst_role(from_env(env), env.get("ZW_ANALYST_PASSWORD"))
    return stored


def ensure_admin_password(password: str | None) -> tuple[str, str]:
    """Give the simple auth manager's first admin user this password (or a random one, once).

    The simple auth manager reads passwords from a JSON file; writing it here means the
    password comes from the environment (.env) instead of being generated and printed by
    the API server. Returns (user, password)."""
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    user = next(u.username for u in SimpleAuthManager.get_users() if u.role.upper() == "ADMIN")
    path = Path(SimpleAuthManager.get_generated_password_file())
    passwords = json.loads(path.read_text() or "{}") if path.exists() else {}
    passwords[user] = password or passwords.get(user) or secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(passwords) + "\n")
    os.chmod(path, 0o600)
    return user, passwords[user]
