"""Row rules of the special-group roster (INPUTS.md §2). Membership of the cohort is a
cross-file rule (crossfile.py)."""

from __future__ import annotations

import polars as pl

from employment_eval.ingest.checks import Collector, present_and
from employment_eval.ingest.common import check_numeric_ids, check_required, resolve_year
from employment_eval.ingest.headers import Table
from employment_eval.ingest.lookups import Lookups
from employment_eval.ingest.validated import Validated

KIND = "special_groups"
GROUPS = {
    "经济困难": "economic_hardship",
    "学业困难": "academic_difficulty",
    "economic_hardship": "economic_hardship",
    "academic_difficulty": "academic_difficulty",
}


def validate(table: Table, lk: Lookups) -> Validated:
    out = Collector(table.rel)
    out.problems.extend(table.problems)
    df = table.data
    check_required(table, out)
    check_numeric_ids(table, out)
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
