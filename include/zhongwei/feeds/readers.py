"""Reading partner files, with the file-level checks done first.

Each reader validates what makes a file unreadable as a whole (empty or cut
bytes, wrong encoding, missing sheet or columns) before it returns, raising
`FileError`; only then are records produced: as columns for the order exports
(`TextColumns` for CSV and sheets, `JsonLines` for JSON Lines), as one `Record`
per row for the county ledgers (`sheet_records`). Blank rows are counted as
ignored, not as arrived.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from python_calamine import CalamineWorkbook

from zhongwei.feeds import reasons
from zhongwei.feeds.common import Collector, FileError, Rejected, RowError, clip, label_text, norm_text, raw_row
from zhongwei.feeds.pii import redact_json_line

ZIP_MAGIC = b"PK\x03\x04"
UTF8_BOM = b"\xef\xbb\xbf"
REPLACEMENT_CHAR = "\ufffd"
BLANK = "blank"
# Says which rows are not records (e.g. a ledger's totals row): the kind, or None.
Classifier = Callable[[Sequence[object]], str | None]


@dataclass(slots=True)
class Record:
    """One physical record: where it is, its data, and how to show it redacted.

    `data` is a dict keyed by (NFKC) header name.
    """

    location: str
    number: int
    data: Any
    _raw: Callable[[], str]

    def raw(self) -> str:
        return self._raw()


def _blank(values: Sequence[object]) -> bool:
    # a loop, not all(<generator>): this runs once per row of every file
    for v in values:
        if v is not None and not (isinstance(v, str) and not v.strip()):
            return False
    return True


def missing_columns(header: Sequence[str], columns: Sequence[str]) -> list[str]:
    """The contract's columns (as the contract spells them) that the header lacks."""
    present = set(header)
    return [c for c in columns if norm_text(c) not in present]


def _tabular_records(
    rows: Iterator[tuple[int, Sequence[object]]], header: list[str], prefix: str,
    pii_columns: Collection[str], col: Collector, classify: Classifier | None = None,
) -> Iterator[Record]:
    """Records of data rows; `prefix` + row number is a record's location."""
    width = len(header)
    for number, values in rows:
        kind = BLANK if _blank(values) else classify(values) if classify else None
        if kind is not None:
            col.ignored[kind] += 1
            continue
        col.arrived += 1
        location = f"{prefix}{number}"
        raw = (lambda v=values: raw_row(v, header, pii_columns))
        error = _shape_error(values, width, undecodable=False)
        if error is not None:
            col.reject(location, error, raw())
            continue
        yield Record(location, number, dict(zip(header, values)), raw)


def _shape_error(values: Sequence[object], width: int, undecodable: bool) -> RowError | None:
    """Why a row cannot be matched to the header, if it cannot."""
    if len(values) != width:
        return RowError(reasons.MALFORMED_RECORD, f"{len(values)} fields, the header has {width}")
    if undecodable and any(isinstance(v, str) and REPLACEMENT_CHAR in v for v in values):
        return RowError(reasons.MALFORMED_RECORD, "bytes that are not valid in the file's encoding")
    return None


