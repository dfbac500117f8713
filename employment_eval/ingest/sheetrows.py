"""The second count of an xlsx's rows, from the XML of its first sheet, independent of the
reader that gives its cells (fastexcel/calamine, read.py): the sheet row number of every
`<row>` element that holds a value, in the order they are written.

read.py compares them with the rows the reader returned that hold a value: a row element
written twice (a reader keeps one of them), a row the reader skipped, or one it made up
refuses the file at that row. The sheet XML is streamed in slices (a large sheet is never
held whole); per row element only its tag and the span up to the next one are looked at."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np

SLICE = 1 << 23

_SHEET_TARGET = re.compile(r'<sheet\b[^>]*?\br:id="([^"]+)"')
_REL = re.compile(r'<Relationship\b[^>]*?\bId="([^"]+)"[^>]*?\bTarget="([^"]+)"')
_REL_ALT = re.compile(r'<Relationship\b[^>]*?\bTarget="([^"]+)"[^>]*?\bId="([^"]+)"')
_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*:)?row[\s>/]")
_ROW_NUMBER = re.compile(rb'\sr="(\d+)"')
_TAG_END = b" >/\t\r\n"


class SheetLayoutError(Exception):
    """The first sheet's XML cannot be found or read (an unusual or damaged workbook)."""


def _first_sheet(z: zipfile.ZipFile) -> str:
    workbook = z.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    rid = _SHEET_TARGET.search(workbook)
    targets = dict(_REL.findall(rels))
    targets.update({i: t for t, i in _REL_ALT.findall(rels)})
    target = targets[rid.group(1)] if rid else "worksheets/sheet1.xml"
    target = target.lstrip("/")
    return target if target.startswith("xl/") else f"xl/{target}"


def valued_rows(path: Path) -> np.ndarray:
    """Sheet row numbers (1-based) of the first sheet's row elements that hold a value, in
    the order written (a number twice when the row is written twice). SheetLayoutError when
    the sheet cannot be found or read."""
    try:
        with zipfile.ZipFile(path) as z, z.open(_first_sheet(z)) as fh:
            return np.array(_Rows().read(fh), dtype=np.int64)
    except (KeyError, OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise SheetLayoutError(str(exc)) from exc


class _Rows:
    """The walk over the sheet XML, slice by slice: each row element from its tag to the next
    one's, its number (its r attribute, or the one before plus one) and whether a cell in it
    holds a value as the reader shows it: a non-empty <v> (a cached formula result too), an
    empty <v></v> of a text cell (t="str": =IF(…,"",…) is an empty text), or an inline string
    (<is>, even empty). An empty <v></v> of a number cell (a formula never calculated) is
    nothing to the reader. Only `bytes.find` (memchr) and a few anchored regular expressions
    run per row."""

    def __init__(self) -> None:
        self.row = b""  # "<row", or "<x:row" when the sheet's tags carry a prefix
        self.value = b""
        self.any_value: re.Pattern[bytes] | None = None
        self.previous = 0
        self.found: list[int] = []

    def read(self, fh) -> list[int]:
        buf = b""
        while True:
            piece = fh.read(SLICE)
            buf += piece
            done = not piece
            if not self.row:
                first = _PREFIX.search(buf)
                if first is None:
                    if done:
                        return self.found
                    buf = buf[-4096:]  # before the first row: nothing to keep
                    continue
                self._prefix(first.group(1) or b"")
            kept = self._rows(buf, done)
            if done:
                return self.found
            buf = buf[kept:]

    def _prefix(self, prefix: bytes) -> None:
        self.row = b"<" + prefix + b"row"
        self.value = b"<" + prefix + b"v>"
        self.empty_value = self.value + b"</" + prefix + b"v>"
        self.cell = b"<" + prefix + b"c"
        # an inline string (even empty), or a value with attributes: not a self-closing one
        self.any_value = re.compile(
            b"<" + re.escape(prefix) + rb"(?:is(?:\s[^>]*)?(?<!/)>|v\s[^>]*(?<!/)>)"
        )

    def _next_row(self, buf: bytes, position: int) -> int:
        while (start := buf.find(self.row, position)) >= 0:
            after = start + len(self.row)
            if after < len(buf) and buf[after] in _TAG_END:
                return start
            position = after
        return -1

    def _holds_value(self, buf: bytes, start: int, end: int) -> bool:
        """A value the reader shows between start and end: a non-empty <v> (the common case,
        found by memchr), an empty one of a text cell, else an inline string."""
        assert self.any_value is not None
        position = start
        while (found := buf.find(self.value, position, end)) >= 0:
            if not buf.startswith(self.empty_value, found):
                return True
            cell = buf.rfind(self.cell, start, found)
            if cell >= 0 and _TEXT_CELL.match(buf, cell, found):
                return True
            position = found + len(self.empty_value)
        return self.any_value.search(buf, start, end) is not None

    def _rows(self, buf: bytes, done: bool) -> int:
        """Record the complete rows of `buf`; the offset of the first one not complete."""
        start = self._next_row(buf, 0)
        while start >= 0:
            tag_end = buf.find(b">", start)
            if tag_end < 0:  # the tag itself is cut: in the next slice (or a broken end)
                return len(buf) if done else start
            following = self._next_row(buf, tag_end)
            if following < 0 and not done:
                return start  # this row may continue in the next slice
            end = following if following >= 0 else len(buf)
            number = _ROW_NUMBER.search(buf, start, tag_end)
            self.previous = int(number.group(1)) if number else self.previous + 1
            if self._holds_value(buf, tag_end, end):
                self.found.append(self.previous)
            start = following
        return len(buf)


_TEXT_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*\bt="str"')


def first_parting_row(xml_rows: np.ndarray, reader_rows: np.ndarray) -> int | None:
    """The first sheet row where the two lists of rows holding a value part: a row written
    twice, or a row in one list only; None when they agree."""
    unique, counts = np.unique(xml_rows, return_counts=True)
    twice = unique[counts > 1]
    differ = np.setxor1d(unique, reader_rows)
    candidates = [int(a[0]) for a in (twice, differ) if a.size]
    return min(candidates) if candidates else None
