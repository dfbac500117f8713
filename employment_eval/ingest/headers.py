"""Header normalisation: the header cells as written → the canonical column names of schema.py.

A header may be the Chinese header, the English name, or '中文(english)'; stray spaces
(full-width too), full-width parentheses and letter case do not matter. Unknown columns are
kept, serialised per row into `extra_columns` (a JSON object of the non-blank values)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from employment_eval.ingest.read import RawTable
from employment_eval.ingest.schema import COLUMNS, Column
from employment_eval.ingest.values import clean_text
from employment_eval.problems import Problem

_SPACES = re.compile(r"\s+")


def normalise_header(text: str) -> str:
    text = _SPACES.sub("", text).replace("（", "(").replace("）", ")")
    return text.lower()


def header_lookup(columns: tuple[Column, ...]) -> dict[str, Column]:
    lookup: dict[str, Column] = {}
    for c in columns:
        for form in (c.header, c.name, f"{c.header}({c.name})", f"{c.name}({c.header})"):
            lookup[normalise_header(form)] = c
    return lookup


@dataclass
class Table:
    """One file with canonical columns: every column of the kind (null when absent),
    `source_row`, `extra_columns`; `present` names the columns the file actually has."""

    kind: str
    rel: str
    data: pl.DataFrame
    present: set[str]
    column_index: dict[str, int] = field(default_factory=dict)  # canonical → raw position
    problems: list[Problem] = field(default_factory=list)
    numeric_id_rows: list[int] = field(default_factory=list)  # xlsx: 学号 stored as a number


def canonicalise(kind: str, rel: str, raw: RawTable) -> Table:
    columns = COLUMNS[kind]
    lookup = header_lookup(columns)
    problems: list[Problem] = []
    renames: dict[str, str] = {}
    column_index: dict[str, int] = {}
    extras: dict[str, str] = {}  # raw column → JSON key
    for i, header in enumerate(raw.headers):
        raw_col = f"c{i}"
        text = (header or "").strip()
        col = lookup.get(normalise_header(text)) if text else None
        if col is None:
            if not text:
                if raw.data.get_column(raw_col).str.strip_chars().str.len_bytes().max():
                    extras[raw_col] = _unique_key(f"第{i + 1}列", extras.values())
                continue
            extras[raw_col] = _unique_key(text, extras.values())
        elif col.name in renames.values():
            problems.append(
                Problem(
                    rel, 1, col.header, f"列「{col.header}」出现了多次，只读取第一次出现的那一列"
                )
            )
        else:
            renames[raw_col] = col.name
            column_index[col.name] = i
    for col in columns:
        if col.required and col.name not in renames.values():
            problems.append(
                Problem(rel, None, col.header, f"缺少必需的列「{col.header}」（{col.name}）")
            )

    data = raw.data.select(
        [pl.col("source_row")]
        + [pl.col(raw_col).alias(name) for raw_col, name in renames.items()]
        + [pl.col(raw_col) for raw_col in extras]
    )
    text_cols = list(renames.values()) + list(extras)
    data = data.with_columns(clean_text(c) for c in text_cols)
    # A row that is blank in every cell is not a row (Excel keeps formatted empty rows).
    if text_cols:
        keep = data.select(
            pl.any_horizontal(pl.col(c).is_not_null() for c in text_cols)
        ).to_series()
        if not keep.all():
            data = data.filter(keep)
    else:
        data = data.clear()
    data = data.with_columns(_extra_json(extras)).drop(list(extras))
    missing = [c.name for c in columns if c.name not in renames.values()]
    data = data.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
    data = data.select(["source_row", *[c.name for c in columns], "extra_columns"])
    return Table(kind, rel, data, set(renames.values()), column_index, raw.problems + problems)


def _unique_key(text: str, taken: object) -> str:
    existing = set(taken)  # type: ignore[arg-type]
    key, n = text, 2
    while key in existing:
        key, n = f"{text}_{n}", n + 1
    return key


def _extra_json(extras: dict[str, str]) -> pl.Expr:
    """Per row: a JSON object of the extra columns' non-blank values, null when none."""
    if not extras:
        return pl.lit(None, dtype=pl.String).alias("extra_columns")
    pairs = [
        pl.when(pl.col(raw_col).is_not_null()).then(
            pl.struct(pl.col(raw_col).alias(key)).struct.json_encode().str.slice(1).str.head(-1)
        )
        for raw_col, key in extras.items()
    ]
    body = pl.concat_str(pairs, separator=",", ignore_nulls=True)
    return (
        pl.when(body.str.len_bytes() > 0)
        .then(pl.concat_str(pl.lit("{"), body, pl.lit("}")))
        .otherwise(None)
        .alias("extra_columns")
    )
