"""Contract rules on whole columns: the engine the order exports and the courier records are parsed with.

A file becomes one column per contract column: Arrow text, or, for a sheet's
column that holds numbers, dates or empties and for a field of decoded JSON
records, a sequence of the values as read, so that every rule still sees each
value's exact type. Each rule runs once over a column (Arrow compute is the engine):

- vectorised where Arrow expresses the rule: the common timestamp spellings
  (`2025-03-04 12:30:00`, `2025-03-04T12:30:00+08:00`) are parsed by `strptime`
  and shifted to UTC in one pass;
- otherwise once per *distinct* cell value, with the very scalar rule of
  `zhongwei.feeds.common` (`to_fen`, `to_instant`, `norm_text`, ...). Statuses,
  amounts, shops and regions repeat thousands of times in a file, so this is a
  few thousand calls, not one per record; and a value, its reason code and its
  detail text come from one evaluation, the same one the contract tests pin.

A row's reason is the first failing rule in the order the contract's fields are
checked (`Rules.first_errors`): a record with two bad cells is quarantined for
the first.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zhongwei.feeds.common import UTC_TIMESTAMP, RowError, norm_text

# What `str.strip()` strips, so that Arrow trims exactly what the scalar rules trim.
PY_WHITESPACE = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
# The spellings nearly every timestamp arrives in: local `2025-03-04 12:30:00` (the CSV
# exports) and ISO 8601 with an offset `2025-03-04T12:30:00+08:00` (JSON); anything else
# (and any offset `datetime.fromisoformat` would refuse) takes the scalar rule.
_COMMON_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}([+-]([01]\d|2[0-3]):[0-5]\d)?$"
_COMMON_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
_LOCAL_TIME_CHARS = 19  # 2025-03-04 12:30:00
_LOCAL_OFFSET = "+08:00"
# Amounts Arrow converts exactly (decimal128, never a float): digits, at most two places.
_PLAIN_AMOUNT = r"^[0-9]{1,15}(\.[0-9]{1,2})?$"
_CENTS = pa.decimal128(18, 2)
# Local times from 1992 on are UTC+8 (Asia/Shanghai kept summer time until 1991).
_FIXED_OFFSET_YEARS = (1992, 2100)
_FLOAT_EXACT_INT = 2**53  # floats below are whole numbers int64 holds exactly


@dataclass
class Checked:
    """A rule's result on a column: the values (null where the rule failed) and the failures by row."""

    values: pa.Array
    errors: dict[int, RowError] = field(default_factory=dict)
    # Rows whose value the rule gave but the Arrow type cannot hold (an amount of 1e30 yuan, a lone
    # surrogate from a JSON escape), with why: null here, and fatal only if the row is loaded
    # (`Rules.check_loaded`): no table can hold it, and a batch is never half-written.
    unfit: dict[int, Exception] = field(default_factory=dict)


Cells = pa.Array | Sequence[Any]
"""A column: Arrow text, or values as read: a sheet's cells (str, float, int, bool, datetime, None) or a
field of decoded JSON records (also dict and list)."""


def _distinct(cells: Cells) -> tuple[list[Any], pa.Array]:
    """(distinct values in order of first appearance, each cell's index into them); nulls are a value too."""
    if not isinstance(cells, pa.Array) and set(map(type, cells)) <= {str, type(None)}:  # text: encoded in C
        try:
            cells = pa.array(cells, pa.string())
        except (pa.ArrowException, UnicodeEncodeError):
            pass  # a lone surrogate: keyed below
    if isinstance(cells, pa.Array):
        encoded = cells.dictionary_encode(null_encoding="encode")
        return encoded.dictionary.to_pylist(), encoded.indices
    # Keyed by (type, str) in C maps: 1, 1.0 and True are equal dict keys, and so are 0.0 and -0.0,
    # yet the scalar rules tell them apart (`str` is exact for every type a sheet or JSON holds).
    keys = list(zip(map(type, cells), map(str, cells)))
    firsts = dict(zip(keys, cells))
    codes = dict(zip(firsts, range(len(firsts))))
    return list(firsts.values()), pa.array(list(map(codes.__getitem__, keys)), pa.int32())


def per_distinct(cells: Cells, rule: Callable[[Any], Any], type_: pa.DataType) -> Checked:
    """`rule` applied once to each distinct cell value; its RowErrors become the failing rows'."""
    distinct, codes = _distinct(cells)
    outcomes, failed = [], {}
    for code, value in enumerate(distinct):
        try:
            outcomes.append(rule(value))
        except RowError as error:
            outcomes.append(None)
            failed[code] = error
    held, unfit = _held(outcomes, type_)
    values = held.take(codes)
    if not failed and not unfit:
        return Checked(values)
    codes_list = codes.to_numpy(zero_copy_only=False)
    return Checked(values, _by_row(codes_list, failed), _by_row(codes_list, unfit))


