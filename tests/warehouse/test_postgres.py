"""The PostgreSQL target: the lake copied into schema `lake`, the same dbt project built with
`--target postgres`, gives the same mart_monthly_indicators as the DuckDB build."""
from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from wh_helpers import connect, require_postgres

pytestmark = [pytest.mark.slow, pytest.mark.services]

FIELDS = ["value", "ytd_value", "yoy_growth", "ytd_yoy_growth", "target_value", "progress"]


def test_postgres_target_matches_duckdb(built, monkeypatch):
    require_postgres()
    import psycopg

    from zhongwei.warehouse import build
    from zhongwei.warehouse.postgres_lake import conninfo, copy_lake

    duck_settings, duck_result = built
    assert duck_result.success
    database = f"zhongwei_test_{os.getpid()}"
    monkeypatch.setenv("ZW_PG_DATABASE", database)
    try:
        counts = copy_lake(duck_settings.lake, database)
        assert counts["courier_waybills"] > 0 and counts["load_ledger"] > 0
        result = build(duck_settings, target="postgres", exclude="test_type:unit")
        assert result.success, [(n.name, n.message) for n in result.failed]
        with psycopg.connect(conninfo(database)) as con:
            cur = con.execute("select period, region_code, indicator_code, value, ytd_value, yoy_growth, "
                              "ytd_yoy_growth, target_value, progress from warehouse.mart_monthly_indicators")
            pg = {tuple(r[:3]): r[3:] for r in cur.fetchall()}
        with connect(duck_settings.warehouse) as con:
            dk = {tuple(r[:3]): r[3:] for r in con.execute(
                "select period, region_code, indicator_code, value, ytd_value, yoy_growth, "
                "ytd_yoy_growth, target_value, progress from mart_monthly_indicators").fetchall()}
        assert pg.keys() == dk.keys()
        for key, row in dk.items():
            for field, a, b in zip(FIELDS, row, pg[key]):
                if a is None or b is None:
                    assert a is None and b is None, (key, field, a, b)
                else:
                    assert math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9), (key, field, a, b)
    finally:
        with psycopg.connect(conninfo("postgres"), autocommit=True) as con:
            con.execute(f'drop database if exists "{database}" with (force)')
