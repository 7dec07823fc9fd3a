"""The analysts' PostgreSQL: schema `warehouse` holds the snapshot's marts with their dbt descriptions,
read-only for the analyst role, and is replaced in one swap that waits (a bounded time) for readers'
open transactions, which keep seeing the old data until they end.

Runs on the local PostgreSQL (127.0.0.1:5432, user postgres) in a throwaway database, with an
analyst role of its own (serving.ROLE patched) so a real zw_analyst is never touched."""
from __future__ import annotations

import secrets
import threading
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml

from wh_helpers import require_postgres
from zhongwei.config import DBT_PROJECT_DIR
from zhongwei.warehouse import serving

ADMIN = "postgresql://postgres@127.0.0.1:5432/{}"
PASSWORD = "analyst-test-password"
MART_YAML = DBT_PROJECT_DIR / "models" / "marts" / "_marts.yml"


def make_snapshot(path: Path, offset: float = 0.0) -> Path:
    """A small warehouse snapshot: three marts to serve; its snapshot_info, an intermediate table and a
    staging view not to. `offset` is added to every value, to tell a second snapshot from the first."""
    import duckdb

    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        # a subset of the real mart's columns, so their descriptions come from _marts.yml
        con.execute("create table mart_monthly_indicators (period varchar, region_code varchar, indicator_code "
                    "varchar, indicator_name varchar, value double, unit varchar, indicator_order integer)")
        con.execute("insert into mart_monthly_indicators values "
                    "('2025-01', '640500', 'express_volume', '快递业务量', 100 + $1, 'pieces', 1), "
                    "('2025-01', '640502', 'express_volume', '快递业务量', 60 + $1, 'pieces', 1), "
                    "('2025-02', '640500', 'express_volume', '快递业务量', 120 + $1, 'pieces', 1), "
                    "('2025-02', '640500', 'ecommerce_sales', '网络零售额', null, 'CNY', 2)", [offset])
        con.execute("create table dim_region (region_code varchar, region_name varchar, is_indicator_region boolean)")
        con.execute("insert into dim_region values ('640500', '中卫市', true), ('640502', '沙坡头区', true)")
        con.execute("update dim_region set region_name = region_name || ' v' || $1 where $1 > 0", [int(offset)])
        con.execute("create table fct_x (day date, seen_at timestamptz, ok boolean, tags varchar[], "
                    "amount decimal(12,2), detail struct(k integer, v varchar[]), span interval)")
        con.execute("insert into fct_x values (date '2025-01-31', timestamptz '2025-01-31 23:30:00+08', true, "
                    "['a', 'b\"c', null], 12.50, {'k': 1, 'v': ['x']}, interval 1 month), "
                    "(null, null, null, null, null, null, null)")
        # as zhongwei.warehouse.snapshot.publish writes it: which snapshot this is
        con.execute("create table snapshot_info as select $1 as snapshot_id, "
                    "timestamptz '2025-03-05 02:00:00+00' as published_at, 'v1.4.0' as storage_version",
                    [f"20250305T020000Z-{int(offset):08d}"])
        con.execute("create table int_indicator_components as select 1 as x")
        con.execute("create view stg_waybills as select 1 as x")
    return path


@pytest.fixture(scope="module")
def server():
    """(URI, analyst role) of a fresh database; dropped with the role at the end."""
    require_postgres()
    import psycopg

    database, role = f"zw_serving_test_{secrets.token_hex(4)}", f"zw_analyst_t{secrets.token_hex(4)}"
    patch = pytest.MonkeyPatch()
    patch.setattr(serving, "ROLE", role)
    patch.delenv("ZW_ANALYST_PASSWORD", raising=False)
    try:
        yield ADMIN.format(database), role
    finally:
        patch.undo()
        with psycopg.connect(ADMIN.format("postgres"), autocommit=True) as con:
            con.execute(f'drop database if exists "{database}" with (force)')
            con.execute(f'drop role if exists "{role}"')


