"""Types and value parsing shared by every feed parser.

A parser turns one file (or one API window) into a `ParsedBatch`: typed Arrow
tables ready for Parquet, the rejected records each with a reason code, warnings
about records that were kept, and the counts the load ledger needs
(`rows_arrived == rows_loaded + len(rejected) + duplicates`, checked on construction).

A record's key may occur once per file (`Collector.unique`): a repeat equal to the
first copy is counted as a duplicate and loads once; copies that differ are a
conflict, and every copy is quarantined (`conflicting_duplicate`).

Values are parsed by small functions that raise `RowError(reason, detail)`; the
parser loop turns that into a quarantine entry, so a bad cell never stops a file.
"""
from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from zhongwei.config import TIMEZONE
from zhongwei.exchange.contract import epoch_us
from zhongwei.feeds import reasons
from zhongwei.feeds.contract import IDENTIFIER_COLUMNS, PLAUSIBLE_YEARS, YES_NO
from zhongwei.feeds.pii import redact

LOCAL_TZ = ZoneInfo(TIMEZONE)
# Asia/Shanghai has been UTC+8 all year since 1992 (it kept summer time 1986-1991).
_FIXED_OFFSET_SINCE = 1992
_LOCAL_OFFSET = timedelta(hours=8)
UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
RAW_MAX_CHARS = 2000
MASKED_CELL = "***"
_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_LAST_SERIAL = 2958466  # 10000-01-01: Excel has no later dates
_FLOAT_EXACT_INT = 2**53  # larger integral floats may not be the digits the partner typed
_DASHES = re.compile(r"[\u2010-\u2015\u2212\uff0d]")
_WHITESPACE = re.compile(r"\s+")
_DECIMAL = re.compile(r"^([+-]?)([0-9]+)(?:\.([0-9]+))?$")
_INTEGER = re.compile(r"^[0-9]+$")
# Dates people type: 2023-05-01, 2023/5/1, 2023.5.1, 2023年5月1日, optionally with a time.
_LOOSE_DATETIME = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6}))?)?)?$"
)
# Cells that cannot hold a person's name or address; used when a row's fields cannot
# be matched to the header, so every other field is masked in the raw text.
_PLAIN_CELL = re.compile(r'^[\d\s.:/=+\-"]*$')


