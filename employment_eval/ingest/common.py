"""Rules shared by several kinds: required cells, units, years, integers, decimals, dates,
duplicated keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from employment_eval.ingest.checks import Collector, duplicate_rows, present_and, rows_text
from employment_eval.ingest.headers import Table
from employment_eval.ingest.lookups import Lookups
from employment_eval.ingest.schema import COLUMNS
from employment_eval.ingest.values import (
    hundredths_to_text,
    parse_date,
    parse_hundredths,
    parse_int,
    parse_year,
)

NUMERIC_ID_REASON = "学号以数字存储，Excel 已丢失前导零，请将该列设为文本格式"


def header_of(kind: str, name: str) -> str:
    return next(c.header for c in COLUMNS[kind] if c.name == name)


def check_required(table: Table, out: Collector) -> None:
    """A blank cell in a required column (present in the file) is an error."""
    for col in COLUMNS[table.kind]:
        if col.required and col.name in table.present:
            out.where(table.data, pl.col(col.name).is_null(), col.header, "必填，不能为空")


def check_numeric_ids(table: Table, out: Collector) -> None:
    if table.numeric_id_rows:
        mask = pl.col("source_row").is_in(table.numeric_id_rows)
        out.where(table.data, mask, header_of(table.kind, "student_id"), NUMERIC_ID_REASON)


def parse_distinct(
    df: pl.DataFrame, column: str, parse: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType
) -> pl.Expr:
    """Apply an expensive parser to the distinct values of a column only (exports repeat the
    same few hundred dates a million times) and map the results back."""
    distinct = df.select(pl.col(column).drop_nulls().unique())
    parsed = distinct.with_columns(parse(pl.col(column)).alias("__parsed"))
    return pl.col(column).replace_strict(
        parsed.get_column(column), parsed.get_column("__parsed"), default=None, return_dtype=dtype
    )


def resolve_unit(df: pl.DataFrame, column: str, alias: str, lk: Lookups) -> pl.DataFrame:
    """Unit name, short name, alias or code → unit code (codes case-insensitively)."""

    def lookup(text: pl.Expr) -> pl.Expr:
        exact = text.replace_strict(lk.unit_by_name, default=None, return_dtype=pl.String)
        lower = text.str.to_lowercase().replace_strict(
            lk.unit_by_name, default=None, return_dtype=pl.String
        )
        return pl.coalesce(exact, lower)

    return df.with_columns(parse_distinct(df, column, lookup, pl.String()).alias(alias))


def check_unit(
    df: pl.DataFrame, column: str, alias: str, header: str, lk: Lookups, out: Collector
) -> None:
    out.where(
        df,
        present_and(column, pl.col(alias).is_null()),
        header,
        lk.unknown_unit_reason,
        value=column,
    )


def resolve_year(
    df: pl.DataFrame, column: str, alias: str, header: str, out: Collector
) -> pl.DataFrame:
    df = df.with_columns(parse_distinct(df, column, parse_year, pl.Int32()).alias(alias))
    out.where(
        df,
        present_and(column, pl.col(alias).is_null()),
        header,
        lambda v: f"「{v}」不是年份（应为如 2021 或 2021届）",
        value=column,
    )
    return df


def resolve_count(
    df: pl.DataFrame, column: str, alias: str, header: str, out: Collector
) -> pl.DataFrame:
    """Non-negative integer."""
    df = df.with_columns(parse_int(pl.col(column)).cast(pl.Int32, strict=False).alias(alias))
    bad = present_and(column, pl.col(alias).is_null() | (pl.col(alias) < 0))
    out.where(df, bad, header, lambda v: f"「{v}」应为不小于 0 的整数", value=column)
    return df.with_columns(
        pl.when(pl.col(alias) >= 0).then(pl.col(alias)).otherwise(None).alias(alias)
    )


def resolve_decimal(
    df: pl.DataFrame,
    column: str,
    alias: str,
    header: str,
    out: Collector,
    low: int,
    high: int | None,
) -> pl.DataFrame:
    """Decimal with at most 2 decimals in [low, high] (bounds in whole units), compared exactly
    in hundredths. The resolved column holds canonical decimal text (DuckDB casts it)."""
    cents = parse_hundredths(pl.col(column))
    in_range = cents >= low * 100
    if high is not None:
        in_range = in_range & (cents <= high * 100)
    span = f"{low}–{high}" if high is not None else f"不小于 {low}"
    df = df.with_columns(
        pl.when(cents.is_not_null() & in_range).then(hundredths_to_text(cents)).alias(alias),
        cents.alias("__cents"),
    )
    out.where(
        df,
        present_and(column, pl.col("__cents").is_null()),
        header,
        lambda v: f"「{v}」不是数值（最多两位小数）",
        value=column,
    )
    out.where(
        df,
        present_and(column, pl.col("__cents").is_not_null() & pl.col(alias).is_null()),
        header,
        lambda v: f"「{v}」超出范围（应为 {span}）",
        value=column,
    )
    return df.drop("__cents")


def resolve_date(
    df: pl.DataFrame, column: str, alias: str, header: str, out: Collector
) -> pl.DataFrame:
    df = df.with_columns(parse_distinct(df, column, parse_date, pl.Date()).alias(alias))
    out.where(
        df,
        present_and(column, pl.col(alias).is_null()),
        header,
        lambda v: f"「{v}」不是有效日期（应为 2021-06-03、2021/6/3、20210603 或 Excel 日期）",
        value=column,
    )
    return df


def check_duplicates(
    df: pl.DataFrame,
    keys: list[str],
    header: str,
    describe: Callable[[dict[str, Any]], str],
    out: Collector,
) -> None:
    """Every row of a key that occurs more than once in the file, naming the other rows."""
    dups = duplicate_rows(df, keys)
    for row in dups.iter_rows(named=True):
        others = rows_text(row["__rows"], row["source_row"])
        out.add(row["source_row"], header, f"{describe(row)}重复出现（同文件第 {others} 行）")
