"""Cell text rules common to every kind: length limits, invisible characters in identifiers
and in published free text. Vectorised masks; Python only formats the bad cells' messages.

- Lengths (schema.py says why each limit): a cell longer than its column's limit is an
  error naming its length and the limit; the cell is then cut to the limit in memory only
  (the file has an error, so nothing of it is stored) so that later messages stay short.
- 学号: a student number must not hold a character that looks like nothing or like another
  character: control characters (NUL …), format characters (BOM U+FEFF, zero-width
  U+200B–U+200D, U+2060, bidi controls U+202A–U+202E, U+2066–U+2069, marks U+200E/U+200F),
  private-use characters, line/paragraph separators, any whitespace inside it, the
  replacement character U+FFFD (a decoding accident) and full-width forms (０-９, Ａ-Ｚ).
  Otherwise the same graduate silently becomes a different one. After reporting, the cell
  is cleaned in memory (those characters removed, full-width made half-width; the file has
  an error, so nothing of it is stored), so that the cross-file rules see the student
  number the user meant and do not report the same cell a second time (e.g. the roster's
  「不在最新导出」).
- Published free text (Column.public_text): no control or format characters (tab and line
  breaks are fine): bidi controls reorder what the reader sees, zero-width characters can
  hide a student number from the personal-data check."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import polars as pl

from employment_eval.ingest.checks import Collector

_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f"
# Rust regex (polars): general categories are supported.
ID_INVISIBLE = r"[\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}\s\x{FFFD}" + _BIDI + "]"
ID_BAD_CHARS = r"[\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}\s\x{FFFD}\x{FF01}-\x{FF5E}" + _BIDI + "]"
_FULL_WIDTH = [chr(c) for c in range(0xFF01, 0xFF5F)]
_HALF_WIDTH = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)]
_CONTROLS_BUT_TAB_AND_BREAKS = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F"
TEXT_BAD_CHARS = r"[\p{Cf}\p{Co}\p{Zl}\p{Zp}\x{FFFD}" + _BIDI + _CONTROLS_BUT_TAB_AND_BREAKS + "]"

_NAMES = {
    "\ufeff": "字节顺序标记 BOM",
    "\u200b": "零宽空格",
    "\u200c": "零宽不连字",
    "\u200d": "零宽连字",
    "\u2060": "零宽不换行符",
    "\u200e": "从左到右标记",
    "\u200f": "从右到左标记",
    "\x00": "空字符 NUL",
    "\t": "制表符",
    "\n": "换行符",
    "\r": "回车符",
    "\u3000": "全角空格",
    "\u00a0": "不换行空格",
    " ": "空格",
    "\ufffd": "替换字符，通常是编码转换出错留下的",
}


def describe_char(ch: str) -> str:
    """'U+200B（零宽空格）' — a character the reader may not see, named."""
    code = f"U+{ord(ch):04X}"
    if ch in _NAMES:
        name = _NAMES[ch]
    elif "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069":
        name = "双向文本控制符"
    elif "\uff01" <= ch <= "\uff5e":
        name = f"全角字符「{ch}」，应为半角「{chr(ord(ch) - 0xFEE0)}」"
    else:
        category = unicodedata.category(ch)
        name = {
            "Cc": "控制字符",
            "Cf": "格式字符",
            "Co": "私用区字符",
            "Zl": "行分隔符",
            "Zp": "段分隔符",
        }.get(category, "空白字符" if ch.isspace() else "不可见字符")
    return f"{code}（{name}）"


def first_bad_char(text: str | None, allowed_whitespace: bool) -> tuple[int, str] | None:
    """(1-based position, description) of the first character the rules refuse."""
    for i, ch in enumerate(text or "", start=1):
        category = unicodedata.category(ch)
        bad = category in ("Cc", "Cf", "Co", "Zl", "Zp") or ch == "\ufffd"
        if allowed_whitespace:
            bad = bad and ch not in "\t\n\r"
        else:
            bad = bad or ch.isspace() or "\uff01" <= ch <= "\uff5e"
        if bad:
            return i, describe_char(ch)
    return None


def check_lengths(
    df: pl.DataFrame, limits: dict[str, tuple[str, int]], out: Collector
) -> pl.DataFrame:
    """limits: column → (header as shown, max characters). Reports every over-long cell and
    cuts it to the limit. A byte count (O(1) per cell) rules out almost every column first."""
    if df.height == 0 or not limits:
        return df
    suspects = df.select(
        (pl.col(c).str.len_bytes() > limit).any().alias(c) for c, (_, limit) in limits.items()
    ).row(0, named=True)
    for column, (header, limit) in limits.items():
        if not suspects[column]:
            continue
        length = pl.col(column).str.len_chars()
        out.where(
            df,
            length > limit,
            header,
            _too_long(header, limit),
            value=length.cast(pl.String),
        )
        df = df.with_columns(
            pl.when(length > limit)
            .then(pl.col(column).str.slice(0, limit))
            .otherwise(pl.col(column))
            .alias(column)
        )
    return df


def _too_long(header: str, limit: int) -> Callable[[str | None], str]:
    def reason(length: str | None) -> str:
        count = int(length or 0)
        return (
            f"内容过长：共 {count:,} 个字符，超过「{header}」的上限 {limit:,} 个字符。"
            "请删减后重新提交（程序不会替您截断）"
        )

    return reason


def check_identifier(df: pl.DataFrame, column: str, header: str, out: Collector) -> pl.DataFrame:
    """学号 with an invisible, control, whitespace or full-width character: an error per cell,
    then the cell is cleaned in memory (module docstring)."""
    bad = pl.col(column).str.contains(ID_BAD_CHARS)
    if not df.select(bad.any()).item():
        return df

    def reason(value: str | None) -> str:
        found = first_bad_char(value, allowed_whitespace=False)
        where = f"学号的第 {found[0]} 个字符是 {found[1]}" if found else "学号中有一个字符"
        return (
            f"{where}，看不见或容易混淆：这样的学号看起来一样，实际上是另一个学号。"
            "请在原系统中改正该学号（删除该字符，或改为半角）后重新导出"
        )

    out.where(df, bad, header, reason, value=column, shorten=False)
    cleaned = (
        pl.col(column)
        .str.replace_all(ID_INVISIBLE, "")
        .str.replace_many(_FULL_WIDTH, _HALF_WIDTH)
        .replace("", None)
    )
    return df.with_columns(pl.when(bad).then(cleaned).otherwise(pl.col(column)).alias(column))


def check_public_text(df: pl.DataFrame, column: str, header: str, out: Collector) -> None:
    """Published free text must not hold control or format characters."""
    bad = pl.col(column).str.contains(TEXT_BAD_CHARS)
    if not df.select(bad.any()).item():
        return

    def reason(value: str | None) -> str:
        found = first_bad_char(value, allowed_whitespace=True)
        where = f"第 {found[0]} 个字符是 {found[1]}" if found else "有一个字符"
        return (
            f"「{header}」的{where}，是看不见的控制或格式字符：该内容会公开发布，"
            "请删除该字符后重新保存"
        )

    out.where(df, bad, header, reason, value=column, shorten=False)
