"""Row rules of the special-group roster (docs/输入文件格式.md, 特定群体名单). Membership of
the cohort is a cross-file rule (crossfile.py). A roster with a header and no rows lists
nobody: a warning."""

from __future__ import annotations

import polars as pl

from employment_eval.ingest.checks import Collector, present_and
from employment_eval.ingest.common import check_numeric_ids, check_required, resolve_year
from employment_eval.ingest.headers import Table
from employment_eval.ingest.lookups import Lookups
from employment_eval.ingest.text import check_identifier
from employment_eval.ingest.validated import Validated

KIND = "special_groups"
GROUPS = {
    "经济困难": "economic_hardship",
    "学业困难": "academic_difficulty",
    "economic_hardship": "economic_hardship",
    "academic_difficulty": "academic_difficulty",
}


HEADER_ONLY = (
    "名单只有表头，没有任何学生：本文件不列入任何人。如果这不是本意，请补全名单后重新运行"
    "（特定群体就业 I6 据此名单判断）"
)


def validate(table: Table, lk: Lookups) -> Validated:
    """A header-only roster is a warning: it lists nobody, which is legal but rarely meant."""
    out = Collector(table.rel)
    out.problems.extend(table.problems)
    if table.unreadable:
        return Validated(KIND, table.rel, table.data, out.problems, file_error=True)
    df = table.data
    if df.height == 0 and not table.problems:
        out.add(None, None, HEADER_ONLY, "warning")
    check_required(table, out)
    check_numeric_ids(table, out)
    df = check_identifier(df, "student_id", "学号", out)
    df = df.with_columns(
        pl.col("group")
        .replace_strict(GROUPS, default=None, return_dtype=pl.String)
        .alias("special_group")
    )
    out.where(
        df,
        present_and("group", pl.col("special_group").is_null()),
        "群体",
        lambda v: f"「{v}」应为 经济困难 或 学业困难",
        value="group",
    )
    df = resolve_year(df, "graduation_year", "cohort_year", "毕业年份", out)
    return Validated(KIND, table.rel, df, out.problems)
