"""The floor: DuckDB alone reading the month's raw files into tables, no validation.

What the platform's ingestion is compared with: the same inbox files, each feed
read by the plainest reader that takes it whole (`read_json`, `read_csv`, an
xlsx reader) into a table of a DuckDB database file, with no parsing against
the contract, no quarantine, no hashing and no quality suites.

Two feeds need help DuckDB cannot give offline: Taobao's GB18030 (DuckDB reads
only UTF-8, UTF-16 and Latin-1 without its `encodings` extension) is transcoded
to UTF-8 by Python, streaming; xlsx (the `excel` extension is not installed) is
read with python-calamine, the reader ingestion uses, and handed to DuckDB as Arrow.
Both costs count in the floor.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb
import pyarrow as pa
from python_calamine import CalamineWorkbook

from zhongwei.feeds.contract import (
    DOUYIN_SHEET, ENTERPRISE_SHEET, INFLUENCER_SHEET, OUTLET_SHEET, TAOBAO_ENCODING, TRAINING_SHEET,
)

CHUNK_CHARS = 1 << 20


def _transcode(paths: list[Path], folder: Path) -> list[Path]:
    """UTF-8 copies of the files, a chunk at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for path in paths:
        target = folder / path.name
        with open(path, encoding=TAOBAO_ENCODING, newline="") as src, open(target, "w", encoding="utf-8",
                                                                           newline="") as dst:
            shutil.copyfileobj(src, dst, CHUNK_CHARS)
        out.append(target)
    return out


def _column(values: list) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed cell types (numbers and blanks): as text
        return pa.array(["" if v is None else str(v) for v in values], pa.string())


def _sheet_table(path: Path, sheet: str) -> pa.Table:
    """A sheet from its header row (the first row with every cell filled, below any title rows)."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    start = next(i for i, row in enumerate(rows) if all(str(v).strip() for v in row))
    header, body = rows[start], rows[start + 1:]
    names = [f"{i}_{h}" for i, h in enumerate(header)]  # unique even where a title repeats
    return pa.table({n: _column([r[i] for r in body]) for i, n in enumerate(names)})


def _xlsx(con: duckdb.DuckDBPyConnection, table: str, paths: list[Path], sheet: str) -> None:
    """The sheet of every workbook, appended into one table."""
    for path in paths:
        con.register("sheet", _sheet_table(path, sheet))
        exists = con.execute("select count(*) from duckdb_tables() where table_name = ?", [table]).fetchone()[0]
        con.execute(f"insert into {table} by name select * from sheet" if exists
                    else f"create table {table} as select * from sheet")
        con.unregister("sheet")


def load(inbox: Path, database: Path, scratch: Path) -> dict[str, dict[str, float]]:
    """Every feed of the inbox into `database`: rows and CPU seconds (every thread) per table."""
    con = duckdb.connect(str(database))
    cpu: dict[str, float] = {}

    def files(pattern: str) -> list[Path]:
        return sorted(inbox.glob(pattern))

    def sql_list(paths: list[Path]) -> str:
        return "[" + ", ".join(f"'{p}'" for p in paths) + "]"

    def timed(table: str, read) -> None:
        start = time.process_time()
        read()
        cpu[table] = time.process_time() - start

    jsonl = {"courier_waybills": "courier/waybills*.jsonl", "courier_events": "courier/events*.jsonl",
             "zwyp_orders": "ecommerce/ZWYP/*.jsonl"}
    for table, pattern in jsonl.items():
        timed(table, lambda: con.execute(f"create table {table} as select * from read_json("
                                         f"{sql_list(files(pattern))}, format='newline_delimited')"))
    csvs = {"pdd_orders": lambda: files("ecommerce/PDD/*.csv"),
            "taobao_orders": lambda: _transcode(files("ecommerce/TAOBAO/*.csv"), scratch / "taobao-utf8")}
    for table, paths in csvs.items():
        timed(table, lambda: con.execute(f"create table {table} as select * from read_csv({sql_list(paths())}, "
                                         "header=true, union_by_name=true)"))
    sheets = {"douyin_order_lines": ("ecommerce/DOUYIN/*.xlsx", DOUYIN_SHEET),
              "outlets": ("outlets/*/*.xlsx", OUTLET_SHEET),
              "registry_enterprises": ("registry/*.xlsx", ENTERPRISE_SHEET),
              "registry_training_classes": ("registry/*.xlsx", TRAINING_SHEET),
              "registry_influencers": ("registry/*.xlsx", INFLUENCER_SHEET)}
    for table, (pattern, sheet) in sheets.items():
        timed(table, lambda: _xlsx(con, table, files(pattern), sheet))
    rows = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for (t,) in con.execute("show tables").fetchall()}
    con.close()
    return {"rows": rows, "cpu_s": {t: round(s, 3) for t, s in cpu.items()}}
