"""The floor: the month's raw files read into DuckDB tables by the fastest readers installed, no validation.

What the platform's ingestion is compared with: the same inbox files, each feed
read whole by the fastest reader installed into a table of a DuckDB database
file, with no parsing against the contract, no quarantine, no hashing and no
quality suites: DuckDB's C++ readers for JSON Lines (`read_json`) and CSV
(`read_csv`), and fastexcel (calamine in Rust, straight to Arrow) for xlsx.

Two feeds need help DuckDB cannot give offline, and both costs count in the floor:

- Taobao's GB18030: DuckDB reads only UTF-8, UTF-16 and Latin-1 without its
  `encodings` extension, which cannot be installed offline, so Python transcodes
  each file to UTF-8 first, streaming a chunk at a time. Decoding each file whole
  instead (read the bytes, `.decode()`, write) was measured and is no cheaper
  (2025-03 at scale 0.01, 31 files, 11 MB: 0.077 s of CPU streaming, 0.071-0.084 s
  whole, best of 9; one 88 MB file: 0.85 s streaming, 0.89-0.90 s whole), so the
  streaming copy stays, and its memory stays bounded.
- xlsx: the `excel` extension is not installed. fastexcel reads each sheet to an
  Arrow table of text cells (no Python object per cell), the header row is found
  in it (the first row with every cell filled, below any title rows) and the rows
  below it are handed to DuckDB. Cells stay text: typing them is ingestion's work.
"""
from __future__ import annotations

import functools
import shutil
import time
from pathlib import Path

import duckdb
import fastexcel
import pyarrow as pa
import pyarrow.compute as pc

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


def _filled(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """True where a cell holds more than blanks."""
    return pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0), False)


def _sheet_table(path: Path, sheet: str) -> pa.Table:
    """A sheet from its header row (the first row with every cell filled, below any title rows), as text."""
    cells = fastexcel.read_excel(path).load_sheet_by_name(sheet, header_row=None, dtypes="string").to_arrow()
    complete = functools.reduce(pc.and_, map(_filled, cells.columns))
    start = pc.index(complete, True).as_py()
    if start < 0:
        raise ValueError(f"{path} [{sheet}]: no row has every cell filled, so no header row")
    header = cells.slice(start, 1).to_pylist()[0].values()
    # unique even where a title repeats
    return cells.slice(start + 1).rename_columns([f"{i}_{h}" for i, h in enumerate(header)])


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
        # a platform's daily files share one header: matching columns by name (union_by_name)
        # would cost 3-4x the read itself and is no part of the fastest reading
        timed(table, lambda: con.execute(f"create table {table} as select * from read_csv({sql_list(paths())}, "
                                         "header=true)"))
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