def _by_row(codes: np.ndarray, by_code: dict[int, Any]) -> dict[int, Any]:
    rows = np.flatnonzero(np.isin(codes, list(by_code))) if by_code else []
    return {int(row): by_code[int(codes[row])] for row in rows}


_UNHELD = (OverflowError, pa.ArrowException, UnicodeEncodeError)


def _held(outcomes: list[Any], type_: pa.DataType) -> tuple[pa.Array, dict[int, Exception]]:
    """The outcomes as an Arrow array, null where `type_` cannot hold one; which those are, and why.

    Nearly always none, and only then is each outcome tried on its own.
    """
    try:
        return pa.array(outcomes, type_), {}
    except _UNHELD:
        unfit = {}
        for code, value in enumerate(outcomes):
            try:
                pa.array([value], type_)
            except _UNHELD as error:
                unfit[code] = error
        return pa.array([None if code in unfit else v for code, v in enumerate(outcomes)], type_), unfit


def text_part(cells: Cells) -> pa.Array:
    """The text cells of a column as Arrow text, null where a cell is not text.

    Strings Arrow cannot hold (lone surrogates, which JSON escapes can produce) are
    null too, so that they take the scalar rule with the rest.
    """
    if isinstance(cells, pa.Array):
        return cells
    try:
        return pa.array(cells, pa.string())
    except (pa.ArrowException, UnicodeEncodeError):
        return pa.array([v if type(v) is str and _utf8(v) else None for v in cells], pa.string())


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _rows(cells: Cells, mask: pa.Array) -> Cells:
    if isinstance(cells, pa.Array):
        return pc.filter(cells, mask)
    return [cells[row] for row in np.flatnonzero(mask.to_numpy(zero_copy_only=False)).tolist()]


def texts(cells: pa.Array) -> pa.Array:
    """`norm_text` of every cell: ASCII cells are trimmed in Arrow, the rest normalised per distinct value."""
    trimmed = pc.utf8_trim(cells, characters=PY_WHITESPACE)
    other = pc.invert(pc.fill_null(pc.string_is_ascii(cells), True))
    if not pc.any(other).as_py():
        return trimmed
    rest = per_distinct(pc.filter(cells, other), norm_text, pa.string())
    return pc.replace_with_mask(trimmed, other, rest.values)


def empty_as_null(values: pa.Array) -> pa.Array:
    """'' as null: `optional_text` on text already normalised."""
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, values.type), values)


def vetted(cells: Cells, fast: pa.Array, accepted: pa.Array, rule: Callable[[Any], Any]) -> Checked:
    """`fast` where Arrow `accepted` the cell, elsewhere `rule` once per distinct cell.

    Arrow only ever accepts what the scalar rule would accept with the same value;
    everything it cannot vouch for (and every mistake) goes to the scalar rule.
    """
    rest_mask = pc.invert(pc.fill_null(accepted, False))
    if not pc.any(rest_mask).as_py():
        return Checked(fast)
    rest = per_distinct(_rows(cells, rest_mask), rule, fast.type)
    at = np.flatnonzero(rest_mask.to_numpy(zero_copy_only=False))
    # take, not replace_with_mask: that has no kernel for structs
    index = np.arange(len(fast))
    index[at] = len(fast) + np.arange(len(at))
    values = pa.concat_arrays([fast, rest.values]).take(pa.array(index))
    return Checked(values, {int(at[row]): error for row, error in rest.errors.items()},
                   {int(at[row]): error for row, error in rest.unfit.items()})


