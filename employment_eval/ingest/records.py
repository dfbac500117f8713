"""The second count of a CSV's records, from its bytes, independent of the parser that reads
its cells (read.py refuses a file whose counts differ, naming the first row where they part).

A record ends at a line break outside double quotes: LF, CRLF, or a lone CR (an old Mac
file, or line endings mixed by hand-editing) — as Excel and Python's csv module read a CSV.
Quotes are counted by parity (every `"` toggles; an escaped `""` toggles twice), which is
exact for well-formed quoting; a quote that does not pair up makes the count differ from the
parser's, and the file is refused at that row. polars ends records only at LF, so lone CRs
outside quotes are turned into LF before it reads (`as_lf`); the counts then prove that both
read the same records.

The scan reads fixed slices of the buffer (carrying the quote parity from one to the next)
and never copies it; the byte classes it needs (line breaks, quotes, other control bytes) come
from one comparison per slice. The `first_*` functions run only when a file is refused."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

import numpy as np
import polars as pl

SLICE = 1 << 24  # bytes per slice of the scan
LF, CR, TAB, QUOTE, COMMA = 10, 13, 9, 34, 44


@dataclass
class CsvScan:
    """What the bytes say: the number of records (the header is one), the lone CRs outside
    quotes (offsets), whether a control byte other than tab/CR/LF occurs, and whether the
    file ends inside quotes."""

    records: int = 0
    lone_cr: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    has_controls: bool = False
    ends_in_quotes: bool = False


def _view(body: bytes) -> np.ndarray:
    return np.frombuffer(body, dtype=np.uint8)


def _breaks(body: bytes, *, keep: bool) -> tuple[CsvScan, np.ndarray]:
    """Scan `body`: the CsvScan, and (when `keep`) the offset of every record's line break
    (the LF of a CRLF)."""
    arr = _view(body)
    n = arr.size
    quoted = body.find(b'"') >= 0  # memchr: most exports hold no quote at all
    parity = 0
    records = 0
    last_break = -1
    lone: list[np.ndarray] = []
    kept: list[np.ndarray] = []
    controls = False
    for start in range(0, n, SLICE):
        s = arr[start : start + SLICE]
        low = np.flatnonzero(s < 32)
        values = s[low]
        is_break = (values == LF) | (values == CR)
        if not controls:
            controls = bool(np.count_nonzero(~is_break & (values != TAB)))
        breaks = low[is_break]
        if quoted:
            quotes = np.flatnonzero(s == QUOTE)
            inside = (np.searchsorted(quotes, breaks) + parity) & 1
            breaks = breaks[inside == 0]
            parity = (parity + quotes.size) & 1
        breaks = breaks + start
        crs = breaks[arr[breaks] == CR]
        after = crs + 1
        follows = np.zeros(crs.size, dtype=bool)
        inside_file = after < n
        follows[inside_file] = arr[after[inside_file]] == LF
        lone_here = crs[~follows]
        counted = np.sort(np.concatenate([breaks[arr[breaks] == LF], lone_here]))
        records += counted.size
        if counted.size:
            last_break = int(counted[-1])
        if lone_here.size:
            lone.append(lone_here)
        if keep:
            kept.append(counted)
    if n and last_break != n - 1:
        records += 1  # the last record has no line break after it
    scan = CsvScan(
        records,
        np.concatenate(lone) if lone else np.empty(0, dtype=np.int64),
        controls,
        bool(parity),
    )
    return scan, (np.concatenate(kept) if kept else np.empty(0, dtype=np.int64))


def scan_csv(body: bytes) -> CsvScan:
    return _breaks(body, keep=False)[0]


def as_lf(body: bytes, scan: CsvScan) -> bytes:
    """`body` with every lone CR outside quotes made an LF (the same records for polars);
    `body` itself when there is none."""
    if not scan.lone_cr.size:
        return body
    out = bytearray(body)
    _view_mut(out)[scan.lone_cr] = LF
    return bytes(out)


def _view_mut(buf: bytearray) -> np.ndarray:
    return np.frombuffer(buf, dtype=np.uint8)


# --- where a refused file parts (error paths only) -------------------------------------------


def _record_bounds(body: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(start, stop) offsets of every record; `stop` excludes the line break (a CRLF's CR
    too)."""
    scan, ends = _breaks(body, keep=True)
    n = len(body)
    if scan.records > ends.size:
        ends = np.append(ends, n)
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    arr = _view(body)
    at_lf = np.zeros(ends.size, dtype=bool)
    inside = ends < n
    at_lf[inside] = arr[ends[inside]] == LF
    after_cr = np.zeros(ends.size, dtype=bool)
    maybe = at_lf & (ends > starts)
    after_cr[maybe] = arr[ends[maybe] - 1] == CR
    return starts, ends - after_cr


