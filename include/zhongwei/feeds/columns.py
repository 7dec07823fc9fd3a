"""Contract rules on whole columns: the engine the CSV order exports are parsed with.

A file becomes one Arrow text column per contract column, and each rule runs once
over a column (Arrow compute is the engine):

- vectorised where Arrow expresses the rule: the common timestamp spelling
  (`2025-03-04 12:30:00`) is parsed by `strptime` and shifted to UTC in one pass;
- otherwise once per *distinct* cell value, with the very scalar rule of
  `zhongwei.feeds.common` (`to_fen`, `to_instant`, `norm_text`, ...). Statuses,
  amounts, shops and regions repeat thousands of times in a file, so this is a
  few thousand calls, not one per record; and a value, its reason code and its
  detail text come from one evaluation, the same one the contract tests pin.

A row's reason is the first failing rule in the order the contract's fields are
checked (`Rules.first_errors`), so a record with two bad cells is quarantined for
the same one whatever the engine.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zhongwei.feeds.common import UTC_TIMESTAMP, RowError, norm_text

# What `str.strip()` strips, so that Arrow trims exactly what the scalar rules trim.
PY_WHITESPACE = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
# The spelling nearly every timestamp arrives in; anything else takes the scalar rule.
_COMMON_TIMESTAMP = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
_COMMON_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
# Amounts Arrow converts exactly (decimal128, never a float): digits, at most two places.
_PLAIN_AMOUNT = r"^[0-9]{1,15}(\.[0-9]{1,2})?$"
_CENTS = pa.decimal128(18, 2)
# Local times from 1992 on are UTC+8 (Asia/Shanghai kept summer time until 1991).
_FIXED_OFFSET_YEARS = (1992, 2100)
_LOCAL_OFFSET_US = 8 * 3600 * 1_000_000


@dataclass
class Checked:
    """A rule's result on a column: the values (null where the rule failed) and the failures by row."""

    values: pa.Array
    errors: dict[int, RowError] = field(default_factory=dict)


def per_distinct(cells: pa.Array, rule: Callable[[Any], Any], type_: pa.DataType) -> Checked:
    """`rule` applied once to each distinct cell value; its RowErrors become the failing rows'."""
    encoded = cells.dictionary_encode()
    outcomes, failed = [], {}
    for code, value in enumerate(encoded.dictionary.to_pylist()):
        try:
            outcomes.append(rule(value))
        except RowError as error:
            outcomes.append(None)
            failed[code] = error
    codes = encoded.indices
    values = pa.array(outcomes, type_).take(codes)
    if not failed:
        return Checked(values)
    rows = np.flatnonzero(np.isin(codes.to_numpy(zero_copy_only=False), list(failed)))
    codes_list = codes.to_numpy(zero_copy_only=False)
    return Checked(values, {int(row): failed[int(codes_list[row])] for row in rows})


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


def vetted(cells: pa.Array, fast: pa.Array, accepted: pa.Array, rule: Callable[[Any], Any]) -> Checked:
    """`fast` where Arrow `accepted` the cell, elsewhere `rule` once per distinct cell.

    Arrow only ever accepts what the scalar rule would accept with the same value;
    everything it cannot vouch for (and every mistake) goes to the scalar rule.
    """
    rest_mask = pc.invert(pc.fill_null(accepted, False))
    if not pc.any(rest_mask).as_py():
        return Checked(fast)
    rest = per_distinct(pc.filter(cells, rest_mask), rule, fast.type)
    at = np.flatnonzero(rest_mask.to_numpy(zero_copy_only=False))
    values = pc.replace_with_mask(fast, rest_mask, rest.values)
    return Checked(values, {int(at[row]): error for row, error in rest.errors.items()})


def instants(cells: pa.Array, rule: Callable[[Any], Any]) -> Checked:
    """A timestamp column as UTC; `rule` is the scalar `to_instant` with the column's options.

    Cells in the common local spelling are parsed in Arrow; the rest (offsets, other
    spellings, empties, mistakes) take `rule` once per distinct value.
    """
    common = pc.fill_null(pc.match_substring_regex(cells, _COMMON_TIMESTAMP), False)
    parsed = pc.strptime(pc.if_else(common, cells, None), format=_COMMON_TIMESTAMP_FORMAT, unit="us",
                         error_is_null=True)
    years = pc.year(parsed)
    accepted = pc.and_(
        pc.and_(pc.greater_equal(years, _FIXED_OFFSET_YEARS[0]), pc.less(years, _FIXED_OFFSET_YEARS[1])),
        # Arrow's strptime rolls 2025-02-30 over to March: only a value that prints back as written is taken.
        pc.equal(pc.strftime(parsed.cast(pa.timestamp("s")), format=_COMMON_TIMESTAMP_FORMAT), cells),
    )
    utc = pc.subtract(parsed.cast(pa.int64()), _LOCAL_OFFSET_US).cast(UTC_TIMESTAMP)
    return vetted(cells, utc, accepted, rule)


def amounts(cells: pa.Array, rule: Callable[[Any], Any]) -> Checked:
    """A CNY amount column as integer fen; `rule` is the scalar `to_fen` with the column's options.

    Plain decimals of at most two places (`97.90`, `7`) are converted exactly in Arrow
    (through decimal128, never a float); the rest take `rule` once per distinct value.
    """
    normalized = texts(cells)
    plain = pc.fill_null(pc.match_substring_regex(normalized, _PLAIN_AMOUNT), False)
    fen = pc.multiply(pc.if_else(plain, normalized, "0").cast(_CENTS), 100).cast(pa.int64())
    return vetted(cells, fen, plain, rule)


def matching(cells: pa.Array, pattern: str, rule: Callable[[Any], Any]) -> Checked:
    """Text cells that match `pattern` (RE2, ASCII classes) once normalised; the rest take `rule`."""
    normalized = texts(cells)
    return vetted(cells, normalized, pc.match_substring_regex(normalized, pattern), rule)


class Rules:
    """The checked columns of one file, in the order the contract's fields are checked."""

    def __init__(self) -> None:
        self._checked: list[Checked] = []

    def check(self, checked: Checked) -> pa.Array:
        self._checked.append(checked)
        return checked.values

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