@pytest.fixture
def snapshots(tmp_path):
    return make_snapshot(tmp_path / "v1.duckdb"), make_snapshot(tmp_path / "v2.duckdb", offset=1000)


def analyst(server, **kwargs):
    import psycopg
    from psycopg.conninfo import make_conninfo

    uri, role = server
    return psycopg.connect(make_conninfo(uri, user=role, password=PASSWORD), **kwargs)


def admin(server):
    import psycopg

    return psycopg.connect(server[0], autocommit=True)


def values(con) -> dict:
    return dict(con.execute("select period || ' ' || region_code || ' ' || indicator_code, value "
                            "from warehouse.mart_monthly_indicators").fetchall())


V1 = {"2025-01 640500 express_volume": 100.0, "2025-01 640502 express_volume": 60.0,
      "2025-02 640500 express_volume": 120.0, "2025-02 640500 ecommerce_sales": None}
V2 = {k: (v + 1000 if v is not None else None) for k, v in V1.items()}


# --- without a server -------------------------------------------------------------------------

@pytest.mark.parametrize("duck, pg", [
    ("VARCHAR", "text"), ("BIGINT", "bigint"), ("INTEGER", "integer"), ("SMALLINT", "smallint"),
    ("HUGEINT", "numeric"), ("DOUBLE", "double precision"), ("FLOAT", "double precision"),
    ("DECIMAL(18,3)", "numeric(18,3)"), ("BOOLEAN", "boolean"), ("DATE", "date"), ("TIMESTAMP", "timestamp"),
    ("TIMESTAMP WITH TIME ZONE", "timestamptz"), ("VARCHAR[]", "text[]"), ("INTEGER[]", "integer[]"),
    ("INTEGER[][]", "jsonb"), ("STRUCT(a INTEGER)", "jsonb"), ("MAP(VARCHAR, INTEGER)", "jsonb"),
    ("INTERVAL", "text"), ("ENUM('a', 'b')", "text"),
])
def test_duckdb_types_map_to_postgres_types(duck, pg):
    assert serving.column_type(duck)[0] == pg


def test_from_env_is_the_uri_or_none():
    assert serving.from_env({"ZW_SERVING_POSTGRES": "postgresql://h/db"}) == "postgresql://h/db"
    assert serving.from_env({"ZW_SERVING_POSTGRES": ""}) is None and serving.from_env({}) is None


def test_only_marts_are_served(tmp_path):
    import duckdb

    with duckdb.connect(str(make_snapshot(tmp_path / "s.duckdb")), read_only=True) as con:
        assert list(serving.snapshot_tables(con)) == ["dim_region", "fct_x", "mart_monthly_indicators"]


# --- on the local PostgreSQL ------------------------------------------------------------------

