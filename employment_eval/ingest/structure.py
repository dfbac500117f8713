"""A file's shape before its cells are judged: a header merged with data, a header repeated
inside the data (a repeated header line, or several exports joined into one file), lines of
binary content. Each is one error naming what it is and where; the file is then refused as a
whole (its rows would only give hundreds of row errors that say nothing of the cause). The
messages never quote a cell that may hold a 学号 or 姓名.

- Header cells: an unknown header cell that looks like data — a control character (NUL …)
  in it, a date, a number, a student-number-like code, a year, a unit's name, or a
  value of one of the kinds' fixed vocabularies (民族, 学历层次, 是/否, 鉴证状态 …) — is an error
  naming its column position: the header has been merged with a data line.
- Repeated header: a data row in which at least half of the recognised columns hold a header
  name again. Right below the header it is a header written twice; further down, the file
  holds several files joined end to end (a concatenated export).
- Binary lines: a row with a cell made only of control bytes (NUL …), or with two or more
  control bytes in all (tab and line breaks excepted). A single odd character in a 学号 is left
  to that column's own, more precise rule (text.py)."""

from __future__ import annotations

import re
import unicodedata

import polars as pl

from employment_eval.ingest.headers import header_lookup, normalise_header
from employment_eval.ingest.lookups import Lookups
from employment_eval.ingest.read import RawTable
from employment_eval.ingest.schema import COLUMNS
from employment_eval.ingest.values import parse_date_text, parse_year
from employment_eval.problems import Problem

CONTROL = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]"
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_CODE = re.compile(r"^[A-Za-z]{0,4}[-_]?\d{4,}[A-Za-z0-9_-]*$")
FIXED_VALUES = ("是", "否", "男", "女", "已鉴证", "未鉴证", "经济困难", "学业困难", "先进单位")
SHOWN_ROWS = 5
SHOWN_COLUMNS = 6


def problems(kind: str, rel: str, raw: RawTable, lk: Lookups) -> list[Problem]:
    """Every shape problem of one file as read (empty when its shape is sound)."""
    if raw.unreadable:
        return []
    found = header_problems(kind, rel, raw.headers, lk)
    found += repeated_header_problems(kind, rel, raw)
    found += binary_row_problems(rel, raw)
    return found


# --- header cells that are data -----------------------------------------------------------


def _vocabulary(lk: Lookups) -> set[str]:
    words = set(FIXED_VALUES)
    words |= set(lk.ethnicity_by_name) | set(lk.degree_code) | set(lk.employer_type_by_name)
    words |= set(lk.province_by_name)
    words |= {f"I{i}" for i in range(1, 10)}
    return words


def looks_like_data(text: str, lk: Lookups, vocabulary: set[str]) -> str | None:
    """What a header cell is when it looks like data ("是一个日期（2021-05-14）": a short
    phrase that quotes the cell only when it cannot be personal), else None."""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n" for ch in text):
        return "含有控制字符（如 NUL）"
    cell = "".join(text.split())  # a header cell wrapped onto two lines is still one name
    if parse_date_text(cell) is not None:
        return f"是一个日期（{cell}）"
    if _NUMBER.match(cell) or _CODE.match(cell):
        return "是一个数字或编号（如学号、代码）"
    year = pl.DataFrame({"v": [cell]}).select(parse_year(pl.col("v"))).item()
    if year is not None:
        return f"是一个年份（{cell}）"
    if cell in lk.unit_by_name or cell.lower() in lk.unit_by_name:
        return f"是一个单位名称（{cell}）"
    if cell in vocabulary:
        return f"是一个数据值（{cell}）"
    return None


def header_problems(kind: str, rel: str, headers: list[str | None], lk: Lookups) -> list[Problem]:
    """An error for every unknown header cell that looks like data, naming its position. Not
    judged when no header cell is recognised at all (that file gets its own single error:
    the header is not in the first row, or it is another kind of file)."""
    lookup = header_lookup(COLUMNS[kind])
    texts = [(h or "").strip() for h in headers]
    if not any(t and normalise_header(t) in lookup for t in texts):
        return []
    vocabulary = _vocabulary(lk)
    found: list[tuple[int, str]] = []
    for i, (raw, text) in enumerate(zip(headers, texts, strict=True)):
        if not text or normalise_header(text) in lookup:
            continue
        what = looks_like_data(raw or "", lk, vocabulary)
        if what is not None:
            found.append((i + 1, what))
    if not found:
        return []
    positions = "、".join(str(i) for i, _ in found)
    examples = "；".join(f"第 {i} 列{what}" for i, what in found[:SHOWN_COLUMNS])
    more = "等" if len(found) > SHOWN_COLUMNS else ""
    return [
        Problem(
            rel,
            1,
            None,
            f"表头的第 {positions} 列不是列名，而是数据（{examples}{more}）。表头似乎与数据连在"
            "了一起（例如表头行末尾的换行符丢失），整个文件不予读取。请检查第一行，使表头单独"
            "成行后重新保存或导出",
        )
    ]


