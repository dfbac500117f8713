"""Header normalisation: the header cells as written → the canonical column names of schema.py.

A header may be the Chinese header, the English name, or '中文(english)'; stray spaces
(full-width too), full-width parentheses and letter case do not matter. Unknown columns are
kept, serialised per row into `extra_columns` (a JSON object of the non-blank values)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import polars as pl

from employment_eval.ingest.checks import Collector
from employment_eval.ingest.read import RawTable
from employment_eval.ingest.schema import CELL_LIMIT, COLUMNS, Column
from employment_eval.ingest.text import check_lengths
from employment_eval.ingest.values import clean_text
from employment_eval.problems import Problem

_SPACES = re.compile(r"\s+")


def normalise_header(text: str) -> str:
    """Spaces, invisible format/control characters (a stray BOM), full-width parentheses and
    letter case do not matter in a header."""
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
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
    unreadable: bool = False  # the file could not be read at all (its one problem says why)


def canonicalise(kind: str, rel: str, raw: RawTable) -> Table:
    """The file's columns under their canonical names, cleaned. Consumes `raw.data` (left
    empty): a caller needing the rows as read takes what it needs before."""
    columns = COLUMNS[kind]
    if raw.unreadable:  # one problem for the file, not one per missing column
        empty = pl.DataFrame(
            {"source_row": pl.Series([], dtype=pl.Int32)}
            | {c.name: pl.Series([], dtype=pl.String) for c in columns}
            | {"extra_columns": pl.Series([], dtype=pl.String)}
        )
        return Table(kind, rel, empty, set(), {}, list(raw.problems), unreadable=True)
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
    missing_required = [c for c in columns if c.required and c.name not in renames.values()]
    if missing_required and len(missing_required) == sum(c.required for c in columns):
        # Not one expected column: another kind of file, or the header is not in row 1.
        expected = "、".join(c.header for c in columns if c.required)
        problems.append(
            Problem(
                rel,
                None,
                None,
                f"表头中没有任何应有的列（必需的列：{expected}）：这可能不是该文件夹应放的"
                "文件，或表头不在数据上方的第一行",
            )
        )
    else:
        for col in missing_required:
            problems.append(
                Problem(rel, None, col.header, f"缺少必需的列「{col.header}」（{col.name}）")
            )

    data = raw.data.select(
        [pl.col("source_row")]
        + [pl.col(raw_col).alias(name) for raw_col, name in renames.items()]
        + [pl.col(raw_col) for raw_col in extras]
    )
    # consumed: the text as read is dropped column by column below as it is cleaned (a large
    # export held as read and cleaned at once needed twice its memory)
    raw.data = raw.data.clear()
    text_cols = list(renames.values()) + list(extras)
    for c in text_cols:  # one column at a time: all at once held a large file's text twice
        data = data.with_columns(clean_text(c))
    # A row that is blank in every cell is not a row (Excel keeps formatted empty rows).
    if text_cols:
        keep = data.select(
            pl.any_horizontal(pl.col(c).is_not_null() for c in text_cols)
        ).to_series()
        if not keep.all():
            data = data.filter(keep)
    else:
        data = data.clear()
    out = Collector(rel)
    limits = {c.name: (c.header, c.max_chars) for c in columns if c.name in renames.values()}
    limits |= {raw_col: (key, CELL_LIMIT) for raw_col, key in extras.items()}
    data = check_lengths(data, limits, out)
    problems += out.problems
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