def instants(cells: Cells, rule: Callable[[Any], Any], *, require_offset: bool = False) -> Checked:
    """A timestamp column as UTC; `rule` is the scalar `to_instant` with the column's options.

    Text cells in the common spellings (local, or ISO 8601 with an offset; with
    `require_offset`, only the latter) are parsed in Arrow; the rest (other spellings,
    empties, mistakes, a sheet's dates and serials) take `rule` once per distinct value.
    """
    written = text_part(cells)
    common = pc.fill_null(pc.match_substring_regex(written, _COMMON_TIMESTAMP), False)
    spelled = pc.if_else(common, written, None)
    local = pc.replace_substring(pc.utf8_slice_codeunits(spelled, 0, _LOCAL_TIME_CHARS), "T", " ", max_replacements=1)
    parsed = pc.strptime(local, format=_COMMON_TIMESTAMP_FORMAT, unit="us", error_is_null=True)
    # A time without offset is Shanghai's, +08:00 in the years taken here.
    offset_written = pc.utf8_slice_codeunits(spelled, _LOCAL_TIME_CHARS)
    offset = pc.if_else(pc.equal(offset_written, ""), _LOCAL_OFFSET, offset_written)
    minutes = pc.add(pc.multiply(pc.utf8_slice_codeunits(offset, 1, 3).cast(pa.int64()), 60),
                     pc.utf8_slice_codeunits(offset, 4, 6).cast(pa.int64()))
    offset_us = pc.multiply(pc.if_else(pc.starts_with(offset, "-"), pc.negate(minutes), minutes), 60_000_000)
    years = pc.year(parsed)
    accepted = pc.and_(
        pc.and_(pc.greater_equal(years, _FIXED_OFFSET_YEARS[0]), pc.less(years, _FIXED_OFFSET_YEARS[1])),
        # Arrow's strptime rolls 2025-02-30 over to March: only a value that prints back as written is taken.
        pc.equal(pc.strftime(parsed.cast(pa.timestamp("s")), format=_COMMON_TIMESTAMP_FORMAT), local),
    )
    if require_offset:
        accepted = pc.and_(accepted, pc.not_equal(offset_written, ""))
    utc = pc.subtract(parsed.cast(pa.int64()), offset_us).cast(UTC_TIMESTAMP)
    return vetted(cells, utc, accepted, rule)


def amounts(cells: Cells, rule: Callable[[Any], Any], *, floats: bool = False) -> Checked:
    """A CNY amount column as integer fen; `rule` is the scalar `to_fen` with the column's options.

    Plain decimals of at most two places (`97.90`, `7`) are converted exactly in Arrow
    (through decimal128, never a float), and a sheet's finite non-negative floats are
    rounded as `round(value * 100)` does (half to even, in float64) when the rule takes
    `floats` (a JSON contract's "string decimal" does not); the rest take `rule` once
    per distinct value.
    """
    normalized = texts(text_part(cells))
    plain = pc.fill_null(pc.match_substring_regex(normalized, _PLAIN_AMOUNT), False)
    fen = pc.multiply(pc.if_else(plain, normalized, "0").cast(_CENTS), 100).cast(pa.int64())
    if isinstance(cells, pa.Array) or not floats:
        return vetted(cells, fen, plain, rule)
    numbers = np.array([v if type(v) is float else np.nan for v in cells], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        rounded = np.rint(numbers * 100)
        exact = (numbers >= 0) & (rounded < _FLOAT_EXACT_INT)  # NaN (not a float cell) and inf fail both
    fen = pc.if_else(plain, fen, pa.array(np.where(exact, rounded, 0).astype(np.int64)))
    return vetted(cells, fen, pc.or_(plain, pa.array(exact)), rule)


def matching(cells: Cells, pattern: str, rule: Callable[[Any], Any]) -> Checked:
    """Text cells that match `pattern` (RE2, ASCII classes) once normalised; the rest take `rule`."""
    normalized = texts(text_part(cells))
    return vetted(cells, normalized, pc.match_substring_regex(normalized, pattern), rule)


def optional_texts(cells: Cells, rule: Callable[[Any], Any]) -> Checked:
    """`optional_text` of every text cell, which never fails; any other value (a JSON number
    where text is due) takes `rule` once per distinct value."""
    written = text_part(cells)
    text = empty_as_null(texts(written))
    if written.null_count == (cells.null_count if isinstance(cells, pa.Array) else cells.count(None)):
        return Checked(text)  # text and empties only (the usual column): `rule` has nothing to say
    return vetted(cells, text, pc.is_valid(written), rule)


def flagged(mask: pa.Array, error: RowError) -> Checked:
    """A rule across columns, vectorised: every row `mask` holds fails with `error`."""
    rows = np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))
    return Checked(mask, dict.fromkeys(rows.tolist(), error))


# ---------------------------------------------------------------- decoded JSON

def each(values: Sequence[Any], rule: Callable[[Any], Any], failed: Any) -> tuple[list[Any], Checked]:
    """`rule` on every value in Python, for what no Arrow column holds (JSON text, lists of objects).

    Its outcomes, `failed` where it raised, and the failures as a check.
    """
    outcomes, errors = [], {}
    for row, value in enumerate(values):
        try:
            outcomes.append(rule(value))
        except RowError as error:
            outcomes.append(failed)
            errors[row] = error
    return outcomes, Checked(pa.nulls(len(values)), errors)


def objects(values: Sequence[Any], rule: Callable[[Any], Any]) -> tuple[list[dict[str, Any]], Checked]:
    """A JSON field of objects: each object ({} where there is none) and `rule`'s verdict on the rest."""
    holders = [value if type(value) is dict else {} for value in values]
    others = [row for row, value in enumerate(values) if type(value) is not dict]
    errors = {}
    for row in others:
        try:
            rule(values[row])
        except RowError as error:
            errors[row] = error
    return holders, Checked(pa.nulls(len(values)), errors)