class FeedError(Exception):
    """A finding with a reason code from `reasons` and a detail for people."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class RowError(FeedError):
    """One record cannot be loaded; the rest of the file can."""


class FileError(FeedError):
    """The whole file cannot be loaded."""


@dataclass(frozen=True)
class Rejected:
    """A quarantined record, a warning about a kept record, or a file-level failure.

    `location` says where a person finds it (`orders_20250304.csv:line 7`,
    `网点台账_202503.xlsx:sheet 网点台账 row 12`); `raw` is the record's text with
    personal information masked, so the quarantine can be shown to anyone.
    """

    location: str
    reason: str
    detail: str
    raw: str | None = None


ISSUE_SCHEMA = pa.schema([
    ("location", pa.string()), ("reason", pa.string()), ("detail", pa.string()), ("raw", pa.string()),
])


def issues_table(issues: Sequence[Rejected]) -> pa.Table:
    """Rejected records or warnings as an Arrow table for the quarantine Parquet."""
    return pa.Table.from_pylist(
        [{"location": i.location, "reason": i.reason, "detail": i.detail, "raw": i.raw} for i in issues],
        schema=ISSUE_SCHEMA,
    )


@dataclass
class ParsedBatch:
    """What one file or API window yielded.

    rows_arrived counts physical records (CSV rows, JSON lines, sheet rows, API
    records) that are not blank and not a totals row; `rows_ignored` counts those.
    Every arrived record is loaded, rejected, or a duplicate (a repeat, equal to a
    loaded record of the same key, that is not loaded again). A file-level failure sets
    `file_error`, leaves every table empty and counts nothing as arrived: the file
    is quarantined whole.
    """

    tables: dict[str, pa.Table]
    rows_arrived: int
    rows_loaded: int
    rejected: list[Rejected] = field(default_factory=list)
    warnings: list[Rejected] = field(default_factory=list)
    file_error: Rejected | None = None
    rows_ignored: int = 0
    duplicates: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rows_arrived != self.rows_loaded + len(self.rejected) + self.duplicates:
            raise ValueError(
                f"accounting broken: arrived {self.rows_arrived} != loaded {self.rows_loaded}"
                f" + rejected {len(self.rejected)} + duplicates {self.duplicates}"
            )

    @classmethod
    def failed(cls, error: Rejected, schemas: Mapping[str, pa.Schema], **metadata: Any) -> ParsedBatch:
        """The batch of a file that could not be read at all."""
        return cls(
            tables={name: schema.empty_table() for name, schema in schemas.items()},
            rows_arrived=0, rows_loaded=0, file_error=error, metadata=dict(metadata),
        )

    def reason_counts(self) -> dict[str, int]:
        """Rejected records per reason, for the load ledger."""
        return dict(Counter(r.reason for r in self.rejected))

    def rejected_table(self) -> pa.Table:
        return issues_table(self.rejected + ([self.file_error] if self.file_error else []))

    def warnings_table(self) -> pa.Table:
        return issues_table(self.warnings)


@dataclass(slots=True)
class Candidate:
    """A record that passed the contract, before the file is known to hold its key once.

    `value` is what the parser keeps of it; `key` the fields the record is unique on.
    """

    location: str
    key: tuple[object, ...]
    value: Any
    raw: Callable[[], str]
    notes: Sequence[tuple[str, str]] = ()


class Collector:
    """Counts and issues of one batch while it is parsed; `finish` builds the batch."""

    def __init__(self) -> None:
        self.arrived = 0
        self.loaded = 0
        self.duplicates = 0
        self.ignored: Counter[str] = Counter()  # kind of row ('blank', 'totals') -> count
        self.rejected: list[Rejected] = []
        self.warnings: list[Rejected] = []

    def reject(self, location: str, error: RowError, raw: str | None) -> None:
        self.rejected.append(Rejected(location, error.reason, error.detail, raw))

    def accept(self, location: str, notes: Sequence[tuple[str, str]], raw: Callable[[], str]) -> None:
        """Count a loaded record and keep the warnings (reason, detail) it earned."""
        self.loaded += 1
        if notes:
            text = raw()
            self.warnings.extend(Rejected(location, reason, detail, text) for reason, detail in notes)

    def unique(
        self, candidates: Sequence[Candidate], key_label: str, content: Callable[[Any], object],
    ) -> tuple[list[Candidate], list[Candidate]]:
        """(kept, conflicting): each key once, in file order; nothing is accepted yet.

        A later copy whose `content` (the record as parsed, its position aside) equals the
        first copy's is a duplicate: counted, not kept. When the copies of a key differ,
        the file cannot say which holds: every copy is rejected as `conflicting_duplicate`.
        """
        copies: dict[tuple[object, ...], list[Candidate]] = {}
        for candidate in candidates:
            copies.setdefault(candidate.key, []).append(candidate)
        if len(copies) == len(candidates):  # the usual file: no key twice
            return list(candidates), []
        kept, conflicting = [], []
        for key, group in copies.items():
            if len(group) == 1:  # most keys even here: nothing to compare
                kept.append(group[0])
                continue
            first = content(group[0].value)
            if all(content(c.value) == first for c in group[1:]):
                kept.append(group[0])
                self.duplicates += len(group) - 1
                continue
            shown = "/".join(map(str, key))
            where = ", ".join(c.location for c in group)
            for c in group:
                detail = f"{key_label} {shown} occurs {len(group)} times with different values ({where})"
                self.reject(c.location, RowError(reasons.CONFLICTING_DUPLICATE, detail), c.raw())
            conflicting += group
        return kept, conflicting  # keys in the order they first appear: the file's order

    def accept_all(self, candidates: Sequence[Candidate]) -> list[Any]:
        """Accept the candidates; their values."""
        for c in candidates:
            self.accept(c.location, c.notes, c.raw)
        return [c.value for c in candidates]

    def finish(self, tables: dict[str, pa.Table], **metadata: Any) -> ParsedBatch:
        return ParsedBatch(
            tables=tables, rows_arrived=self.arrived, rows_loaded=self.loaded,
            rejected=self.rejected, warnings=self.warnings, rows_ignored=self.ignored.total(),
            duplicates=self.duplicates, metadata={**metadata, "ignored_rows": dict(self.ignored)},
        )


def read_file_guarded(
    path: Path, schemas: Mapping[str, pa.Schema], parse: Callable[[], ParsedBatch], **metadata: Any,
) -> ParsedBatch:
    """Run a file parser; a `FileError` becomes a failed batch naming the file."""
    try:
        return parse()
    except FileError as error:
        return ParsedBatch.failed(Rejected(path.name, error.reason, error.detail), schemas, **metadata)


def build_table(rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows (dicts holding at least the schema's keys) as an Arrow table of that schema.

    The rows are transposed into columns by `itemgetter` and `zip`, in C: a Python
    loop per cell was a tenth of ingestion when every feed was built this way. Aware
    datetimes are handed to Arrow as epoch microseconds: Arrow converts datetime
    objects ~100x slower.
    """
    if not rows:
        return schema.empty_table()
    names = schema.names
    cells = map(itemgetter(*names), rows) if len(names) > 1 else ((row[names[0]],) for row in rows)
    columns = {}
    for field, values in zip(schema, zip(*cells)):
        if pa.types.is_timestamp(field.type):
            values = [None if v is None else epoch_us(v) for v in values]
        columns[field.name] = values
    return pa.Table.from_pydict(columns, schema=schema)


