"""Where each servable record lives in a folder of JSON Lines files.

A month at full scale is ~10 M lines in several GB, so parsed records are never
kept. The index holds, per kind, four numbers a record (20 bytes): received_at
in epoch microseconds, a location (file id and byte offset packed in one int64),
the line length, and per-company row ranges. A page is served by reading the
raw lines back.

Indexing parses blocks of lines with Arrow's JSON reader, which is ~5x faster
than `json.loads` per line, a few blocks at once in threads. Arrow is laxer
than JSON (NaN, invalid UTF-8 in fields it is not asked for), so lines it
could misjudge, and batches it rejects, go through the exact per-line path,
`json.loads` + `fromisoformat`, which defines what counts as servable.
"""
from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from zhongwei.exchange.contract import KINDS, epoch_us, parse_instant

BLOCK_SIZE = 8 << 20
_SCAN_THREADS = min(4, os.cpu_count() or 1)  # each block in flight holds tens of MB
_FILE_SHIFT = 40  # location = file id << 40 | byte offset: files up to 1 TiB
_OFFSET_MASK = (1 << _FILE_SHIFT) - 1
_SMALLEST_ARROW_BATCH = 32  # below this a batch Arrow rejects is parsed line by line
_MAX_EXAMPLES = 5
_BOM = b"\xef\xbb\xbf"
_NEWLINE, _CR, _OPEN, _CLOSE = (ord(c) for c in "\n\r{}")
# Tokens Python's json accepts and Arrow silently ignores in unread fields; neither is JSON.
_NON_JSON_CONSTANTS = (b"NaN", b"Infinity")
_ARROW_FIELDS = pa_json.ParseOptions(
    explicit_schema=pa.schema([("company", pa.string()), ("received_at", pa.string())]),
    unexpected_field_behavior="ignore",
)
# The usual received_at shape, parsed vectorised; fromisoformat handles every other one.
_PLAIN_INSTANT = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-]([01][0-9]|2[0-3]):[0-5][0-9]$"
_PLAIN_INSTANT_LEN = 25

NO_COMPANY = "company is missing, empty or not a string"
NO_RECEIVED_AT = "received_at is missing or not a string"


class _Unservable(ValueError):
    """A line the exchange cannot serve; the message says why."""


@dataclass
class _Companies:
    """Company code <-> small integer id: one per block while scanning, one for the whole index."""

    codes: list[str] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)

    def id(self, code: str) -> int:
        if code not in self.ids:
            self.ids[code] = len(self.codes)
            self.codes.append(code)
        return self.ids[code]


@dataclass
class _Records:
    """Servable lines of a block, in any order (the final sort fixes it)."""

    line: np.ndarray  # line number within the block, 0-based
    company: np.ndarray  # id in the block's own _Companies
    received_us: np.ndarray

    @classmethod
    def concat(cls, parts: list[_Records]) -> _Records:
        if not parts:
            return cls(*(np.zeros(0, np.int64) for _ in range(3)))
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("line", "company", "received_us")))