@dataclass
class TextColumns:
    """The records of a tabular file as text columns, after the reader's own checks.

    Record `i` (0-based among the records that have the header's shape) is physical
    row `numbers[i]`; `rejected` holds the rows the reader refused, with their row numbers.
    """

    header: list[str]
    prefix: str
    pii_columns: Collection[str]
    numbers: list[int] = field(default_factory=list)
    rows: list[Sequence[object]] = field(default_factory=list)
    rejected: list[tuple[int, Rejected]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def columns(self) -> dict[str, pa.Array | tuple[object, ...]]:
        """Each header column as an Arrow text column (transposed in C, not per cell); a sheet's
        column that holds other cells (numbers, dates, None) stays a tuple of its cells as read."""
        if not self.rows:
            return {name: pa.array([], pa.string()) for name in self.header}
        return {name: pa.array(cells, pa.string()) if set(map(type, cells)) == {str} else cells
                for name, cells in zip(self.header, zip(*self.rows))}

    def location(self, record: int) -> str:
        return f"{self.prefix}{self.numbers[record]}"

    def raw(self, record: int) -> str:
        return raw_row(self.rows[record], self.header, self.pii_columns)


def csv_columns(
    path: Path, *, encoding: str, columns: Sequence[str], other_encodings: Sequence[str],
    pii_columns: Collection[str], col: Collector,
) -> TextColumns:
    """A CSV export whose header holds every contract column, as text columns.

    A header that only reads right in one of `other_encodings` is `wrong_encoding`;
    otherwise missing columns are `schema_mismatch`. Undecodable bytes elsewhere
    only spoil their own row.
    """
    header, lines, undecodable = _csv_lines(path, encoding, columns, other_encodings)
    return _text_columns(_csv_rows(lines), TextColumns(header, f"{path.name}:line ", pii_columns), col, undecodable)


def _text_columns(
    rows: Iterator[tuple[int, Sequence[object]]], table: TextColumns, col: Collector, undecodable: bool = False,
) -> TextColumns:
    """`table` filled with the rows, after the checks `_tabular_records` makes."""
    width = len(table.header)
    for number, values in rows:
        if _blank(values):
            col.ignored[BLANK] += 1
            continue
        col.arrived += 1
        error = _shape_error(values, width, undecodable)
        if error is not None:
            location = f"{table.prefix}{number}"
            table.rejected.append((number, Rejected(location, error.reason, error.detail,
                                                    raw_row(values, table.header, table.pii_columns))))
            continue
        table.numbers.append(number)
        table.rows.append(values)
    return table


def _csv_lines(
    path: Path, encoding: str, columns: Sequence[str], other_encodings: Sequence[str],
) -> tuple[list[str], list[str], bool]:
    """(header, the lines after it, whether any bytes failed to decode), after the file checks."""
    data = path.read_bytes()
    if not data:
        raise FileError(reasons.TRUNCATED_FILE, "the file is empty")
    text = data.decode(encoding, errors="replace")
    # The exports hold one record per line (no field spans lines), so each line is
    # read on its own: a quote a partner left open spoils its own row, not the rest.
    lines = text.splitlines()
    header = [norm_text(h) for h in next(csv.reader(lines[:1]), [])]
    missing = missing_columns(header, columns)
    if missing:
        first_line = data.split(b"\n", 1)[0]
        for other in other_encodings:
            try:
                other_header = next(csv.reader([first_line.decode(other).rstrip("\r")]), [])
            except UnicodeDecodeError:
                continue
            if not missing_columns([norm_text(h) for h in other_header], columns):
                raise FileError(reasons.WRONG_ENCODING, f"the file is {other}, the contract says {encoding}")
        raise FileError(reasons.SCHEMA_MISMATCH, f"missing columns: {', '.join(missing)}")
    return header, lines[1:], REPLACEMENT_CHAR in text


def _csv_rows(lines: list[str]) -> Iterator[tuple[int, Sequence[object]]]:
    """(physical line number, fields) of each line after the header.

    One reader reads all the lines (a reader per line cost a fifth of parsing a
    file); a row it took from more than one line (a quote left open) or could not
    read is read again line by line, so that it spoils only its own line.
    """
    reader = csv.reader(lines, strict=True)
    done = 0  # lines the reader has consumed
    while True:
        try:
            fields: list[str] | None = next(reader)
        except StopIteration:
            return
        except csv.Error:
            fields = None
        if fields is not None and reader.line_num == done + 1:
            yield done + 2, fields
        else:
            for index in range(done, reader.line_num):
                yield index + 2, _line_fields(lines[index])
        done = reader.line_num


def _line_fields(line: str) -> list[str]:
    try:
        return next(csv.reader([line], strict=True), [])
    except csv.Error as exc:
        return [f"<csv error: {exc}>"]


def open_workbook(path: Path) -> CalamineWorkbook:
    """An xlsx workbook; cut or corrupt zip bytes are `truncated_file`."""
    data = path.read_bytes()
    if not data:
        raise FileError(reasons.TRUNCATED_FILE, "the file is empty")
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several types for broken zips and XML
        reason = reasons.TRUNCATED_FILE if data.startswith(ZIP_MAGIC) else reasons.UNREADABLE_FILE
        raise FileError(reason, f"not a readable xlsx workbook: {exc}") from None


def sheet_rows(workbook: CalamineWorkbook, sheet: str) -> list[list[object]]:
    """All rows of a sheet from A1, so that list index + 1 is the Excel row number."""
    if sheet not in workbook.sheet_names:
        present = ", ".join(workbook.sheet_names)
        raise FileError(reasons.SCHEMA_MISMATCH, f"sheet {sheet!r} is missing (sheets: {present})")
    try:
        return workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except Exception as exc:  # a damaged part inside an otherwise readable zip
        raise FileError(reasons.TRUNCATED_FILE, f"sheet {sheet!r} cannot be read: {exc}") from None


def sheet_records(
    path: Path, sheet: str, rows: list[list[object]], header_row: int, *, columns: Sequence[str],
    pii_columns: Collection[str], col: Collector, classify: Classifier | None = None,
) -> Iterator[Record]:
    """Records below the header row (0-based index into `rows`) of a sheet.

    Locations read `<file>:sheet <sheet> row <Excel row number>`.
    """
    header, numbered = _sheet_body(sheet, rows, header_row, columns)
    return _tabular_records(numbered, header, f"{path.name}:sheet {sheet} row ", pii_columns, col, classify)


def sheet_columns(
    path: Path, sheet: str, rows: list[list[object]], header_row: int, *, columns: Sequence[str],
    pii_columns: Collection[str], col: Collector,
) -> TextColumns:
    """The records of `sheet_records` (no classifier) as columns of the cells as read."""
    header, numbered = _sheet_body(sheet, rows, header_row, columns)
    return _text_columns(numbered, TextColumns(header, f"{path.name}:sheet {sheet} row ", pii_columns), col)


def _sheet_body(
    sheet: str, rows: list[list[object]], header_row: int, columns: Sequence[str],
) -> tuple[list[str], Iterator[tuple[int, Sequence[object]]]]:
    """(header, (Excel row number, cells) of each row below it), once the header has every contract column."""
    header = [label_text(h) for h in rows[header_row]] if header_row < len(rows) else []
    missing = missing_columns(header, columns)
    if missing:
        raise FileError(reasons.SCHEMA_MISMATCH, f"sheet {sheet}: missing columns: {', '.join(missing)}")
    return header, ((index + 1, values) for index, values in enumerate(rows) if index > header_row)


@dataclass
class JsonLines:
    """The non-blank lines of a JSON Lines file (not yet decoded), after `jsonl_lines`' file checks.

    Record `i` is physical line `numbers[i]`; the reader rejects no line itself.
    """

    prefix: str
    numbers: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    rejected: list[tuple[int, Rejected]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)

    def location(self, record: int) -> str:
        return f"{self.prefix}{self.numbers[record]}"

    def raw(self, record: int) -> str:
        return jsonl_raw(self.lines[record])


def jsonl_lines(path: Path, col: Collector, *, other_encodings: Sequence[str] = ("gb18030",)) -> JsonLines:
    """One record per non-blank line (text, not yet decoded); a BOM is tolerated.

    A file in which no non-ASCII line is UTF-8 but which reads cleanly in one of
    `other_encodings` is `wrong_encoding`; otherwise invalid bytes (a damaged or
    cut line) only spoil their own line. Lines are split on newlines only (JSON
    strings may hold U+2028, which `splitlines` would break on). An empty file is a day without records, not an error.
    """
    table = JsonLines(f"{path.name}:line ")
    for number, line in _nonblank_lines(_jsonl_lines(path, other_encodings), col):
        table.numbers.append(number)
        table.lines.append(line)
    return table


def jsonl_raw(line: str) -> str:
    """A JSON line as a quarantine shows it: redacted and clipped."""
    return clip(redact_json_line(line) or "")


def _jsonl_lines(path: Path, other_encodings: Sequence[str]) -> list[str]:
    """The file's lines as text, after the file checks (see `jsonl_lines`)."""
    data = path.read_bytes().removeprefix(UTF8_BOM)
    chunks = data.split(b"\n")
    if chunks and not chunks[-1]:
        chunks.pop()
    cut_at_end = not data.endswith(b"\n")
    lines, bad_lines, good_non_ascii = [], 0, False
    for index, chunk in enumerate(chunks):
        try:
            # A last line cut inside a character is a cut line, not another encoding.
            final = not (cut_at_end and index == len(chunks) - 1)
            line = codecs.getincrementaldecoder("utf-8")().decode(chunk, final=final)
            good_non_ascii = good_non_ascii or not chunk.isascii()
        except UnicodeDecodeError:
            line = chunk.decode("utf-8", errors="replace")
            bad_lines += 1
        lines.append(line.removesuffix("\r"))
    if bad_lines and not good_non_ascii:
        for other in other_encodings:
            try:
                data.decode(other)
            except UnicodeDecodeError:
                continue
            raise FileError(reasons.WRONG_ENCODING, f"the file is {other}, the contract says UTF-8")
    return lines


def _nonblank_lines(lines: list[str], col: Collector) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line; blank ones are counted as ignored."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            col.ignored[BLANK] += 1
            continue
        col.arrived += 1
        yield number, line


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def decode_json_object(text: str) -> dict[str, Any]:
    """A JSON Lines record that must be an object; cut or invalid lines are malformed."""
    if REPLACEMENT_CHAR in text:
        raise RowError(reasons.MALFORMED_RECORD, "bytes that are not valid UTF-8")
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise RowError(reasons.MALFORMED_RECORD, f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise RowError(reasons.MALFORMED_RECORD, f"a JSON {type(value).__name__}, not an object")
    return value