@pytest.mark.services
def test_analysts_read_the_marts_with_their_descriptions_and_write_nothing(server, snapshots):
    import psycopg

    result = serving.refresh_postgres(snapshots[0], server[0], analyst_password=PASSWORD)
    assert result["tables"] == {"dim_region": 2, "fct_x": 2, "mart_monthly_indicators": 4}
    assert result["rows"] == 8 and result["attempts"] == 1 and result["seconds"] > 0
    assert result["snapshot"].startswith("20250305T020000Z-00000000 ")

    with analyst(server, autocommit=True) as con:
        assert con.info.user == server[1]
        assert values(con) == V1
        # staging and intermediate models stay out; nothing but the marts
        assert {t for (t,) in con.execute("select table_name from information_schema.tables "
                                          "where table_schema = 'warehouse'")} == {"dim_region", "fct_x",
                                                                                   "mart_monthly_indicators"}
        for statement in ["insert into warehouse.mart_monthly_indicators (period) values ('2099-01')",
                          "update warehouse.mart_monthly_indicators set value = 0",
                          "delete from warehouse.dim_region",
                          "truncate warehouse.fct_x",
                          "drop table warehouse.dim_region",
                          "create table warehouse.mine (x int)",
                          "create table public.mine (x int)",
                          "create schema mine"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(statement)
        assert values(con) == V1

        # the types match the snapshot's
        types = dict(con.execute("select attname, format_type(atttypid, atttypmod) from pg_attribute "
                                 "where attrelid = 'warehouse.fct_x'::regclass and attnum > 0").fetchall())
        assert types == {"day": "date", "seen_at": "timestamp with time zone", "ok": "boolean", "tags": "text[]",
                         "amount": "numeric(12,2)", "detail": "jsonb", "span": "text"}
        row = con.execute("select day, seen_at, ok, tags, amount::text, detail, span from warehouse.fct_x "
                          "where day is not null").fetchone()
        assert row == (date(2025, 1, 31), datetime(2025, 1, 31, 15, 30, tzinfo=timezone.utc), True,
                       ["a", 'b"c', None], "12.50", {"k": 1, "v": ["x"]}, "1 month")
        assert con.execute("select count(*) from warehouse.fct_x where day is null and tags is null "
                           "and detail is null").fetchone()[0] == 1

        # the dbt descriptions, as comments
        models = yaml.safe_load(MART_YAML.read_text())["models"]
        model = next(m for m in models if m["name"] == "mart_monthly_indicators")
        assert con.execute("select obj_description('warehouse.mart_monthly_indicators'::regclass, 'pg_class')"
                           ).fetchone()[0] == model["description"].strip()
        comments = dict(con.execute(
            "select attname, col_description(attrelid, attnum) from pg_attribute "
            "where attrelid = 'warehouse.mart_monthly_indicators'::regclass and attnum > 0").fetchall())
        expected = {c["name"]: c["description"].strip() for c in model["columns"] if c["name"] in comments}
        assert len(expected) == 7 and comments == expected
        assert con.execute("select obj_description('warehouse'::regnamespace, 'pg_namespace')").fetchone()[0] == (
            "The warehouse's marts from snapshot 20250305T020000Z-00000000 (published 2025-03-05T10:00:00+08:00); "
            "replaced whole at each publish.")


@pytest.mark.services
def test_a_reader_keeps_the_old_data_until_it_ends_and_the_swap_waits_for_it(server, snapshots):
    from psycopg import IsolationLevel

    serving.refresh_postgres(snapshots[0], server[0], analyst_password=PASSWORD)

    stop, poll_errors, poll_latencies = threading.Event(), [], []

    def poll():  # autocommit readers all along: schema warehouse is never missing, nor long locked
        with analyst(server, autocommit=True) as con:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    assert con.execute("select count(*) from warehouse.mart_monthly_indicators").fetchone()[0] == 4
                except Exception as e:  # noqa: BLE001 - any failure is the finding
                    poll_errors.append(repr(e))
                poll_latencies.append(time.monotonic() - started)
                time.sleep(0.01)

    outcome = {}

    def refresh():
        try:
            outcome["result"] = serving.refresh_postgres(snapshots[1], server[0], attempts=60, pause=0.25)
        except Exception as e:  # noqa: BLE001
            outcome["error"] = e

    poller = threading.Thread(target=poll)
    poller.start()
    reader = analyst(server)
    try:
        reader.isolation_level = IsolationLevel.REPEATABLE_READ
        assert values(reader) == V1  # the transaction begins, holding the mart
        refresher = threading.Thread(target=refresh)
        refresher.start()
        time.sleep(2)
        assert refresher.is_alive(), outcome
        # still the old data, also in a table the transaction had not read yet
        assert values(reader) == V1
        assert reader.execute("select region_name from warehouse.dim_region order by 1").fetchall() == [
            ("中卫市",), ("沙坡头区",)]
        reader.commit()
        refresher.join(30)
        assert not refresher.is_alive() and "error" not in outcome, outcome
        assert outcome["result"]["attempts"] > 1
        assert outcome["result"]["seconds"] >= 2
        with analyst(server) as fresh:
            assert values(fresh) == V2
            assert fresh.execute("select region_name from warehouse.dim_region order by 1").fetchall() == [
                ("中卫市 v1000",), ("沙坡头区 v1000",)]
        assert values(reader) == V2  # its next transaction sees the new data
    finally:
        reader.close()
        stop.set()
        poller.join(10)
    assert poll_errors == []
    assert len(poll_latencies) > 50
    # the swap never queues for the tables: the other readers were not held up
    assert max(poll_latencies) < 1.5, max(poll_latencies)


@pytest.mark.services
def test_a_transaction_begun_before_the_refresh_keeps_the_old_data_though_it_had_not_read_it(server, snapshots):
    """Its snapshot predates the new tables: after a swap it would find them empty. So it holds the
    swap off like a reader holding a table."""
    from psycopg import IsolationLevel

    serving.refresh_postgres(snapshots[0], server[0], analyst_password=PASSWORD)
    outcome = {}
    with analyst(server) as reader:
        reader.isolation_level = IsolationLevel.REPEATABLE_READ
        reader.execute("select 1")  # its snapshot, no table of schema warehouse read
        with pytest.raises(serving.WarehouseBusy, match=rf"pid {reader.info.backend_pid} .* on a snapshot older"):
            serving.refresh_postgres(snapshots[1], server[0], attempts=2, pause=0.1)
        refresher = threading.Thread(target=lambda: outcome.update(
            result=serving.refresh_postgres(snapshots[1], server[0], attempts=40, pause=0.25)))
        refresher.start()
        time.sleep(1.5)
        assert refresher.is_alive()
        assert values(reader) == V1
        reader.commit()
        refresher.join(30)
        assert outcome["result"]["attempts"] > 1
        assert values(reader) == V2


@pytest.mark.services
def test_a_reader_that_never_lets_go_fails_the_refresh_clearly_and_the_old_schema_stays(server, snapshots):
    from psycopg import IsolationLevel

    serving.refresh_postgres(snapshots[0], server[0], analyst_password=PASSWORD)
    with analyst(server) as reader:
        reader.isolation_level = IsolationLevel.REPEATABLE_READ
        assert values(reader) == V1
        pid = reader.info.backend_pid
        started = time.monotonic()
        with pytest.raises(serving.WarehouseBusy) as failure:
            serving.refresh_postgres(snapshots[1], server[0], attempts=3, pause=0.2)
        assert time.monotonic() - started < 10
        message = str(failure.value)
        assert f"pid {pid} (user {server[1]}" in message and "idle in transaction" in message, message
        assert "mart_monthly_indicators" in message and "3 attempts" in message, message
        assert values(reader) == V1
        reader.rollback()
    with admin(server) as con:
        assert values(con) == V1
        assert con.execute("select to_regnamespace('warehouse_next')").fetchone()[0] is None
    # once the reader is gone, the next publish goes through
    assert serving.refresh_postgres(snapshots[1], server[0])["attempts"] == 1
    with analyst(server) as con:
        assert values(con) == V2


def _schema(con) -> list:
    """Everything an analyst sees of schema warehouse: tables, columns, types, comments, grants, rows."""
    described = con.execute(
        "select c.relname, a.attname, format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum), "
        "obj_description(c.oid, 'pg_class'), c.relacl::text from pg_class c join pg_attribute a on a.attrelid = c.oid "
        "where c.relnamespace = 'warehouse'::regnamespace and a.attnum > 0 order by 1, a.attnum").fetchall()
    rows = [con.execute(f"select * from warehouse.{t} order by 1, 2").fetchall()
            for t in ("dim_region", "fct_x", "mart_monthly_indicators")]
    grants = con.execute("select nspacl::text from pg_namespace where nspname = 'warehouse'").fetchone()
    return [described, rows, grants]


@pytest.mark.services
def test_rerunning_gives_the_same_schema_and_clears_a_crashed_runs_leftovers(server, snapshots):
    serving.refresh_postgres(snapshots[0], server[0], analyst_password=PASSWORD)
    with admin(server) as con:
        first = _schema(con)
        # a crash between load and swap, and one inside a swap by hand
        con.execute("drop schema if exists warehouse_next cascade")
        con.execute("create schema warehouse_next")
        con.execute("create table warehouse_next.half_loaded (x int)")
        con.execute("create schema warehouse_old")
        con.execute("create table warehouse_old.stale (x int)")
    serving.refresh_postgres(snapshots[0], server[0])
    with admin(server) as con:
        assert _schema(con) == first
        assert con.execute("select count(*) from pg_namespace where nspname in ('warehouse_next', 'warehouse_old')"
                           ).fetchone()[0] == 0


@pytest.mark.services
def test_the_role_is_created_only_with_a_password(server, snapshots, monkeypatch):
    role = f"zw_analyst_n{secrets.token_hex(4)}"
    monkeypatch.setattr(serving, "ROLE", role)
    try:
        with pytest.raises(serving.ServingError, match="ZW_ANALYST_PASSWORD"):
            serving.ensure_analyst_role(server[0])
        with pytest.raises(serving.ServingError, match=f"role {role} does not exist"):
            serving.refresh_postgres(snapshots[0], server[0])
        monkeypatch.setenv("ZW_ANALYST_PASSWORD", "from-the-environment")
        assert serving.ensure_analyst_role(server[0]) is True
        monkeypatch.delenv("ZW_ANALYST_PASSWORD")
        assert serving.ensure_analyst_role(server[0]) is False  # exists: no password needed
        with admin(server) as con:
            attributes = con.execute("select rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, "
                                     "left(rolpassword, 14) from pg_authid where rolname = %s", (role,)).fetchone()
            assert attributes == (True, False, False, False, "SCRAM-SHA-256$")
            assert con.execute("select has_database_privilege(%s, current_database(), 'CONNECT')",
                               (role,)).fetchone()[0]
    finally:
        with admin(server) as con:
            con.execute(f'drop owned by "{role}"')
            con.execute(f'drop role if exists "{role}"')


@pytest.mark.services
def test_two_refreshes_at_once_both_go_through(server, snapshots):
    serving.refresh_postgres(snapshots[0], server[0], analyst_password=PASSWORD)
    outcomes = []
    threads = [threading.Thread(target=lambda s=s: outcomes.append(serving.refresh_postgres(s, server[0], pause=0.1)))
               for s in snapshots]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 2
    with admin(server) as con:
        assert values(con) in (V1, V2)


@pytest.mark.services
def test_a_new_database_is_created_and_a_schema_warehouse_not_made_here_is_left_alone(server, tmp_path):
    import psycopg

    uri = ADMIN.format(f"zw_serving_test_new_{secrets.token_hex(4)}")
    snapshot = make_snapshot(tmp_path / "s.duckdb")
    try:
        result = serving.refresh_postgres(snapshot, uri, analyst_password=PASSWORD)
        assert result["rows"] == 8
        # dbt's postgres target also builds a schema warehouse: never replaced
        with psycopg.connect(uri, autocommit=True) as con:
            con.execute("drop schema warehouse cascade")
            con.execute("create schema warehouse")
            con.execute("create table warehouse.mart_monthly_indicators (built_by text)")
        with pytest.raises(serving.ServingError, match="not made by this refresh"):
            serving.refresh_postgres(snapshot, uri)
        with psycopg.connect(uri) as con:
            assert con.execute("select column_name from information_schema.columns "
                               "where table_schema = 'warehouse'").fetchall() == [("built_by",)]
    finally:
        with psycopg.connect(ADMIN.format("postgres"), autocommit=True) as con:
            database = uri.rsplit("/", 1)[1]
            con.execute(f'drop database if exists "{database}" with (force)')