# --- a header again inside the data -------------------------------------------------------


def _exact_forms(kind: str, headers: list[str | None]) -> list[str]:
    """Header cells as a repeated header writes them: this file's own header cells, and every
    accepted spelling as written (with or without a BOM in front)."""
    forms = {h for h in headers if h}
    for c in COLUMNS[kind]:
        for name in (c.name, c.name.upper(), c.name.title()):
            forms |= {c.header, name, f"{c.header}({name})", f"{c.header}（{name}）"}
    return sorted(forms | {"\ufeff" + f for f in forms} | {f.strip() for f in forms})


def repeated_header_rows(kind: str, raw: RawTable) -> list[int]:
    """Source rows of the data rows that repeat the header: at least half of the recognised
    header columns hold a header name of this kind again (in any column order, any spelling
    the header accepts). A cheap exact look-up on two columns finds the candidates; only those
    rows are normalised and counted."""
    lookup = header_lookup(COLUMNS[kind])
    known = [
        f"c{i}"
        for i, h in enumerate(raw.headers)
        if h and h.strip() and normalise_header(h) in lookup
    ]
    if not known or raw.data.height == 0:
        return []
    forms = _exact_forms(kind, raw.headers)
    candidates = raw.data.filter(pl.any_horizontal(pl.col(c).is_in(forms) for c in known[:2]))
    need = max(1, (len(known) + 1) // 2)
    rows = []
    for row in candidates.select("source_row", *known).iter_rows():
        hits = sum(1 for cell in row[1:] if cell and normalise_header(cell) in lookup)
        if hits >= need:
            rows.append(row[0])
    return rows


def _rows_text(rows: list[int]) -> str:
    shown = "、".join(str(r) for r in rows[:SHOWN_ROWS])
    return shown + (f" 等 {len(rows)} 行" if len(rows) > SHOWN_ROWS else "")


def _which(rows: list[int]) -> str:
    return "这一行" if len(rows) == 1 else f"第 {_rows_text(rows)} 行"


def repeated_header_problems(kind: str, rel: str, raw: RawTable) -> list[Problem]:
    rows = repeated_header_rows(kind, raw)
    out: list[Problem] = []
    if rows and rows[0] == 2:
        out.append(
            Problem(
                rel,
                2,
                None,
                "这一行重复了表头（表头写了两遍）：整个文件不予读取。请删除这一行后重新保存",
            )
        )
        rows = rows[1:]
    if rows:
        what = "导出" if kind == "registrations" else "文件"
        out.append(
            Problem(
                rel,
                rows[0],
                None,
                f"表头在数据中间再次出现（{_which(rows)}）：这个文件看来是几个{what}"
                f"首尾相接拼成的，整个文件不予读取。请分开保存为各自的文件（每个{what}一个），"
                "或只保留其中应当使用的一个",
            )
        )
    return out


# --- binary lines -------------------------------------------------------------------------


def binary_rows(raw: RawTable) -> list[int]:
    """Source rows with a cell made only of control bytes, or with two or more control bytes
    in all (tab and line breaks excepted)."""
    if raw.control_bytes is False or raw.data.height == 0:
        return []
    cols = [c for c in raw.data.columns if c != "source_row"]
    # one pass to find the rows with any control character (few or none), then the rule
    some = raw.data.select(
        pl.any_horizontal(pl.col(c).str.contains(CONTROL).fill_null(False) for c in cols)
    ).to_series()
    if not some.any():
        return []
    rows = raw.data.filter(some)
    counts = [pl.col(c).str.count_matches(CONTROL).fill_null(0) for c in cols]
    only = [
        (pl.col(c).str.count_matches(CONTROL) == pl.col(c).str.len_chars()).fill_null(False)
        & (pl.col(c).str.len_chars() > 0).fill_null(False)
        for c in cols
    ]
    hit = rows.filter(pl.any_horizontal(only) | (pl.sum_horizontal(counts) >= 2))
    return hit.get_column("source_row").to_list()


def binary_row_problems(rel: str, raw: RawTable) -> list[Problem]:
    rows = binary_rows(raw)
    if not rows:
        return []
    return [
        Problem(
            rel,
            rows[0],
            None,
            f"{_which(rows)}是二进制内容（含 NUL 等控制字节），不是文字数据：文件"
            "可能已损坏，或混入了其他文件的内容。整个文件不予读取，请重新导出或保存该文件",
        )
    ]
