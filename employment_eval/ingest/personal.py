"""Personal data in published free text: the adjustments' 理由 and 审批人
(schema.Column.public_text) are published as written, so no graduate's 学号 or 姓名 may appear
in them, in any spelling.

Both sides are compared in a normal form that keeps letters and digits only:
- NFKC, so full-width digits and letters (０２１０, Ａ) become the ordinary ones;
- every other character removed: spaces of any kind, zero-width and other invisible characters,
  hyphens, dashes, dots, commas and all punctuation and symbols, combining marks. So
  「余 杰 建」, 「余·杰·建」, 「0210-110001」, 「０２１０１１０００１」 and a 学号 with a zero-width
  space inside read as the 姓名 and 学号 they spell;
- letters in lower case.

Every 学号 and 姓名 of two characters or more (after normalising) is looked for anywhere in the
text; a shorter one only as the whole cell (one character is found inside almost any text).
What cannot be caught is documented in docs/使用说明.md (pinyin, initials, Chinese numerals,
a name split by other words, homophones).

The cost grows with the text, not with the cohort: the cells are normalised in Python (they
are few: one per adjustment), the personal values in polars (vectorised), and one hash join in
DuckDB matches every window of each normalised cell (one per start and per length that occurs
among the values) against the values. A message gives the position in the cell as written
(first character and how many characters the match spans there), never the value."""

from __future__ import annotations

import functools
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

import duckdb
import polars as pl

from employment_eval.ingest.schema import COLUMNS
from employment_eval.problems import Problem

MIN_IN_TEXT = 2  # shorter values are matched only as the whole cell
KEEP = r"[^\p{L}\p{N}]"  # what normalising removes (polars regex)


@functools.cache
def _kept(ch: str) -> str:
    """What one character becomes in the normal form (often itself, often nothing)."""
    return "".join(
        c for c in unicodedata.normalize("NFKC", ch).lower() if unicodedata.category(c)[0] in "LN"
    )


def normalise(text: str) -> tuple[str, list[int]]:
    """(the text's letters and digits, NFKC and lower case; for each of them, the 1-based
    position in `text` of the character it comes from)."""
    out: list[str] = []
    where: list[int] = []
    for position, ch in enumerate(text, start=1):
        kept = _kept(ch)
        if kept:
            out.append(kept)
            where.extend([position] * len(kept))
    return "".join(out), where


@dataclass(frozen=True)
class Cell:
    file: str
    row: int
    header: str
    text: str
    where: list[int]  # normalised position → position as written


def _public_text_cells() -> str:
    parts = [
        f"select source_file, source_row, '{col.header}' as header, \"{col.name}\" as text "
        f'from ingest_cur_{kind} where "{col.name}" is not null'
        for kind, columns in COLUMNS.items()
        for col in columns
        if col.public_text
    ]
    return "\n    union all\n    ".join(parts)


PERSONAL_SQL = """
select student_id as v, 'id' as what from ingest_cur_registrations where student_id is not null
union
select student_id, 'id' from ingest_cur_special_groups where student_id is not null
union
select "name", 'name' from ingest_cur_registrations where "name" is not null
"""

MATCH_SQL = """
with lens as (
    select distinct what, length(v) as n from personal_text_values where length(v) >= $min
),
starts as (
    select c.cell, c.text, l.what, l.n, unnest(range(1, length(c.text) - l.n + 2)) as pos
    from personal_text_cells as c inner join lens as l on length(c.text) >= l.n
),
windows as (
    select cell, what, n, pos, substring(text, pos, n) as piece from starts
    union all
    select cell, w.what, length(text), 1, text
    from personal_text_cells cross join (values ('id'), ('name')) as w (what)
)
select distinct w.cell, w.what, w.pos, w.n
from windows as w inner join personal_text_values as p on p.what = w.what and p.v = w.piece
order by 1, 2, 3, 4 desc
"""


def _cells(con: duckdb.DuckDBPyConnection) -> list[Cell]:
    cells = []
    for file, row, header, text in con.execute(
        f"select * from ({_public_text_cells()}) order by 1, 2, 3"
    ).fetchall():
        norm, where = normalise(text)
        if norm:
            cells.append(Cell(file, row, header, norm, where))
    return cells


def _values(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The personal values, normalised like the text (distinct, none empty)."""
    raw = pl.from_arrow(con.sql(PERSONAL_SQL).to_arrow_table())
    return (
        raw.lazy()
        .with_columns(
            pl.col("v").str.normalize("NFKC").str.to_lowercase().str.replace_all(KEEP, "")
        )
        .filter(pl.col("v").str.len_chars() > 0)
        .unique()
        .collect()
    )


def personal_data_problems(con: duckdb.DuckDBPyConnection) -> list[Problem]:
    """One problem per cell of published free text that holds a graduate's 学号 or 姓名 (of any
    current export or roster), in any of the spellings the normal form folds together."""
    cells = _cells(con)
    if not cells:
        return []
    texts = pl.DataFrame(
        {"cell": range(len(cells)), "text": [c.text for c in cells]},
        schema={"cell": pl.Int64, "text": pl.String},
    )
    values = _values(con)
    con.register("personal_text_cells", texts.to_arrow())
    con.register("personal_text_values", values.to_arrow())
    try:
        found = con.execute(MATCH_SQL, {"min": MIN_IN_TEXT}).fetchall()
    finally:
        con.unregister("personal_text_cells")
        con.unregister("personal_text_values")
    first: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for index, what, pos, n in found:
        where = cells[index].where
        start, end = where[pos - 1], where[pos + n - 2]
        first[index].setdefault(what, (start, end - start + 1))  # earliest, longest there
    return [
        Problem(cells[i].file, cells[i].row, cells[i].header, _reason(cells[i].header, found))
        for i, found in sorted(first.items())
    ]


def _reason(header: str, found: dict[str, tuple[int, int]]) -> str:
    def span(pos: int, n: int) -> str:
        return f"第 {pos} 个字符起，共 {n} 个字符"

    parts = []
    if "id" in found:
        parts.append(f"一名毕业生的学号（{span(*found['id'])}）")
    if "name" in found:
        parts.append(f"一名毕业生的姓名（{span(*found['name'])}）")
    head = (
        f"含有{'以及'.join(parts)}。「{header}」会随记分表公开发布，不得包含个人信息"
        "（此处不重复该内容；中间夹有空格、横线、标点或看不见的字符、或写成全角的，同样算）。"
    )
    if header == "审批人":
        return head + "请写审批人的职务，如「学指委主任」，不要写个人姓名或学号"
    return (
        head + "请改写：删去学号和姓名，用「该生」「一名毕业生」等说法指代；"
        "如这几个字只是恰好与某位毕业生的姓名相同，也请换一种写法"
    )
