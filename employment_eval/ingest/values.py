"""Vectorised value parsers (polars expressions over text columns).

Every parser maps text to a typed value or null; callers compare "non-null text" with
"null result" to find the bad cells. No float ever decides a boundary: decimals are parsed
as text into integer hundredths."""

from __future__ import annotations

import re
from datetime import date

import polars as pl

# YYYY-MM-DD, YYYY/M/D, YYYY.M.D, YYYY年M月D日, optionally followed by a time of day.
_YMD_SEPARATED = (
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_YMD_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
# An Excel serial day number (e.g. 44350 = 2021-06-03) written as plain text.
_EXCEL_SERIAL = r"^(\d{5})(?:\.0+)?$"
EXCEL_EPOCH = date(1899, 12, 30)

_INT = r"^([+-]?)(\d{1,9})(?:\.0+)?$"
_DECIMAL = r"^([+-]?)(\d{1,9})(?:\.(\d*))?$"
_YEAR = r"^(\d{4})(?:届|年度|年)?$"


def clean_text(col: str) -> pl.Expr:
    """Strip whitespace (full-width included); blank → null."""
    return pl.col(col).str.strip_chars().replace("", None).alias(col)


def parse_date(expr: pl.Expr) -> pl.Expr:
    """Text → Date (null when unparseable or not a real day)."""
    sep = expr.str.extract_groups(_YMD_SEPARATED)
    compact = expr.str.extract_groups(_YMD_COMPACT)

    def iso(parts: pl.Expr) -> pl.Expr:
        return pl.concat_str(
            parts.struct.field("1"),
            pl.lit("-"),
            parts.struct.field("2").str.zfill(2),
            pl.lit("-"),
            parts.struct.field("3").str.zfill(2),
        ).str.to_date("%Y-%m-%d", strict=False)

    serial = expr.str.extract(_EXCEL_SERIAL, 1).cast(pl.Int64, strict=False)
    from_serial = pl.lit(EXCEL_EPOCH) + pl.duration(days=serial)
    return pl.coalesce(iso(sep), iso(compact), from_serial)


def parse_int(expr: pl.Expr) -> pl.Expr:
    """Text → Int64 ('3', '3.0', '-2'); null when not an integer."""
    parts = expr.str.extract_groups(_INT)
    magnitude = parts.struct.field("2").cast(pl.Int64, strict=False)
    return pl.when(parts.struct.field("1") == "-").then(-magnitude).otherwise(magnitude)


def parse_year(expr: pl.Expr) -> pl.Expr:
    """'2021', '2021届', '2021年' → 2021 (Int32); null otherwise."""
    return expr.str.extract(_YEAR, 1).cast(pl.Int32, strict=False)


def parse_hundredths(expr: pl.Expr, max_decimals: int = 2) -> pl.Expr:
    """Decimal text → integer hundredths (Int64), exact; null when not a decimal with at most
    `max_decimals` significant decimals ('4.50' is fine, '4.505' is not)."""
    parts = expr.str.extract_groups(_DECIMAL)
    sign, whole = parts.struct.field("1"), parts.struct.field("2")
    frac = parts.struct.field("3").fill_null("").str.strip_chars_end("0")
    ok = whole.is_not_null() & (frac.str.len_chars() <= max_decimals)
    frac_value = frac.str.pad_end(2, "0").cast(pl.Int64, strict=False).fill_null(0)
    value = whole.cast(pl.Int64, strict=False) * 100 + frac_value
    signed = pl.when(sign == "-").then(-value).otherwise(value)
    return pl.when(ok).then(signed).otherwise(None)


def hundredths_to_text(expr: pl.Expr) -> pl.Expr:
    """Integer hundredths → canonical decimal text ('450' → '4.50'), cast exactly by DuckDB."""
    sign = pl.when(expr < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    magnitude = expr.abs()
    return pl.concat_str(
        sign,
        (magnitude // 100).cast(pl.String),
        pl.lit("."),
        (magnitude % 100).cast(pl.String).str.zfill(2),
    )


_NAME_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)|(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")


def dates_in_file_name(name: str) -> list[date]:
    """Every real date written as 2021-06-15 or 20210615 in a file name (distinct, in order)."""
    found: list[date] = []
    for m in _NAME_DATE.finditer(name):
        groups = [g for g in m.groups() if g is not None]
        try:
            d = date(int(groups[0]), int(groups[1]), int(groups[2]))
        except ValueError:
            continue
        if d not in found:
            found.append(d)
    return found


def parse_date_text(text: str) -> date | None:
    """Scalar version of parse_date (for single values such as 导出日期)."""
    value = pl.DataFrame({"v": [text.strip()]}).select(parse_date(pl.col("v"))).item()
    return value
