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
_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b([^>]*)>")
_ROW_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?row>")
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
# a value (<v>) or the text of an inline string (<t>), not empty
_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:v|t)(?:\s[^>]*)?>[^<]")


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
    found: list[int] = []
    try:
        with zipfile.ZipFile(path) as z, z.open(_first_sheet(z)) as fh:
            previous = 0
            buf = b""
            while True:
                piece = fh.read(SLICE)
                buf += piece
                position = 0
                while tag := _ROW.search(buf, position):
                    if tag.group(1).endswith(b"/"):  # <row r="7"/>: no cells
                        end = tag.end()
                    else:
                        close = _ROW_END.search(buf, tag.end())
                        if close is None:
                            break  # the row continues in the next slice
                        end = close.start()
                    number = _ROW_NUMBER.search(tag.group(1))
                    previous = int(number.group(1)) if number else previous + 1
                    if end > tag.end() and _VALUE.search(buf, tag.end(), end):
                        found.append(previous)
                    position = end
                if not piece:
                    break
                buf = buf[position:] if position else buf
                if len(buf) > SLICE and not _ROW.search(buf):
                    buf = buf[-4096:]  # before the first row: nothing to keep
    except (KeyError, OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise SheetLayoutError(str(exc)) from exc
    return np.array(found, dtype=np.int64)


def first_parting_row(xml_rows: np.ndarray, reader_rows: np.ndarray) -> int | None:
    """The first sheet row where the two lists of rows holding a value part: a row written
    twice, or a row in one list only; None when they agree."""
    unique, counts = np.unique(xml_rows, return_counts=True)
    twice = unique[counts > 1]
    differ = np.setxor1d(unique, reader_rows)
    candidates = [int(a[0]) for a in (twice, differ) if a.size]
    return min(candidates) if candidates else None
