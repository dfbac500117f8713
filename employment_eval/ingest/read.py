"""Reading one raw file into an all-text polars frame (finding the files: discover.py).

A `RawTable` keeps the header cells as written and the data as text (null for blank cells),
plus the row number the user sees for every data row. Every file's records are counted a
second time without its reader — a CSV's from its bytes (records.py), an xlsx's from its sheet
XML (sheetrows.py) — and a file whose counts differ is refused at the first row where they part.
A file that cannot be read at all (permissions, empty, undecodable, not a workbook, counts that
differ, a line that cannot be parsed) comes back with exactly one file-level problem (in
Chinese, naming the row when there is one) and no rows: nothing else is said about it (api.py
leaves it out of every cross-file rule)."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import numpy as np
import polars as pl

from employment_eval.ingest import records, sheetrows
from employment_eval.ingest.discover import (  # re-exported: the discovery API of ingestion
    SUPPORTED_SUFFIXES,
    FoundFile,
    discover,
    os_reason,
    raw_dir_problem,
    sha256_of,
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
_BLANK = re.compile(rb"\s*(?:\xef\xbb\xbf\s*)?")  # nothing but blanks and a BOM


@dataclass
class RawTable:
    """One file as read: header cells as written, data cells as text, user-visible rows.
    `problems` is non-empty only when the file could not be read at all (file-level)."""

    headers: list[str | None]
    data: pl.DataFrame  # columns c0..cn (String), plus "source_row" (Int32)
    encoding: str | None = None  # CSV only
    xlsx_path: Path | None = None  # xlsx only: for cell-type probes
    # CSV: a control byte other than tab/CR/LF occurs (None: not known, look at the cells)
    control_bytes: bool | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def unreadable(self) -> bool:
        return bool(self.problems)


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


def _file_problem(found: FoundFile, reason: str, row: int | None = None) -> RawTable:
    empty = pl.DataFrame({"source_row": pl.Series([], dtype=pl.Int32)})
    return RawTable([], empty, problems=[Problem(found.rel, row, None, reason)])


def read_csv(found: FoundFile) -> RawTable:
    """The file's records, counted twice: by polars (the cells) and from the bytes
    (records.py); a file whose counts differ is refused at the first row where they part."""
    data = found.path.read_bytes()
    if _BLANK.fullmatch(data):  # (a regular expression: no copy of a file of gigabytes)
        return _file_problem(found, "文件为空（没有表头）")
    encoding = "utf-8-sig" if data.startswith(UTF8_BOM) else "utf-8"
    scan = records.scan_csv(data)
    text = records.as_lf(data, scan)
    try:
        # Fast path: polars validates UTF-8 itself (and skips a BOM).
        frame = _parse_csv(text)
    except Exception:  # invalid UTF-8, or a malformed CSV
        decoded = decode_csv_bytes(data)
        if decoded is None:
            return _file_problem(
                found, "无法识别文件编码：CSV 应为 UTF-8（可带 BOM）或 GB18030/GBK"
            )
        body, encoding = decoded
        scan = records.scan_csv(body)
        text = records.as_lf(body, scan)
        if encoding != "gb18030":
            return _unparsable(found, text)
        try:
            frame = _parse_csv(text)
        except Exception:
            return _unparsable(found, text)
    if frame.height != scan.records:
        row = records.first_divergence(text.removeprefix(UTF8_BOM), frame)  # polars skips it
        return _file_problem(found, _count_reason(scan.records, frame.height), row)
    del text
    headers = list(frame.row(0)) if frame.height else []
    data = frame.slice(1)
    data = data.rename({c: f"c{i}" for i, c in enumerate(data.columns)})
    data = data.with_columns((pl.int_range(pl.len(), dtype=pl.Int32) + 2).alias("source_row"))
    return RawTable(headers, data, encoding=encoding, control_bytes=scan.has_controls)


def _count_reason(counted: int, read: int) -> str:
    return (
        f"两种方法清点的行数不同：按换行与引号清点，本文件有 {counted - 1:,} 行数据，"
        f"按列读取却得到 {read - 1:,} 行，从这一行起两者不一致。为免漏读或多读，整个文件"
        '不予读取。常见原因是单元格中有不成对的英文双引号（"）：请检查这一行，改正后重新'
        "保存或导出"
    )


def _unparsable(found: FoundFile, text: bytes) -> RawTable:
    """A CSV polars cannot read: the first row at fault and why (no library text)."""
    if records.header_is_blank(text.removeprefix(UTF8_BOM)):
        return _file_problem(found, "第一行（表头）是空行：表头须写在第一行", 1)
    found_rows: list[tuple[int, str]] = []
    wide = records.first_wide_row(text)
    if wide is not None:
        row, fields, header = wide
        found_rows.append(
            (
                row,
                f"这一行比表头多出 {fields - header} 列（这一行 {fields} 列，表头 {header} 列）："
                "请检查这一行中未加引号的逗号（含逗号的内容须整体用英文双引号括起）",
            )
        )
    quote = records.first_quote_problem(text)
    if quote is not None:
        row, what = quote
        if what == "stray":
            reason = (
                '这一行有一个不成对的英文双引号（"）：含引号的内容须整体用双引号括起，'
                '其中的引号写两遍（如 "5""3"）'
            )
        else:
            reason = '从这一行起的英文双引号（"）没有闭合，直到文件末尾都在引号之内'
        found_rows.append((row, reason))
    if found_rows:
        row, reason = min(found_rows)
        return _file_problem(found, f"无法解析 CSV：{reason}", row)
    return _file_problem(
        found, "无法解析 CSV：格式不规范（如英文双引号不成对，或有的行列数与表头不同）"
    )


def _parse_csv(data: bytes) -> pl.DataFrame:
    return pl.read_csv(
        data,
        has_header=False,
        infer_schema=False,
        empty_string_is_null=True,
        raise_if_empty=False,
        encoding="utf8",
    )


OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # a compound file: an encrypted xlsx, or an .xls renamed


def read_xlsx(found: FoundFile) -> RawTable:
    """First sheet, every cell as text; date cells come out as ISO dates. The rows holding a
    value are counted twice: by the reader and from the sheet XML (sheetrows.py)."""
    with open(found.path, "rb") as fh:  # an OSError here is reported by read_table
        head = fh.read(4)
    if not head:
        return _file_problem(found, "文件为空（0 字节）")
    try:
        reader = fastexcel.read_excel(found.path)
        sheet = reader.load_sheet(0, header_row=None, dtypes="string")
        frame = sheet.to_polars()
    except Exception:  # the reader's own (English) text is never shown
        return _file_problem(found, _xlsx_reason(found.path, head))
    if frame.height == 0:
        return _file_problem(found, "第一个工作表为空（没有表头）")
    try:
        xml_rows = sheetrows.valued_rows(found.path)
    except sheetrows.SheetLayoutError:
        return _file_problem(
            found,
            "无法核对 Excel 文件的行数（工作表的结构不常见或已损坏）：请在 Excel 中打开后"
            "另存为 .xlsx 再放入",
        )
    first_row = int(xml_rows.min()) if xml_rows.size else 1
    valued = frame.select(pl.any_horizontal(pl.all().is_not_null())).to_series()
    reader_rows = np.flatnonzero(valued.to_numpy()) + first_row
    parting = sheetrows.first_parting_row(xml_rows, reader_rows)
    if parting is not None:
        return _file_problem(
            found,
            f"两种方法清点的行数不同：工作表中有 {xml_rows.size:,} 行有内容，读取却得到 "
            f"{reader_rows.size:,} 行，从这一行起两者不一致（例如同一行在文件中写了两遍）。"
            "为免漏读或多读，整个文件不予读取：请在 Excel 中打开后另存为 .xlsx 再放入",
            parting,
        )
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


def _xlsx_reason(path: Path, head: bytes) -> str:
    """Why a workbook cannot be read, in Chinese."""
    if head.startswith(OLE_MAGIC):
        return (
            "无法读取 Excel 文件：这是设有打开密码（加密）的工作簿，或是改了扩展名的旧版 .xls "
            "文件。请去掉密码，或在 Excel 中另存为 .xlsx"
        )
    if not zipfile.is_zipfile(path):
        return (
            "无法读取 Excel 文件：这不是有效的 .xlsx 文件（可能已损坏、没有完整复制，或是改了"
            "扩展名的其他文件）。请重新导出，或在 Excel 中另存为 .xlsx"
        )
    return "无法读取 Excel 文件：文件已损坏或格式不受支持。请在 Excel 中打开后另存为 .xlsx 再放入"


def xlsx_numeric_cells(path: Path, column_index: int, height: int) -> pl.Series:
    """True for every data row whose cell in `column_index` is stored as a number (or boolean).

    calamine's boolean coercion turns numeric cells into true/false and text cells into null,
    which tells the cell types apart without reading the sheet cell by cell."""
    sheet = fastexcel.read_excel(path).load_sheet(
        0, header_row=None, use_columns=[column_index], dtypes={column_index: "boolean"}
    )
    flags = sheet.to_polars().to_series(0).slice(1)
    return flags.is_not_null().extend_constant(False, max(0, height - flags.len())).head(height)
