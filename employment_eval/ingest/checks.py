"""Turning vectorised rule masks into Problems (one per bad cell) — the only per-row Python
loop of ingestion, and it runs over bad rows only."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from employment_eval.problems import Problem, Severity

Reason = str | Callable[[str | None], str]


class Collector:
    """Collects problems of one file. `df` must carry `source_row`."""

    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.problems: list[Problem] = []

    def where(
        self,
        df: pl.DataFrame,
        mask: pl.Expr,
        header: str,
        reason: Reason,
        *,
        value: str | pl.Expr | None = None,
        severity: Severity = "error",
        shorten: bool = True,
    ) -> None:
        """One problem per row where `mask` is true. `reason` is a text, or a function of the
        cell's value (`value`: a column name or expression, reason's argument). With
        `shorten`, a long value reaches `reason` cut to its first characters (a message
        quotes it; a 30,000-character cell must not make a 30,000-character message)."""
        value_expr = pl.col(value) if isinstance(value, str) else value
        if value_expr is None:
            value_expr = pl.lit(None, dtype=pl.String)
        bad = df.filter(mask.fill_null(False)).select(
            pl.col("source_row"), value_expr.cast(pl.String).alias("__value")
        )
        if bad.height == 0:
            return
        cache: dict[str | None, str] = {}
        for row, val in bad.iter_rows():
            if callable(reason):
                if val not in cache:
                    cache[val] = reason(shown(val) if shorten else val)
                text = cache[val]
            else:
                text = reason
            self.problems.append(Problem(self.rel, row, header, text, severity))

    def add(self, row: int | None, header: str | None, reason: str, severity: Severity = "error"):
        self.problems.append(Problem(self.rel, row, header, reason, severity))


QUOTE_LIMIT = 80


def shown(value: str | None) -> str | None:
    """A cell value as quoted in a message: long values cut, with their length."""
    if value is None or len(value) <= QUOTE_LIMIT:
        return value
    return f"{value[:QUOTE_LIMIT]}…（共 {len(value):,} 个字符）"


def present_and(column: str, condition: pl.Expr) -> pl.Expr:
    """Non-blank cell AND condition (blank cells are the `required` rule's business)."""
    return pl.col(column).is_not_null() & condition


def duplicate_rows(
    df: pl.DataFrame, keys: list[str], extra: list[str] | None = None
) -> pl.DataFrame:
    """Rows whose key (all non-null) occurs more than once, with `__rows`: every row number of
    that key, in order."""
    keyed = df.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
    dups = keyed.filter(pl.len().over(keys) > 1)
    rows = pl.col("source_row").sort().over(keys, mapping_strategy="join").alias("__rows")
    return dups.with_columns(rows).select(["source_row", *keys, *(extra or []), "__rows"])


def rows_text(rows: list[int], own: int) -> str:
    return "、".join(str(r) for r in rows if r != own)
