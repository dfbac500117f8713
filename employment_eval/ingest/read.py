"""Reading one raw file into an all-text polars frame (finding the files: discover.py).

A `RawTable` keeps the header cells as written and the data as text (null for blank cells),
plus the row number the user sees for every data row. A file that cannot be read at all
(permissions, empty, undecodable, not a workbook) comes back with exactly one file-level
problem and no rows: nothing else is said about it (api.py leaves it out of every
cross-file rule)."""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl

from employment_eval.ingest.discover import (  # re-exported: the discovery API of ingestion
    SUPPORTED_SUFFIXES,
    FoundFile,
    discover,
    os_reason,
    raw_dir_problem,
)
from employment_eval.problems import Problem

__all__ = [
    "SUPPORTED_SUFFIXES",
    "FoundFile",
    "RawTable",
    "discover",
    "raw_dir_problem",
    "read_table",
    "sha256_of",
]

UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class RawTable:
    """One file as read: header cells as written, data cells as text, user-visible rows.
    `problems` is non-empty only when the file could not be read at all (file-level)."""

    headers: list[str | None]
    data: pl.DataFrame  # columns c0..cn (String), plus "source_row" (Int32)
    encoding: str | None = None  # CSV only
    xlsx_path: Path | None = None  # xlsx only: for cell-type probes
    problems: list[Problem] = field(default_factory=list)

    @property
    def unreadable(self) -> bool:
        return bool(self.problems)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_csv_bytes(data: bytes, *, assume_utf8_checked: bool = False) -> tuple[bytes, str] | None:
    """Return (UTF-8 bytes without BOM, detected encoding) or None when undecodable.
    UTF-8 (with or without BOM) is tried first, strictly; then GB18030 (a superset of GBK)."""
    if data.startswith(UTF8_BOM):
        body = data[len(UTF8_BOM) :]
        return (body, "utf-8-sig") if _is_utf8(body) else None
    if assume_utf8_checked or _is_utf8(data):
        return data, "utf-8"
    try:
        return data.decode("gb18030").encode("utf-8"), "gb18030"
    except UnicodeDecodeError:
        return None


def read_table(found: FoundFile) -> RawTable:
    try:
        if found.path.suffix.lower() == ".csv":
            return read_csv(found)
        return read_xlsx(found)
    except OSError as exc:  # e.g. permissions changed or the file vanished since discovery
        return _file_problem(found, f"无法读取该文件（{os_reason(exc)}）")


def _file_problem(found: FoundFile, reason: str) -> RawTable:
    empty = pl.DataFrame({"source_row": pl.Series([], dtype=pl.Int32)})
    return RawTable([], empty, problems=[Problem(found.rel, None, None, reason)])


def read_csv(found: FoundFile) -> RawTable:
    data = found.path.read_bytes()
    if not data.strip() or data.strip() == UTF8_BOM:
        return _file_problem(found, "文件为空（没有表头）")
    encoding = "utf-8-sig" if data.startswith(UTF8_BOM) else "utf-8"
    try:
        # Fast path: polars validates UTF-8 itself (and skips a BOM).
        frame = _parse_csv(data)
    except Exception as exc:  # invalid UTF-8, or a malformed CSV
        decoded = decode_csv_bytes(data)
        if decoded is None:
            return _file_problem(
                found, "无法识别文件编码：CSV 应为 UTF-8（可带 BOM）或 GB18030/GBK"
            )
        body, encoding = decoded
        if encoding != "gb18030":
            return _file_problem(found, _csv_reason(exc))
        try:
            frame = _parse_csv(body)
        except Exception as exc2:
            return _file_problem(found, _csv_reason(exc2))
    headers = list(frame.row(0)) if frame.height else []
    data = frame.slice(1)
    data = data.rename({c: f"c{i}" for i, c in enumerate(data.columns)})
    data = data.with_columns((pl.int_range(pl.len(), dtype=pl.Int32) + 2).alias("source_row"))
    return RawTable(headers, data, encoding=encoding)