def fields(records: Sequence[dict[str, Any]], key: str) -> list[Any]:
    """One field of every decoded record (None where it is absent)."""
    return list(map(dict.get, records, repeat(key)))  # in C, not a Python loop


def json_ints(values: Sequence[Any]) -> pa.Array:
    """The JSON integers (not booleans, not floats) among decoded values as int64; null elsewhere."""
    if set(map(type, values)) <= {int, type(None)}:  # in C: the usual column (Arrow would take 2.0 as 2)
        try:
            return pa.array(values, pa.int64())
        except OverflowError:
            pass
    return pa.array([value if value.__class__ is int and -(1 << 63) <= value < 1 << 63 else None
                     for value in values], pa.int64())


def integers(values: Sequence[Any], rule: Callable[[Any], Any], valid: Callable[[pa.Array], pa.Array]) -> Checked:
    """A field of decoded JSON integers: those Arrow finds `valid` pass; the rest (other JSON
    types, mistakes) take `rule` once per distinct value."""
    ints = json_ints(values)
    return vetted(values, ints, valid(ints), rule)


# Shorter JSON columns are checked in Python: there Arrow's cost per call outweighs its speed per value.
ARROW_FROM = 1024


def json_column(values: Sequence[Any], rule: Callable[[Any], Any], type_: pa.DataType,
                vectorised: Callable[[], Checked] | None = None) -> Checked:
    """A field of decoded JSON records checked by `rule`, the same either way: a short
    column (or one with no `vectorised` happy path) once per distinct value, a long one
    by `vectorised`."""
    if vectorised is None or len(values) < ARROW_FROM:
        return per_distinct(values, rule, type_)
    return vectorised()


def of_owners(nested: Rules, owner: np.ndarray) -> Checked:
    """The checks of nested rows (an order's lines) as their owners': each owner's first error, in
    row order, and the values its rows hold that no column can (fatal if the owner is loaded)."""
    def firsts(by_row: dict[int, Any]) -> dict[int, Any]:
        first: dict[int, Any] = {}
        for row, value in sorted(by_row.items()):
            first.setdefault(int(owner[row]), value)
        return first

    return Checked(pa.nulls(0), firsts(nested.first_errors()), firsts(nested.unfit()))


def products(left: pa.Array, right: pa.Array) -> Checked:
    """`left` × `right` per row; a product no int64 holds is null and unfit, never wrapped around."""
    try:
        return Checked(pc.multiply_checked(left, right))
    except pa.ArrowInvalid:  # an overflow: the products in Python ints, to tell which rows
        exact = [None if a is None or b is None else a * b for a, b in zip(left.to_pylist(), right.to_pylist())]
        held, unfit = _held(exact, pa.int64())
        return Checked(held, {}, unfit)


def sums(values: pa.Array, owner: np.ndarray, owners: int) -> Checked:
    """Each owner's sum of its rows' `values` (null as 0) in Python ints: a sum no int64 holds is unfit."""
    totals = np.zeros(owners, dtype=object)
    np.add.at(totals, owner, pc.fill_null(values, 0).to_numpy(zero_copy_only=False).astype(object))
    held, unfit = _held(totals.tolist(), pa.int64())
    return Checked(held, {}, unfit)


class Rules:
    """The checked columns of one file, in the order the contract's fields are checked."""

    def __init__(self) -> None:
        self._checked: list[Checked] = []

    def check(self, checked: Checked) -> pa.Array:
        self._checked.append(checked)
        return checked.values

    def unfit(self) -> dict[int, Exception]:
        """The rows holding a value their column's type cannot hold, with why."""
        return {row: error for checked in self._checked for row, error in checked.unfit.items()}

    def check_loaded(self, rows: Sequence[int]) -> None:
        """Fail the batch when a loaded row holds a value its column's type cannot hold."""
        unfit = self.unfit()
        loaded = sorted(set(unfit).intersection(rows))
        if loaded:
            raise unfit[loaded[0]]

    def first_errors(self) -> dict[int, RowError]:
        """Each failing row's first error, in check order."""
        first: dict[int, RowError] = {}
        for checked in self._checked:
            for row, error in checked.errors.items():
                first.setdefault(row, error)
        return first


def constant(value: Any, type_: pa.DataType, length: int) -> pa.Array:
    return pa.array([value], type_).take(pa.array(np.zeros(length, dtype=np.int32)))


def rows_of(columns: Sequence[pa.Array], rows: Sequence[int]) -> list[tuple[Any, ...]]:
    """The given rows of some columns as tuples (for the few rows a Python rule must see)."""
    picked = pa.array(rows, pa.int64())
    return list(zip(*(column.take(picked).to_pylist() for column in columns)))