class _Column:
    """An append-only numpy array, grown in place by realloc.

    Keeping a list of small per-block arrays and concatenating them leaves the
    heap fragmented: indexing 8 M lines that way peaked ~20 % higher (577 MB
    against 483 MB) and kept ~100 MB more afterwards.
    """

    def __init__(self, dtype: type) -> None:
        self._data = np.zeros(1 << 16, dtype)
        self._size = 0

    def extend(self, values: np.ndarray) -> None:
        end = self._size + len(values)
        if end > len(self._data):
            self._data.resize(max(end, len(self._data) * 3 // 2), refcheck=False)
        self._data[self._size : end] = values
        self._size = end

    def finish(self) -> np.ndarray:
        self._data.resize(self._size, refcheck=False)
        return self._data


@dataclass(frozen=True)
class _BlockScan:
    """What one block holds; computed without shared state, so blocks can be scanned in parallel."""

    lines: int  # lines in the block, for line numbers
    start: np.ndarray  # byte offset of each servable record within the block
    length: np.ndarray
    company: np.ndarray  # index into codes
    codes: list[str]
    received_us: np.ndarray
    rejected: list[tuple[int, str]]  # (line within the block, why)


@dataclass(frozen=True)
class KindIndex:
    """Every servable record of one kind, sorted by (company, received_at, file, offset)."""

    files: tuple[Path, ...]
    company_start: np.ndarray  # rows of company id c are company_start[c]:company_start[c + 1]
    received_us: np.ndarray
    location: np.ndarray
    length: np.ndarray

    def __len__(self) -> int:
        return len(self.received_us)

    def window(self, company_id: int, from_us: int, to_us: int) -> tuple[int, int]:
        """Rows of one company with from_us <= received_at < to_us."""
        first, last = int(self.company_start[company_id]), int(self.company_start[company_id + 1])
        times = self.received_us[first:last]
        return first + int(np.searchsorted(times, from_us)), first + int(np.searchsorted(times, to_us))

    def read_lines(self, start: int, stop: int) -> list[bytes]:
        """The raw lines of rows start:stop, in row order, as they are in the files."""
        location, length = self.location[start:stop], self.length[start:stop].tolist()
        file_ids, offsets = location >> _FILE_SHIFT, (location & _OFFSET_MASK).tolist()
        lines = [b""] * len(length)
        for file_id in np.unique(file_ids).tolist():
            fd = os.open(self.files[file_id], os.O_RDONLY)
            try:
                for row in np.flatnonzero(file_ids == file_id).tolist():
                    lines[row] = os.pread(fd, length[row], offsets[row])
            finally:
                os.close(fd)
        if any(len(line) != n for line, n in zip(lines, length)):
            raise RuntimeError("a data file changed since it was indexed; restart the exchange")
        return lines


@dataclass(frozen=True)
class ExchangeIndex:
    """Both kinds' indexes, the company codes they share, and what could not be served."""

    data_dir: Path
    kinds: dict[str, KindIndex]
    company_codes: tuple[str, ...]  # by company id
    skipped: int
    skipped_examples: tuple[str, ...]  # "file:line: why" for the first few

    def companies(self) -> list[str]:
        """Codes that have at least one servable record, sorted."""
        present = sum(np.diff(kind.company_start) for kind in self.kinds.values())
        return sorted(code for code, n in zip(self.company_codes, present) if n)

    def window(self, kind: str, company: str, from_us: int, to_us: int) -> tuple[int, int]:
        company_id = self.company_codes.index(company) if company in self.company_codes else None
        return (0, 0) if company_id is None else self.kinds[kind].window(company_id, from_us, to_us)


def build_index(data_dir: str | Path, *, block_size: int = BLOCK_SIZE) -> ExchangeIndex:
    """Index every `waybills*.jsonl` / `events*.jsonl` under data_dir (recursively)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise NotADirectoryError(f"not a folder: {data_dir}")
    companies = _Companies()
    skipped: list[str] = []
    sorted_kinds = {
        kind: _sorted_records(sorted(data_dir.rglob(f"{kind}*.jsonl")), data_dir, companies, skipped, block_size)
        for kind in KINDS
    }
    # Company ranges only once every kind has been read, so both cover every code.
    company_ids = np.arange(len(companies.codes) + 1)
    return ExchangeIndex(
        data_dir=data_dir,
        kinds={
            kind: KindIndex(files, np.searchsorted(company, company_ids), *columns)
            for kind, (files, company, *columns) in sorted_kinds.items()
        },
        company_codes=tuple(companies.codes),
        skipped=len(skipped),
        skipped_examples=tuple(skipped[:_MAX_EXAMPLES]),
    )


def _sorted_records(
    files: list[Path], data_dir: Path, companies: _Companies, skipped: list[str], block_size: int
) -> tuple[tuple[Path, ...], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(files, company id, received_us, location, length) of one kind, sorted by the first three."""
    columns = {"company": np.int32, "received_us": np.int64, "location": np.int64, "length": np.uint32}
    growing = {name: _Column(dtype) for name, dtype in columns.items()}
    for file_id, path in enumerate(files):
        if path.stat().st_size > _OFFSET_MASK:
            raise ValueError(f"{path} is larger than the index can address")
        line_base = 0
        for offset, scan in _scan_blocks(path, block_size):
            company_ids = np.array([companies.id(code) for code in scan.codes], np.int32)
            found = {
                "company": company_ids[scan.company],
                "received_us": scan.received_us,
                "location": (file_id << _FILE_SHIFT) + offset + scan.start,
                "length": scan.length,
            }
            for name, column in growing.items():
                column.extend(found[name])
            name = path.relative_to(data_dir)
            skipped.extend(f"{name}:{line_base + line + 1}: {why}" for line, why in scan.rejected)
            line_base += scan.lines
    table = {name: growing.pop(name).finish() for name in columns}  # pop: sorting below frees each unsorted column
    order = np.lexsort((table["location"], table["received_us"], table["company"]))
    for name in table:  # one column at a time, so at most one unsorted copy is alive beside the sorted ones
        table[name] = table[name][order]
    return tuple(files), table["company"], table["received_us"], table["location"], table["length"]


def _scan_blocks(path: Path, block_size: int) -> Iterator[tuple[int, _BlockScan]]:
    """(file offset, scan) of each block, in order.

    Scanning is most of the indexing time and mostly Arrow and numpy, which
    release the GIL, so a few blocks are scanned at once in threads.
    """
    with ThreadPoolExecutor(_SCAN_THREADS) as pool:
        in_flight: deque[tuple[int, Future[_BlockScan]]] = deque()
        for offset, block in _read_blocks(path, block_size):
            in_flight.append((offset, pool.submit(_scan_block, block)))
            if len(in_flight) > _SCAN_THREADS:
                done_offset, scan = in_flight.popleft()
                yield done_offset, scan.result()
        for done_offset, scan in in_flight:
            yield done_offset, scan.result()


def _read_blocks(path: Path, block_size: int) -> Iterator[tuple[int, bytes]]:
    """(file offset, bytes) of runs of whole lines; a line longer than a block is carried over."""
    with path.open("rb") as f:
        offset = len(_BOM) if f.read(len(_BOM)) == _BOM else 0
        f.seek(offset)
        pending = b""
        while chunk := f.read(block_size):
            data = pending + chunk
            cut = data.rfind(b"\n") + 1
            if cut:
                yield offset, data[:cut]
                offset += cut
            pending = data[cut:]
        if pending:
            yield offset, pending


def _line_bounds(block: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of every line, without its newline (and without the CR of a CRLF)."""
    raw = np.frombuffer(block, np.uint8)
    newlines = np.flatnonzero(raw == _NEWLINE)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(block)]))
    if starts[-1] == len(block):
        starts, ends = starts[:-1], ends[:-1]
    ends -= (ends > starts) & (raw[np.maximum(ends - 1, 0)] == _CR)
    return starts, ends


def _scan_block(block: bytes) -> _BlockScan:
    """The servable lines of a block, and (line, why) for the others. Blank lines are neither."""
    starts, ends = _line_bounds(block)
    raw = np.frombuffer(block, np.uint8)
    nonblank = ends > starts
    # Lines Arrow can judge: one object per line, no NaN/Infinity, valid UTF-8.
    plain = nonblank.copy()
    plain[nonblank] = (raw[starts[nonblank]] == _OPEN) & (raw[ends[nonblank] - 1] == _CLOSE)
    hits = [at for token in _NON_JSON_CONSTANTS for at in _find_all(block, token)]
    plain[np.searchsorted(starts, hits, side="right") - 1] = False
    if not _is_utf8(block):
        for line in np.flatnonzero(plain).tolist():
            plain[line] = _is_utf8(block[starts[line] : ends[line]])
    exact = list(np.flatnonzero(nonblank & ~plain))
    arrow_input = block
    if exact:  # blank them out so Arrow sees exactly one object per remaining line
        arrow_input = bytearray(block)
        for line in exact:
            arrow_input[starts[line] : ends[line]] = b" " * int(ends[line] - starts[line])

    companies = _Companies()
    parts: list[_Records] = []
    rejected: list[tuple[int, str]] = []
    plain_lines = np.flatnonzero(plain)
    for lines, table in _parse_with_arrow(memoryview(arrow_input), starts, ends, plain_lines):
        if table is None:
            exact.extend(lines)
        else:
            parts.append(_records_from_table(lines, table, companies, rejected))
    good: list[tuple[int, int, int]] = []
    for line in exact:
        try:
            company, received = _parse_line(block[starts[line] : ends[line]])
        except _Unservable as why:
            rejected.append((int(line), str(why)))
            continue
        if company is not None:
            good.append((int(line), companies.id(company), received))
    if good:
        parts.append(_Records(*(np.array(column, np.int64) for column in zip(*good))))
    records = _Records.concat(parts)
    return _BlockScan(
        lines=len(starts),
        start=starts[records.line],
        length=(ends - starts)[records.line],
        company=records.company,
        codes=companies.codes,
        received_us=records.received_us,
        rejected=sorted(rejected),
    )


def _parse_with_arrow(
    data: memoryview, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray
) -> Iterator[tuple[np.ndarray, pa.Table | None]]:
    """Arrow's (company, received_at) for the given lines, one row each.

    A batch Arrow rejects (or that does not give one row a line) is halved until
    the offending lines are isolated; those come back with table None.
    """
    if not len(lines):
        return
    try:
        table = pa_json.read_json(
            pa.py_buffer(data[starts[lines[0]] : ends[lines[-1]]]), parse_options=_ARROW_FIELDS
        )
        if table.num_rows == len(lines):
            yield lines, table
            return
    except pa.ArrowInvalid:
        pass
    if len(lines) <= _SMALLEST_ARROW_BATCH:
        yield lines, None
        return
    half = len(lines) // 2
    yield from _parse_with_arrow(data, starts, ends, lines[:half])
    yield from _parse_with_arrow(data, starts, ends, lines[half:])


def _records_from_table(
    lines: np.ndarray, table: pa.Table, companies: _Companies, rejected: list[tuple[int, str]]
) -> _Records:
    company = table.column("company").combine_chunks().dictionary_encode()
    code_ids = np.array([companies.id(code) if code else -1 for code in company.dictionary.to_pylist()], np.int64)
    company_id = np.full(len(lines), -1, np.int64)
    named = company.indices.is_valid().to_numpy(zero_copy_only=False)
    company_id[named] = code_ids[company.indices.drop_null().to_numpy()]

    received = table.column("received_at").combine_chunks()
    received_us, parsed = _plain_instants_us(received)
    has_received = received.is_valid().to_numpy(zero_copy_only=False)
    for row in np.flatnonzero(has_received & ~parsed & (company_id >= 0)).tolist():
        try:
            received_us[row] = _instant_us(received[row].as_py())
            parsed[row] = True
        except _Unservable as why:
            rejected.append((int(lines[row]), str(why)))
    rejected.extend((int(lines[row]), NO_COMPANY) for row in np.flatnonzero(company_id < 0).tolist())
    no_received_at = (company_id >= 0) & ~has_received
    rejected.extend((int(lines[row]), NO_RECEIVED_AT) for row in np.flatnonzero(no_received_at).tolist())
    keep = (company_id >= 0) & parsed
    return _Records(lines[keep].astype(np.int64), company_id[keep], received_us[keep])


def _plain_instants_us(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Epoch microseconds of the timestamps shaped like "2025-03-04T10:25:13+08:00", and which those were.

    numpy parses the local part (it rejects out-of-range dates as fromisoformat
    does); the offset is subtracted. If any date is out of range, none is
    handled here and every one takes the exact path.
    """
    plain = pc.fill_null(pc.match_substring_regex(text, _PLAIN_INSTANT), False).to_numpy(zero_copy_only=False)
    received_us = np.zeros(len(text), np.int64)
    if not plain.any():
        return received_us, plain
    chars = text.filter(pa.array(plain)).cast(pa.binary(_PLAIN_INSTANT_LEN))
    width = _PLAIN_INSTANT_LEN
    raw = np.frombuffer(chars.buffers()[1], np.uint8, len(chars) * width, chars.offset * width).reshape(-1, width)
    try:
        local = np.ascontiguousarray(raw[:, :19]).view("S19").ravel().astype("datetime64[us]")
    except ValueError:
        return received_us, np.zeros(len(text), bool)
    digits = raw[:, [20, 21, 23, 24]].astype(np.int64) - ord("0")
    offset_s = (digits[:, 0] * 10 + digits[:, 1]) * 3600 + (digits[:, 2] * 10 + digits[:, 3]) * 60
    sign = np.where(raw[:, 19] == ord("-"), -1, 1)
    received_us[plain] = local.view(np.int64) - sign * offset_s * 1_000_000
    return received_us, plain


def _parse_line(raw: bytes) -> tuple[str | None, int]:
    """(company, received_at µs) of one line; company None for a blank line. The reference rules."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unservable("not UTF-8") from None
    if not text.strip():
        return None, 0
    try:
        record = json.loads(text, parse_constant=_reject_constant)
    except ValueError as error:
        raise _Unservable(f"not valid JSON ({error})") from None
    if not isinstance(record, dict):
        raise _Unservable("not a JSON object")
    company, received_at = record.get("company"), record.get("received_at")
    if not isinstance(company, str) or not company:
        raise _Unservable(NO_COMPANY)
    if not isinstance(received_at, str):
        raise _Unservable(NO_RECEIVED_AT)
    return company, _instant_us(received_at)


def _instant_us(text: str) -> int:
    try:
        return epoch_us(parse_instant(text))
    except ValueError as error:
        raise _Unservable(f"received_at {error}") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _find_all(data: bytes, token: bytes) -> Iterator[int]:
    at = data.find(token)
    while at >= 0:
        yield at
        at = data.find(token, at + 1)


def _is_utf8(data: bytes) -> bool:
    try:
        pa.array([data], pa.large_binary()).cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True
