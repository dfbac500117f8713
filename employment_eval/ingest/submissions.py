"""Row rules of the submissions ledger (docs/输入文件格式.md, 单位材料登记表). Blank cells and
missing rows are warnings computed across files (crossfile.py); here: types, bounds,
duplicates in a file. A ledger with a header and no rows is normal in season: its units
get the missing-row warnings like any unit without a row."""

from __future__ import annotations

import polars as pl

from employment_eval.ingest.checks import Collector
from employment_eval.ingest.common import (
    check_required,
    check_unit,
    resolve_count,
    resolve_date,
    resolve_decimal,
    resolve_unit,
    resolve_year,
)
from employment_eval.ingest.headers import Table
from employment_eval.ingest.lookups import Lookups
from employment_eval.ingest.validated import Validated

KIND = "submissions"

# text column → (resolved column, Chinese header, indicator). The upper bound of a reviewed
# score is the indicator's base points in the row's year's rules: checked across files
# (crossfile.score_bound_problems), where the rules are at hand.
SCORES = {
    "i1_review_score": ("i1_score", "就业工作组织得分", "I1"),
    "i4_review_score": ("i4_score", "未就业学生排摸得分", "I4"),
}
COUNTS = {
    "i2_complaints": ("i2_complaint_count", "优秀毕业生评选合理投诉次数"),
    "i5_talks": ("i5_talk_count", "职业导师校友座谈次数"),
    "i7_forms": ("i7_form_count", "职业咨询登记表份数"),
    "i8_stories": ("i8_story_count", "成长成才故事篇数"),
}
DATES = {
    "i4_report_date": ("i4_report_on", "未就业学生调研报告提交日期"),
    "i5_meeting_date": ("i5_meeting_on", "就业动员会日期"),
}


def validate(table: Table, lk: Lookups) -> Validated:
    out = Collector(table.rel)
    out.problems.extend(table.problems)
    if table.unreadable:
        return Validated(KIND, table.rel, table.data, out.problems, file_error=True)
    df = table.data
    check_required(table, out)
    df = resolve_unit(df, "unit", "unit_code", lk)
    check_unit(df, "unit", "unit_code", "单位", lk, out)
    df = resolve_year(df, "year", "ledger_year", "年度", out)
    for col, (alias, header, _indicator) in SCORES.items():
        df = resolve_decimal(df, col, alias, header, out, 0, None)
    for col, (alias, header) in COUNTS.items():
        df = resolve_count(df, col, alias, header, out)
    for col, (alias, header) in DATES.items():
        df = resolve_date(df, col, alias, header, out)
    df = df.with_columns(pl.col("ledger_year").cast(pl.Int32))
    return Validated(KIND, table.rel, df, out.problems)
