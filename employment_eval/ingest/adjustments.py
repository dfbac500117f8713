"""Row rules of the committee's adjustments (docs/输入文件格式.md, 学指委调整). The same
cell adjusted twice and personal data in 理由/审批人 are cross-file rules (crossfile.py);
whether a 先进单位 decision is allowed is decided downstream. A file with a header and no
rows means: no adjustments."""

from __future__ import annotations

import polars as pl

from employment_eval.ingest.checks import Collector, present_and
from employment_eval.ingest.common import (
    check_required,
    check_unit,
    resolve_date,
    resolve_unit,
    resolve_year,
)
from employment_eval.ingest.headers import Table
from employment_eval.ingest.lookups import Lookups
from employment_eval.ingest.schema import COLUMNS
from employment_eval.ingest.text import check_public_text
from employment_eval.ingest.validated import Validated
from employment_eval.ingest.values import hundredths_to_text, parse_hundredths

KIND = "adjustments"
ADVANCED = "ADVANCED"
ADVANCED_LABELS = ("先进单位", "advanced", "ADVANCED")


def validate(table: Table, lk: Lookups) -> Validated:
    out = Collector(table.rel)
    out.problems.extend(table.problems)
    if table.unreadable:
        return Validated(KIND, table.rel, table.data, out.problems, file_error=True)
    df = table.data
    check_required(table, out)
    for col in COLUMNS[KIND]:
        if col.public_text and col.name in table.present:
            check_public_text(df, col.name, col.header, out)
    df = resolve_unit(df, "unit", "unit_code", lk)
    check_unit(df, "unit", "unit_code", "单位", lk, out)
    df = resolve_year(df, "year", "adjustment_year", "年度", out)

    indicator = pl.col("indicator")
    df = df.with_columns(
        pl.when(indicator.str.to_uppercase().str.contains(r"^I[1-9]$"))
        .then(indicator.str.to_uppercase())
        .when(indicator.is_in(ADVANCED_LABELS) | (indicator.str.to_lowercase() == "advanced"))
        .then(pl.lit(ADVANCED))
        .otherwise(None)
        .alias("indicator_code")
    )
    out.where(
        df,
        present_and("indicator", pl.col("indicator_code").is_null()),
        "指标",
        lambda v: f"「{v}」应为 I1…I9 或 先进单位",
        value="indicator",
    )

    is_advanced = pl.col("indicator_code") == ADVANCED
    is_points = pl.col("indicator_code").is_not_null() & ~is_advanced
    cents = parse_hundredths(pl.col("value"))
    value = pl.col("value")
    df = df.with_columns(
        pl.when(is_points & (cents >= 0)).then(hundredths_to_text(cents)).alias("new_points"),
        pl.when(is_advanced & (value == "是"))
        .then(True)
        .when(is_advanced & (value == "否"))
        .then(False)
        .otherwise(None)
        .alias("advanced_decision"),
    )
    out.where(
        df,
        present_and("value", is_points & pl.col("new_points").is_null()),
        "调整后分值",
        lambda v: f"「{v}」应为不小于 0 的分值（最多两位小数）",
        value="value",
    )
    out.where(
        df,
        present_and("value", is_advanced & pl.col("advanced_decision").is_null()),
        "调整后分值",
        lambda v: f"先进单位的决定「{v}」应为 是 或 否",
        value="value",
    )
    df = resolve_date(df, "date", "decided_on", "日期", out)
    return Validated(KIND, table.rel, df, out.problems)
