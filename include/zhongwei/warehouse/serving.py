"""Serve the analysts' warehouse snapshot from PostgreSQL: schema `warehouse`.

On a cluster (docker-compose) the published snapshot is a DuckDB file on a worker's disk, which
analysts cannot open. With ZW_SERVING_POSTGRES set (a libpq URI), each publish also copies the
snapshot's marts (`dim_*`, `fct_*`, `mart_monthly_indicators`) into that database, with the dbt
descriptions as comments, for the read-only role `zw_analyst`.

The copy is loaded into schema `warehouse_next` and swapped in by one transaction (rename, rename,
drop), so a reader sees the old schema or the new one, never half. The swap needs an ACCESS
EXCLUSIVE lock on every old table, which a reader's open transaction holds off: each attempt asks
for all the locks with NOWAIT (waiting in the lock queue would stall every new query on those
tables, and holding some locks while waiting for others can deadlock with a reader), and the swap
is retried after a pause, a bounded number of times, then fails naming who holds the tables.
A transaction whose snapshot is older than the load holds the swap off too: it has not read the
warehouse yet (no lock), but after the swap it would find the new tables empty (PostgreSQL's DDL
is not MVCC-safe); so it keeps the old schema until it ends, like any other reader.
"""
from __future__ import annotations

import logging
import os
import re
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from zhongwei.config import DBT_PROJECT_DIR, TIMEZONE

log = logging.getLogger(__name__)

ROLE = "zw_analyst"
SCHEMA, NEXT, OLD = "warehouse", "warehouse_next", "warehouse_old"
ATTEMPTS, PAUSE = 120, 0.5  # the swap waits up to about a minute for readers to end their transactions
MARK = "The warehouse's marts from snapshot"  # schema warehouse's comment starts so when made here

SCALARS = {
    "VARCHAR": "text", "BOOLEAN": "boolean", "DATE": "date", "TIME": "time", "UUID": "uuid", "BLOB": "bytea",
    "TINYINT": "smallint", "SMALLINT": "smallint", "INTEGER": "integer", "BIGINT": "bigint",
    "UTINYINT": "smallint", "USMALLINT": "integer", "UINTEGER": "bigint",
    "UBIGINT": "numeric", "HUGEINT": "numeric", "UHUGEINT": "numeric",
    "FLOAT": "double precision", "DOUBLE": "double precision",
    "TIMESTAMP": "timestamp", "TIMESTAMP_S": "timestamp", "TIMESTAMP_MS": "timestamp", "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


class ServingError(RuntimeError):
    pass


class WarehouseBusy(ServingError):
    """Readers kept schema `warehouse` locked through every attempt of the swap."""


def from_env(env: dict[str, str] | None = None) -> str | None:
    """The serving database's URI (ZW_SERVING_POSTGRES), or None when the snapshot is not served."""
    env = os.environ if env is None else env
    return env.get("ZW_SERVING_POSTGRES") or None


def _scalar(duck_type: str) -> str | None:
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duck_type)
    return f"numeric({decimal[1]},{decimal[2]})" if decimal else SCALARS.get(duck_type)


def column_type(duck_type: str) -> tuple[str, str]:
    """(PostgreSQL type, DuckDB select expression with {} for the quoted column) of a DuckDB type."""
    if _scalar(duck_type):
        return _scalar(duck_type), "{}"
    if duck_type.endswith("[]") and _scalar(duck_type[:-2]):  # a list of scalars: a PostgreSQL array
        return _scalar(duck_type[:-2]) + "[]", "{}"
    if duck_type.startswith(("STRUCT", "MAP", "UNION")) or duck_type.endswith("]"):  # nested: JSON
        return "jsonb", "CAST(to_json({}) AS VARCHAR)"
    return "text", "CAST({} AS VARCHAR)"  # ENUM, INTERVAL, BIT, ...: their text


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def snapshot_tables(duck) -> dict[str, list[tuple[str, str]]]:
    """The marts of the snapshot: {table: [(column, DuckDB type)]}; staging and intermediate models stay out."""
    tables = [t for (t,) in duck.execute(
        "select table_name from information_schema.tables where table_catalog = current_database() "
        "and table_schema = 'main' and table_type = 'BASE TABLE' and (table_name like 'dim\\_%' escape '\\' "
        "or table_name like 'fct\\_%' escape '\\' or table_name = 'mart_monthly_indicators') "
        "order by table_name").fetchall()]
    return {t: duck.execute(
        "select column_name, data_type from information_schema.columns where table_catalog = current_database() "
        "and table_schema = 'main' and table_name = ? order by ordinal_position", [t]).fetchall() for t in tables}