# ---------------------------------------------------------------- text


def norm_text(value: object) -> str:
    """NFKC + strip of a cell or field ('' for empty); exact digits for integral numbers.

    xlsx readers hand numbers over as floats: an id typed as a number comes back
    as 4410928.0, and a 19-digit one as a float that no longer holds its digits,
    which is refused rather than rounded.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip() if value.isascii() else unicodedata.normalize("NFKC", value).strip()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            if abs(value) >= _FLOAT_EXACT_INT:
                raise RowError(reasons.MALFORMED_RECORD, f"number {value!r} was stored as a float; its digits are lost")
            return str(int(value))
        return repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def label_text(value: object) -> str:
    """Text of a header, title or marker cell; unlike `norm_text` it never refuses a value."""
    if isinstance(value, str):
        return norm_text(value)
    return "" if value is None else str(value)


def norm_code(value: object) -> str:
    """A code typed by hand: NFKC, any dash as '-', no spaces, upper case."""
    return _WHITESPACE.sub("", _DASHES.sub("-", norm_text(value))).upper()


def optional_text(value: object) -> str | None:
    text = norm_text(value)
    return text or None


def required_text(value: object, name: str) -> str:
    text = norm_text(value)
    if not text:
        raise RowError(reasons.MALFORMED_RECORD, f"{name} is missing or empty")
    return text


def enum_value(value: object, name: str, allowed: Collection[str]) -> str:
    """A value from a closed list (compared after NFKC); anything else is malformed."""
    text = required_text(value, name)
    if text not in allowed:
        raise RowError(reasons.MALFORMED_RECORD, f"{name} {text!r} is not one of {sorted(allowed)}")
    return text


def nfkc_keys(mapping: Mapping[str, str]) -> dict[str, str]:
    """A lookup table keyed the way `norm_text` normalises what partners write."""
    return {unicodedata.normalize("NFKC", key): value for key, value in mapping.items()}


def yes_no(value: object, name: str) -> bool:
    """是/否 cell as a bool."""
    if isinstance(value, bool):
        return value
    return YES_NO[enum_value(value, name, YES_NO)]


# ---------------------------------------------------------------- numbers


def to_fen(value: object, name: str, *, strings_only: bool = False, default: int | None = None) -> int:
    """A CNY amount as integer fen, exactly.

    Decimal strings are converted with integer arithmetic, never through a float
    (more than two decimals is refused: fen cannot hold it); xlsx floats are
    rounded to the nearest fen. `strings_only` enforces the JSON contracts'
    "string decimal" type. Empty gives `default`, or is malformed without one.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is not None:
            return default
        raise RowError(reasons.MALFORMED_RECORD, f"{name} is missing or empty")
    if isinstance(value, str):
        text = norm_text(value)
        match = _DECIMAL.match(text)
        if match is None:
            raise RowError(reasons.BAD_AMOUNT, f"{name} {text!r} is not a decimal amount")
        sign, yuan, fraction = match.groups()
        fraction = (fraction or "").rstrip("0")
        if len(fraction) > 2:
            raise RowError(reasons.BAD_AMOUNT, f"{name} {text!r} has fractions of a fen")
        amount = int(yuan) * 100 + int(fraction.ljust(2, "0"))  # exact: integer arithmetic only
        if sign == "-" and amount:
            raise RowError(reasons.BAD_AMOUNT, f"{name} {text!r} is negative")
        return amount
    if strings_only:
        raise RowError(reasons.MALFORMED_RECORD, f"{name} must be a decimal string, got {type(value).__name__}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RowError(reasons.BAD_AMOUNT, f"{name} {value!r} is not numeric")
    if isinstance(value, float) and not math.isfinite(value):
        raise RowError(reasons.BAD_AMOUNT, f"{name} {value!r} is not a number")
    if value < 0:
        raise RowError(reasons.BAD_AMOUNT, f"{name} {value!r} is negative")
    return value * 100 if isinstance(value, int) else round(value * 100)


def to_count(value: object, name: str, *, minimum: int, ints_only: bool = False) -> int:
    """A whole quantity (pieces, grams, people) of at least `minimum`.

    `ints_only` enforces a JSON contract's integer type (anything else is
    malformed); otherwise integral floats and digit strings are accepted.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RowError(reasons.MALFORMED_RECORD, f"{name} is missing or empty")
    if isinstance(value, bool) or (ints_only and not isinstance(value, int)):
        raise RowError(reasons.MALFORMED_RECORD, f"{name} must be an integer, got {value!r}")
    if isinstance(value, str):
        text = norm_text(value)
        sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text)
        if not _INTEGER.match(digits):
            raise RowError(reasons.BAD_AMOUNT, f"{name} {text!r} is not a whole number")
        count = sign * int(digits)
    elif isinstance(value, int):
        count = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        count = int(value)
    else:
        raise RowError(reasons.BAD_AMOUNT, f"{name} {value!r} is not a whole number")
    if count < minimum:
        raise RowError(reasons.BAD_AMOUNT, f"{name} {count} is below {minimum}")
    return count


def to_float(value: object, name: str) -> float | None:
    """A decimal number (coordinates); empty gives None, text like '105.7201 ' is fine."""
    if isinstance(value, bool):
        raise RowError(reasons.MALFORMED_RECORD, f"{name} {value!r} is not a number")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = norm_text(value)
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            raise RowError(reasons.MALFORMED_RECORD, f"{name} {text!r} is not a number") from None
    if not math.isfinite(number):
        raise RowError(reasons.MALFORMED_RECORD, f"{name} {value!r} is not a number")
    return number


# ---------------------------------------------------------------- dates and times


def _plausible(moment: datetime, name: str, text: object) -> datetime:
    if not PLAUSIBLE_YEARS[0] <= moment.year < PLAUSIBLE_YEARS[1]:
        raise RowError(reasons.BAD_TIMESTAMP, f"{name} {text!r} is outside {PLAUSIBLE_YEARS[0]}-{PLAUSIBLE_YEARS[1]}")
    return moment


def _from_excel_serial(serial: float, name: str) -> datetime:
    if not 0 < serial < _EXCEL_LAST_SERIAL:
        raise RowError(reasons.BAD_TIMESTAMP, f"{name} {serial!r} is not an Excel date")
    return _EXCEL_EPOCH + timedelta(seconds=round(serial * 86400))


def _parse_text_moment(text: str, name: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _LOOSE_DATETIME.match(text)
    if match is None:
        raise RowError(reasons.BAD_TIMESTAMP, f"{name} {text!r} is not a date/time")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            int((fraction or "0").ljust(6, "0")),
        )
    except ValueError as exc:
        raise RowError(reasons.BAD_TIMESTAMP, f"{name} {text!r} is impossible ({exc})") from None


def _moment(value: object, name: str, *, excel: bool) -> datetime | None:
    """A naive or aware datetime from a cell/field; None when empty."""
    if isinstance(value, str):
        text = norm_text(value)
        return _parse_text_moment(text, name) if text else None
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if excel and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_excel_serial(float(value), name)
    raise RowError(reasons.MALFORMED_RECORD, f"{name} must be a date/time string, got {value!r}")


def to_instant(
    value: object, name: str, *, required: bool = True, require_offset: bool = False, excel: bool = False,
) -> datetime | None:
    """A point in time as an aware UTC datetime.

    Local times without an offset are Asia/Shanghai (the e-commerce contract);
    `require_offset` refuses them (the courier contract). `excel` also accepts
    date serial numbers.
    """
    moment = _moment(value, name, excel=excel)
    if moment is None:
        if required:
            raise RowError(reasons.MALFORMED_RECORD, f"{name} is missing or empty")
        return None
    _plausible(moment, name, value)
    if moment.tzinfo is not None:
        return moment.astimezone(timezone.utc)
    if require_offset:
        raise RowError(reasons.BAD_TIMESTAMP, f"{name} {value!r} has no UTC offset")
    if moment.year >= _FIXED_OFFSET_SINCE:
        return moment.replace(tzinfo=timezone.utc) - _LOCAL_OFFSET  # the fast path of the same conversion
    return moment.replace(tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def to_date(value: object, name: str, *, required: bool = True) -> date | None:
    """A calendar date written any way the ledgers write it (text, Excel date or serial)."""
    moment = _moment(value, name, excel=True)
    if moment is None:
        if required:
            raise RowError(reasons.MALFORMED_RECORD, f"{name} is missing or empty")
        return None
    return _plausible(moment, name, value).date()


def to_year(value: object, name: str) -> int | None:
    """A year cell (2023, 2023.0, '2023', '2023年'); empty gives None."""
    text = norm_text(value).removesuffix("年")
    if not text:
        return None
    if not _INTEGER.match(text):
        raise RowError(reasons.BAD_TIMESTAMP, f"{name} {text!r} is not a year")
    return _plausible(datetime(int(text), 1, 1), name, value).year


# ---------------------------------------------------------------- files and raw text


def file_stamp(path: Path, pattern: re.Pattern[str], fmt: str) -> date:
    """The date a partner file's name carries (`orders_20250304.csv`, `..._202503.xlsx`)."""
    match = pattern.fullmatch(path.name)
    if match is None:
        raise FileError(reasons.UNREADABLE_FILE, f"file name {path.name!r} does not match {pattern.pattern}")
    try:
        return datetime.strptime(match.group(1), fmt).date()
    except ValueError:
        raise FileError(reasons.UNREADABLE_FILE, f"file name {path.name!r} holds an impossible date") from None


def raw_row(values: Sequence[object], header: Sequence[str], pii_columns: Collection[str]) -> str:
    """A tabular record as CSV text with personal information masked.

    When the row has the header's width, the cells of personal columns become
    '***', phone numbers in the other cells are masked, and identifiers (order and
    waybill numbers, codes: `IDENTIFIER_COLUMNS`) stay as written. When it does not
    (a broken row), cells cannot be matched to columns, so every cell that could
    hold a name or address is masked, and every phone-like number.
    """
    aligned = len(values) == len(header)
    cells = []
    for index, value in enumerate(values):
        text = "" if value is None else str(value)
        if text and (header[index] in pii_columns if aligned else not _PLAIN_CELL.match(text)):
            text = MASKED_CELL
        elif text and aligned and header[index] not in IDENTIFIER_COLUMNS:
            text = redact(text) or ""
        cells.append(text)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    line = buffer.getvalue()
    return clip(line if aligned else redact(line) or "")


def clip(text: str) -> str:
    """Raw text short enough for a quarantine row."""
    return text if len(text) <= RAW_MAX_CHARS else text[:RAW_MAX_CHARS] + "…"