def _parse_csv(data: bytes) -> pl.DataFrame:
    return pl.read_csv(
        data,
        has_header=False,
        infer_schema=False,
        empty_string_is_null=True,
        raise_if_empty=False,
        encoding="utf8",
    )


def read_xlsx(found: FoundFile) -> RawTable:
    """First sheet, every cell as text; date cells come out as ISO dates."""
    with open(found.path, "rb") as fh:  # an OSError here is reported by read_table
        if not fh.read(4):
            return _file_problem(found, "文件为空（0 字节）")
    try:
        reader = fastexcel.read_excel(found.path)
        sheet = reader.load_sheet(0, header_row=None, dtypes="string")
        frame = sheet.to_polars()
    except Exception as exc:
        return _file_problem(found, f"无法读取 Excel 文件：{_short(exc)}")
    if frame.height == 0:
        return _file_problem(found, "第一个工作表为空（没有表头）")
    first_row = _first_used_row(found.path)
    headers = list(frame.row(0))
    data = frame.slice(1)
    data = data.rename({c: f"c{i}" for i, c in enumerate(data.columns)})
    # calamine renders date cells as 'YYYY-MM-DD HH:MM:SS': keep the day.
    midnight = r"^(\d{4}-\d{2}-\d{2}) \d{2}:\d{2}:\d{2}(?:\.\d+)?$"
    data = data.with_columns(
        pl.when(pl.col(c).str.contains(midnight))
        .then(pl.col(c).str.extract(midnight, 1))
        .otherwise(pl.col(c))
        .alias(c)
        for c in data.columns
    )
    data = data.with_columns(
        (pl.int_range(pl.len(), dtype=pl.Int32) + first_row + 1).alias("source_row")
    )
    return RawTable(headers, data, xlsx_path=found.path)


def xlsx_numeric_cells(path: Path, column_index: int, height: int) -> pl.Series:
    """True for every data row whose cell in `column_index` is stored as a number (or boolean).

    calamine's boolean coercion turns numeric cells into true/false and text cells into null,
    which tells the cell types apart without reading the sheet cell by cell."""
    sheet = fastexcel.read_excel(path).load_sheet(
        0, header_row=None, use_columns=[column_index], dtypes={column_index: "boolean"}
    )
    flags = sheet.to_polars().to_series(0).slice(1)
    return flags.is_not_null().extend_constant(False, max(0, height - flags.len())).head(height)


_SHEET_TARGET = re.compile(r'<sheet\b[^>]*?\br:id="([^"]+)"')
_REL = re.compile(r'<Relationship\b[^>]*?\bId="([^"]+)"[^>]*?\bTarget="([^"]+)"')
_REL_ALT = re.compile(r'<Relationship\b[^>]*?\bTarget="([^"]+)"[^>]*?\bId="([^"]+)"')
_VALUED_CELL = re.compile(
    r'<c\b[^>]*?\br="[A-Z]+(\d+)"[^>]*?(?<!/)>(?:(?!</c>).)*?<(?:v|is)\b', re.S
)


def _first_used_row(path: Path) -> int:
    """The sheet row of the first non-empty cell of the first sheet (calamine starts there).
    Falls back to 1 when the workbook layout is unusual."""
    try:
        with zipfile.ZipFile(path) as z:
            workbook = z.read("xl/workbook.xml").decode("utf-8", "replace")
            rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
            rid = _SHEET_TARGET.search(workbook)
            targets = dict(_REL.findall(rels))
            targets.update({i: t for t, i in _REL_ALT.findall(rels)})
            target = targets[rid.group(1)] if rid else "worksheets/sheet1.xml"
            target = target.lstrip("/")
            name = target if target.startswith("xl/") else f"xl/{target}"
            with z.open(name) as fh:
                head = fh.read(1 << 20).decode("utf-8", "replace")
        m = _VALUED_CELL.search(head)
        return int(m.group(1)) if m else 1
    except (KeyError, OSError, zipfile.BadZipFile, ValueError):
        return 1


def _csv_reason(exc: Exception) -> str:
    if "more fields" in str(exc):
        return "无法解析 CSV：有的行比表头多出几列（请检查未加引号的逗号）"
    return f"无法解析 CSV：{_short(exc)}"


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