def snapshot_label(duck, snapshot: Path) -> str:
    """Which snapshot this is: its id and publication time (table snapshot_info), else file and time."""
    if duck.execute("select count(*) from information_schema.tables where table_catalog = current_database() "
                    "and table_schema = 'main' and table_name = 'snapshot_info'").fetchone()[0]:
        snapshot_id, published = duck.execute("select snapshot_id, published_at from snapshot_info").fetchone()
        return f"{snapshot_id} (published {published.astimezone(ZoneInfo(TIMEZONE)).isoformat(timespec='seconds')})"
    taken = datetime.fromtimestamp(snapshot.stat().st_mtime, ZoneInfo(TIMEZONE))
    return f"{snapshot.name} of {taken.isoformat(timespec='seconds')}"


def descriptions(project_dir: Path = DBT_PROJECT_DIR) -> dict[str, tuple[str, dict[str, str]]]:
    """{model: (description, {column: description})} from the marts' dbt properties (_marts.yml)."""
    import yaml

    found = {}
    for path in sorted((project_dir / "models" / "marts").glob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            columns = {c["name"]: c["description"].strip() for c in model.get("columns", []) if c.get("description")}
            found[model["name"]] = ((model.get("description") or "").strip(), columns)
    return found


def ensure_database(uri: str) -> None:
    """Create the URI's database when missing (a fresh deployment's PostgreSQL has only Airflow's)."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    dbname = conninfo_to_dict(uri).get("dbname")
    if not dbname:  # libpq's default, the user's own database
        return
    with psycopg.connect(make_conninfo(uri, dbname="postgres"), autocommit=True) as con:
        if not con.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone():
            con.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))


def ensure_analyst_role(uri: str, password: str | None = None) -> bool:
    """Role zw_analyst: able to log in (password from the argument or ZW_ANALYST_PASSWORD) and to
    connect to the serving database; what it may read is granted with each swap. Creates the
    database when missing. Returns whether the role was created."""
    import psycopg
    from psycopg import sql

    ensure_database(uri)
    password = password or os.environ.get("ZW_ANALYST_PASSWORD") or None
    with psycopg.connect(uri, autocommit=True) as con:
        exists = bool(con.execute("select 1 from pg_roles where rolname = %s", (ROLE,)).fetchone())
        if not exists and not password:
            raise ServingError(f"role {ROLE} does not exist and no password was given to create it: set "
                               f"ZW_ANALYST_PASSWORD (docker compose: in .env, then `docker compose up airflow-init`)")
        if password:
            # hashed here, as psql's \password does: the clear password never reaches the server's logs
            verifier = con.pgconn.encrypt_password(password.encode(), ROLE.encode(), b"scram-sha-256").decode()
            statement = ("alter role {} login password {}" if exists else
                         "create role {} login nosuperuser nocreatedb nocreaterole password {}")
            con.execute(sql.SQL(statement).format(sql.Identifier(ROLE), sql.Literal(verifier)))
        con.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(con.info.dbname),
                                                                         sql.Identifier(ROLE)))
        # before PostgreSQL 15 everyone may create tables in schema public: analysts only read
        con.execute("revoke create on schema public from public")
    return not exists


def _load(duck, pg, tables: dict[str, list[tuple[str, str]]], label: str) -> dict[str, int]:
    """Copy the tables into a fresh schema warehouse_next, with comments; returns rows per table."""
    from psycopg import sql

    docs = descriptions()
    rows = {}
    with pg.transaction():
        pg.execute("set local lock_timeout = '10s'")  # a leftover warehouse_old someone still reads
        exists, comment = pg.execute("select to_regnamespace(%(s)s) is not null, obj_description("
                                     "to_regnamespace(%(s)s), 'pg_namespace')", {"s": SCHEMA}).fetchone()
        if exists and not (comment or "").startswith(MARK):  # e.g. dbt's postgres target: not ours to replace
            raise ServingError(f"schema {SCHEMA} of database {pg.info.dbname} was not made by this refresh: "
                               f"serve the snapshot from a database of its own (ZW_SERVING_POSTGRES)")
        for leftover in (NEXT, OLD):  # a crashed run's
            pg.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(leftover)))
        pg.execute(sql.SQL("create schema {}").format(sql.Identifier(NEXT)))
        pg.execute(sql.SQL("comment on schema {} is {}").format(sql.Identifier(NEXT), sql.Literal(
            f"{MARK} {label}; replaced whole at each publish.")))
        for table, columns in tables.items():
            target = sql.Identifier(NEXT, table)
            types = {c: column_type(t) for c, t in columns}
            pg.execute(sql.SQL("create table {} ({})").format(target, sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(pg_type)) for c, (pg_type, _) in types.items())))
            select = ", ".join(expr.format(_quote(c)) for c, (_, expr) in types.items())
            cursor = duck.execute(f"select {select} from main.{_quote(table)}")
            n = 0
            with pg.cursor() as cur, cur.copy(sql.SQL("copy {} from stdin").format(target)) as copy:
                while batch := cursor.fetchmany(50_000):
                    for row in batch:
                        copy.write_row(row)
                    n += len(batch)
            rows[table] = n
            description, column_docs = docs.get(table, ("", {}))
            if description:
                pg.execute(sql.SQL("comment on table {} is {}").format(target, sql.Literal(description)))
            for column, _ in columns:
                if column in column_docs:
                    pg.execute(sql.SQL("comment on column {} is {}").format(
                        sql.Identifier(NEXT, table, column), sql.Literal(column_docs[column])))
            pg.execute(sql.SQL("analyze {}").format(target))
    return rows


# other sessions of this database in the way of the swap: holding a table of schema warehouse, or a
# snapshot older than the load (visible to a superuser or pg_read_all_stats: the refreshing user)
IN_THE_WAY = """
select a.pid, a.usename, a.application_name, a.client_addr, a.state, a.xact_start, (
    select string_agg(distinct c.relname, ', ') from pg_locks l join pg_class c on c.oid = l.relation
    where l.pid = a.pid and l.granted and c.relnamespace = to_regnamespace(%(schema)s)) as tables
from pg_stat_activity a
where a.datname = current_database() and a.pid <> pg_backend_pid() and a.backend_type = 'client backend'
  and (a.backend_xmin is not null and a.xact_start < %(loaded_at)s or exists (
    select from pg_locks l join pg_class c on c.oid = l.relation
    where l.pid = a.pid and l.granted and c.relnamespace = to_regnamespace(%(schema)s)))
order by a.xact_start"""


def _try_swap(pg, loaded_at: datetime) -> bool:
    """One attempt: lock the old tables (NOWAIT), rename both schemas, grant, drop the old one, commit.
    False when a reader is in the way (nothing changed)."""
    import psycopg
    from psycopg import sql

    try:
        with pg.transaction():
            pg.execute("set local lock_timeout = '2s'")  # nothing else should wait; if it does, not for long
            if pg.execute(f"select exists ({IN_THE_WAY})", {"schema": SCHEMA, "loaded_at": loaded_at}).fetchone()[0]:
                return False
            old = [sql.Identifier(SCHEMA, t) for (t,) in pg.execute(
                "select tablename from pg_tables where schemaname = %s", (SCHEMA,)).fetchall()]
            if old:
                pg.execute(sql.SQL("lock table {} in access exclusive mode nowait").format(sql.SQL(", ").join(old)))
            if pg.execute("select to_regnamespace(%s) is not null", (SCHEMA,)).fetchone()[0]:
                pg.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(SCHEMA), sql.Identifier(OLD)))
            pg.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(NEXT), sql.Identifier(SCHEMA)))
            schema, role = sql.Identifier(SCHEMA), sql.Identifier(ROLE)
            pg.execute(sql.SQL("grant usage on schema {} to {}").format(schema, role))
            pg.execute(sql.SQL("grant select on all tables in schema {} to {}").format(schema, role))
            pg.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(OLD)))
        return True
    except psycopg.errors.LockNotAvailable:
        return False


def _in_the_way(pg, loaded_at: datetime) -> str:
    """Who kept the swap off, for the error message."""
    return "; ".join(
        f"pid {pid} (user {user}, application {app!r}, client {client or 'local'}, {state}, transaction open "
        f"since {start:%Y-%m-%d %H:%M:%S%z}) {f'on {tables}' if tables else 'on a snapshot older than the data'}"
        for pid, user, app, client, state, start, tables in pg.execute(
            IN_THE_WAY, {"schema": SCHEMA, "loaded_at": loaded_at}).fetchall()) or "no one left at the last look"


def refresh_postgres(snapshot: Path, uri: str, *, analyst_password: str | None = None,
                     attempts: int = ATTEMPTS, pause: float = PAUSE) -> dict:
    """Replace schema `warehouse` of the database at `uri` with the snapshot's marts, in one swap.

    Returns {"schema", "snapshot" (its id), "tables": {table: rows}, "rows", "attempts" (of the swap),
    "seconds"}.
    Raises WarehouseBusy when readers kept the old schema through every attempt (it stays as it
    was), ServingError when role zw_analyst is missing and no password can create it.
    """
    import duckdb
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    start = time.monotonic()
    snapshot = Path(snapshot)
    if not snapshot.exists():
        raise FileNotFoundError(f"no warehouse snapshot at {snapshot}")
    ensure_database(uri)
    with duckdb.connect(str(snapshot), read_only=True) as duck, \
            psycopg.connect(uri, autocommit=True, application_name="zw-serving-refresh") as pg:
        # one refresh at a time (two publishing workers would share warehouse_next); released on close.
        # Tried, not waited for in a statement: a waiting statement's snapshot would hold the other's swap off
        while not pg.execute("select pg_try_advisory_lock(hashtext('zhongwei.warehouse.serving'))").fetchone()[0]:
            time.sleep(pause)
        ensure_analyst_role(uri, analyst_password)
        tables = snapshot_tables(duck)
        if "mart_monthly_indicators" not in tables:
            raise ServingError(f"{snapshot} has no mart_monthly_indicators: not a warehouse snapshot")
        label = snapshot_label(duck, snapshot)
        rows = _load(duck, pg, tables, label)
        loaded_at = pg.execute("select clock_timestamp()").fetchone()[0]
        for attempt in range(1, attempts + 1):
            if _try_swap(pg, loaded_at):
                break
            if attempt == attempts:
                in_the_way = _in_the_way(pg, loaded_at)
                pg.execute(f"drop schema if exists {NEXT} cascade")
                raise WarehouseBusy(
                    f"schema {SCHEMA} was not replaced: readers kept it through {attempts} attempts over "
                    f"{time.monotonic() - start:.0f} s: {in_the_way}. The old data is still served; end that "
                    f"transaction (or pg_terminate_backend(pid)) and publish again.")
            time.sleep(pause)
    result = {"schema": SCHEMA, "snapshot": label, "tables": rows, "rows": sum(rows.values()), "attempts": attempt,
              "seconds": round(time.monotonic() - start, 3)}
    log.info("served %d tables (%d rows) in %s.%s after %d swap attempt(s), %.1f s", len(rows), result["rows"],
             conninfo_to_dict(uri).get("dbname"), SCHEMA, attempt, result["seconds"])
    return result
