"""Copy the Parquet lake into schema `lake` of a PostgreSQL database, for the dbt `postgres` target.

PostgreSQL cannot read the lake's Parquet files, so the same tables the DuckDB target reads in
place (`raw/<table>/**/*.parquet`, the load ledger JSON files, the e-commerce quarantine) are
read with DuckDB and streamed into PostgreSQL with COPY. Each table is replaced whole inside one
transaction, so readers never see a half-copied lake.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

RAW_TABLES = [
    "courier_waybills", "courier_events", "ecommerce_orders", "ecommerce_order_lines", "outlets",
    "registry_enterprises", "registry_enterprise_shops", "registry_training_classes", "registry_influencers",
]
PG_TYPES = {
    "VARCHAR": "text", "BIGINT": "bigint", "INTEGER": "integer", "SMALLINT": "smallint", "TINYINT": "smallint",
    "DOUBLE": "double precision", "FLOAT": "real", "BOOLEAN": "boolean", "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz", "TIMESTAMP": "timestamp", "VARCHAR[]": "text[]",
    "HUGEINT": "numeric", "UBIGINT": "numeric", "UINTEGER": "bigint",
}


def conninfo(database: str | None = None) -> str:
    return (f"host={os.environ.get('ZW_PG_HOST', '127.0.0.1')} port={os.environ.get('ZW_PG_PORT', '5432')} "
            f"user={os.environ.get('ZW_PG_USER', 'postgres')} "
            f"dbname={database or os.environ.get('ZW_PG_DATABASE', 'zhongwei')}")


def ensure_database(database: str | None = None) -> None:
    import psycopg

    database = database or os.environ.get("ZW_PG_DATABASE", "zhongwei")
    with psycopg.connect(conninfo("postgres"), autocommit=True) as con:
        if not con.execute("select 1 from pg_database where datname = %s", (database,)).fetchone():
            con.execute(f'create database "{database}"')


def _queries(lake: Path) -> dict[str, str]:
    q = {t: f"select * from read_parquet('{lake}/raw/{t}/**/*.parquet', hive_partitioning=false, union_by_name=true)"
         for t in RAW_TABLES if any((lake / "raw" / t).rglob("*.parquet"))}
    if any((lake / "ledger").glob("*/*.json")):
        q["load_ledger"] = f"select filename, content from read_text('{lake}/ledger/*/*.json')"
    if any((lake / "quarantine" / "ecommerce").glob("*.parquet")):
        q["ecommerce_quarantine"] = (f"select * from read_parquet('{lake}/quarantine/ecommerce/*.parquet', "
                                     f"filename=true, union_by_name=true)")
    return q


def copy_lake(lake: Path, database: str | None = None, schema: str = "lake") -> dict[str, int]:
    """Replace schema `schema` tables with the lake's tables; returns rows copied per table."""
    import duckdb
    import psycopg

    ensure_database(database)
    counts: dict[str, int] = {}
    src = duckdb.connect()
    with psycopg.connect(conninfo(database)) as con:
        con.execute(f'create schema if not exists "{schema}"')
        for table, query in _queries(Path(lake)).items():
            rel = src.sql(query)
            cols = [(name, PG_TYPES.get(str(typ), "text")) for name, typ in zip(rel.columns, rel.types)]
            ddl = ", ".join(f'"{c}" {t}' for c, t in cols)
            con.execute(f'drop table if exists "{schema}"."{table}" cascade')
            con.execute(f'create table "{schema}"."{table}" ({ddl})')
            names = ", ".join(f'"{c}"' for c, _ in cols)
            n = 0
            with con.cursor().copy(f'copy "{schema}"."{table}" ({names}) from stdin') as copy:
                reader = rel.to_arrow_reader(50_000)
                for batch in reader:
                    for row in zip(*(col.to_pylist() for col in batch.columns)):
                        copy.write_row(row)
                        n += 1
            counts[table] = n
            log.info("lake.%s: %d rows", table, n)
        con.commit()
    return counts