def row_at(body: bytes, offset: int) -> int:
    """The row (1-based) that the byte at `offset` belongs to."""
    return _breaks(body[:offset], keep=True)[1].size + 1


def _cells(text: str) -> list[str] | None:
    try:
        rows = list(csv.reader([text], strict=False)) if text else [[]]
    except csv.Error:  # a line break outside quotes: not one record
        return None
    return rows[0] if rows else []


def _same(record: list[str] | None, row: tuple) -> bool:
    if record is None:
        return False
    cells = ["" if v is None else v for v in row]
    mine = list(record)
    for side in (cells, mine):
        while side and side[-1] == "":
            side.pop()
    return mine == cells


def first_divergence(body: bytes, frame: pl.DataFrame) -> int:
    """The first row (1-based, the header is row 1) where the records of `body` and the rows
    polars read from it differ (by their cells)."""
    starts, stops = _record_bounds(body)
    common = min(starts.size, frame.height)
    chunk = 50_000
    for offset in range(0, common, chunk):
        for i, row in enumerate(frame.slice(offset, chunk).iter_rows()):
            k = offset + i
            text = body[starts[k] : stops[k]].decode("utf-8", "replace")
            if not _same(_cells(text), row):
                return k + 1
    return common + 1


def first_wide_row(body: bytes) -> tuple[int, int, int] | None:
    """(row, its fields, the header's fields) of the first record with more fields than the
    header (commas outside quotes), or None."""
    starts, _ = _record_bounds(body)
    if not starts.size:
        return None
    arr = _view(body)
    commas = np.flatnonzero(arr == COMMA)
    if body.find(b'"') >= 0:
        quotes = np.flatnonzero(arr == QUOTE)
        commas = commas[(np.searchsorted(quotes, commas) & 1) == 0]
    record = np.searchsorted(starts, commas, side="right") - 1
    fields = np.bincount(record, minlength=starts.size) + 1
    wide = np.flatnonzero(fields > fields[0])
    if not wide.size:
        return None
    k = int(wide[0])
    return k + 1, int(fields[k]), int(fields[0])


_EDGE = np.array([COMMA, LF, CR, QUOTE], dtype=np.uint8)


def first_quote_problem(body: bytes) -> tuple[int, str] | None:
    """(row, what) of the first double quote that neither opens nor closes a quoted cell
    (text on both sides, as in 5"3) — or of a quote that is never closed; None when the
    quoting is regular."""
    arr = _view(body)
    quotes = np.flatnonzero(arr == QUOTE)
    if not quotes.size:
        return None
    before = arr[np.maximum(quotes - 1, 0)]
    before[quotes == 0] = LF
    after = arr[np.minimum(quotes + 1, arr.size - 1)]
    after[quotes + 1 >= arr.size] = LF
    stray = quotes[~np.isin(before, _EDGE) & ~np.isin(after, _EDGE)]
    found: list[tuple[int, str]] = []
    if stray.size:
        found.append((int(stray[0]), "stray"))
    if quotes.size % 2:
        found.append((int(quotes[-1]), "unclosed"))
    if not found:
        return None
    offset, what = min(found)
    return row_at(body, offset), what


def header_is_blank(body: bytes) -> bool:
    """The first line (the header) is empty or only spaces."""
    first = body.split(b"\n", 1)[0].split(b"\r", 1)[0]
    return not first.strip()
