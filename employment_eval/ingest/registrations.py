"""Row rules of a registrations export (docs/输入文件格式.md, 就业登记鉴证导出) and its
as-of date."""

from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath

import polars as pl

from employment_eval.ingest.checks import Collector, present_and
from employment_eval.ingest.common import (
    check_duplicates,
    check_numeric_ids,
    check_required,
    check_unit,
    parse_distinct,
    resolve_date,
    resolve_unit,
    resolve_year,
)
from employment_eval.ingest.headers import Table
from employment_eval.ingest.lookups import Lookups
from employment_eval.ingest.text import check_identifier
from employment_eval.ingest.validated import Validated
from employment_eval.ingest.values import dates_in_file_name, parse_date_text

KIND = "registrations"
YES, NO = "是", "否"
VERIFIED, UNVERIFIED = "已鉴证", "未鉴证"
COMPLETION = "结业"


HEADER_ONLY = (
    "导出只有表头，没有任何毕业生记录：每个导出都必须包含全部 15 个单位的毕业生"
    "（评估规则 D13）。请重新导出完整数据，或删除该文件"
)


def validate(table: Table, lk: Lookups) -> Validated:
    out = Collector(table.rel)
    out.problems.extend(table.problems)
    if table.unreadable or table.data.height == 0:  # a file-level error: nothing else to say
        if not table.problems:  # a bad header is the one thing to say about a header-only file
            out.add(None, None, HEADER_ONLY)
        return Validated(KIND, table.rel, table.data, out.problems, file_error=True)
    df = table.data
    check_required(table, out)
    check_numeric_ids(table, out)
    df = check_identifier(df, "student_id", "学号", out)

    # 民族
    df = df.with_columns(
        pl.col("ethnicity")
        .replace_strict(lk.ethnicity_by_name, default=None, return_dtype=pl.String)
        .alias("ethnicity_name")
    )
    out.where(
        df,
        present_and("ethnicity", pl.col("ethnicity_name").is_null()),
        "民族",
        lambda v: f"「{v}」不是 56 个民族之一（可写如 汉族 或 汉）",
        value="ethnicity",
    )

    # 培养单位
    df = resolve_unit(df, "unit", "unit_code", lk)
    check_unit(df, "unit", "unit_code", "培养单位", lk, out)

    # 学历层次: known labels; any other label containing 结业 is a completion too.
    df = _resolve_degree(df, lk)
    out.where(
        df,
        present_and("degree", pl.col("is_completion").is_null()),
        "学历层次",
        lambda v: f"无法识别的学历层次「{v}」（可用：{lk.degree_labels_hint} 等）",
        value="degree",
    )

    # 毕业年份
    df = resolve_year(df, "graduation_year", "cohort_year", "毕业年份", out)

    # 毕业去向代码: two or three digits whose family is in the destination table.
    code = pl.col("destination_code")
    family = code.str.slice(0, 2)
    known = code.str.contains(r"^\d{2,3}$") & family.is_in(lk.destination_families)
    df = df.with_columns(pl.when(known).then(family).otherwise(None).alias("destination_family"))
    out.where(
        df,
        present_and("destination_code", pl.col("destination_family").is_null()),
        "毕业去向代码",
        lambda v: f"未知的毕业去向代码「{v}」（应为去向代码表中的两位或三位代码）",
        value="destination_code",
    )

    # 单位性质: unknown → warning (counts as not guided).
    df = df.with_columns(
        pl.col("employer_type")
        .replace_strict(lk.employer_type_by_name, default=None, return_dtype=pl.String)
        .alias("employer_type_code")
    )
    out.where(
        df,
        present_and("employer_type", pl.col("employer_type_code").is_null()),
        "单位性质",
        lambda v: f"未知的单位性质「{v}」，按非引导单位计",
        value="employer_type",
        severity="warning",
    )

    # 单位所在地: the longest province name at the start of the text.
    def province(text: pl.Expr) -> pl.Expr:
        return text.str.extract(lk.province_prefix_pattern, 1).replace_strict(
            lk.province_by_name, default=None, return_dtype=pl.String
        )

    df = df.with_columns(
        parse_distinct(df, "employer_province", province, pl.String()).alias("province")
    )
    out.where(
        df,
        present_and("employer_province", pl.col("province").is_null()),
        "单位所在地",
        lambda v: f"无法识别「{v}」所在的省份，按未知处理",
        value="employer_province",
        severity="warning",
    )

    # 是否基层: blank → 否.
    grassroots = pl.col("grassroots")
    df = df.with_columns(
        pl.when(grassroots.is_null() | (grassroots == NO))
        .then(False)
        .when(grassroots == YES)
        .then(True)
        .otherwise(None)
        .alias("is_grassroots_flag")
    )
    out.where(
        df,
        pl.col("is_grassroots_flag").is_null(),
        "是否基层",
        lambda v: f"「{v}」应为 是 或 否",
        value="grassroots",
    )

    # 鉴证状态 / 鉴证日期
    status = pl.col("verification_status")
    df = df.with_columns(
        pl.when(status == VERIFIED)
        .then(True)
        .when(status == UNVERIFIED)
        .then(False)
        .otherwise(None)
        .alias("is_verified")
    )
    out.where(
        df,
        present_and("verification_status", pl.col("is_verified").is_null()),
        "鉴证状态",
        lambda v: f"「{v}」应为 已鉴证 或 未鉴证",
        value="verification_status",
    )
    df = resolve_date(df, "verification_date", "verified_date", "鉴证日期", out)
    out.where(
        df,
        pl.col("is_verified") & pl.col("verification_date").is_null(),
        "鉴证日期",
        "已鉴证的记录必须填写鉴证日期",
    )

    # 学号 unique per cohort within the file.
    cohort_key = pl.coalesce(pl.col("cohort_year").cast(pl.String), pl.col("graduation_year"))
    df = df.with_columns(cohort_key.alias("__cohort"))
    check_duplicates(
        df,
        ["student_id", "__cohort"],
        "学号",
        lambda r: f"学号「{r['student_id']}」在 {r['__cohort']} 届中",
        out,
    )
    df = df.drop("__cohort")

    as_of, source = _as_of(table, df, out)
    if as_of is not None:
        out.where(
            df,
            pl.col("verified_date") > pl.lit(as_of),
            "鉴证日期",
            lambda v: f"鉴证日期 {v} 晚于本导出的导出日期 {as_of.isoformat()}",
            value="verification_date",
        )
    df = df.with_columns(pl.lit(as_of, dtype=pl.Date).alias("as_of_date"))
    return Validated(KIND, table.rel, df, out.problems, as_of, source)


def _resolve_degree(df: pl.DataFrame, lk: Lookups) -> pl.DataFrame:
    label = pl.col("degree")
    other_completion = label.str.contains(COMPLETION)
    guessed = (
        pl.when(label.str.contains("博士"))
        .then(pl.lit("doctor"))
        .when(label.str.contains("硕士"))
        .then(pl.lit("master"))
        .when(label.str.contains("本科|学士"))
        .then(pl.lit("bachelor"))
        .otherwise(None)
    )
    known_code = label.replace_strict(lk.degree_code, default=None, return_dtype=pl.String)
    known_completion = label.replace_strict(
        lk.degree_completion, default=None, return_dtype=pl.Boolean
    )
    return df.with_columns(
        pl.when(known_code.is_not_null())
        .then(known_code)
        .when(other_completion)
        .then(guessed)
        .otherwise(None)
        .alias("degree_code"),
        pl.when(known_completion.is_not_null())
        .then(known_completion)
        .when(other_completion)
        .then(True)
        .otherwise(None)
        .alias("is_completion"),
    )


def _as_of(table: Table, df: pl.DataFrame, out: Collector) -> tuple[date | None, str | None]:
    """导出日期 (one value per file) when present and filled, else a date in the file name."""
    if "export_date" in table.present:
        values = df.get_column("export_date").drop_nulls().unique().sort().to_list()
        if len(values) > 1:
            shown = "、".join(values[:5]) + ("…" if len(values) > 5 else "")
            out.add(None, "导出日期", f"导出日期应为同一个值，本文件有 {len(values)} 个：{shown}")
            return None, None
        if len(values) == 1:
            parsed = parse_date_text(values[0])
            if parsed is None:
                out.add(None, "导出日期", f"导出日期「{values[0]}」不是有效日期")
                return None, None
            return parsed, "column"
    name = PurePosixPath(table.rel).name
    found = dates_in_file_name(name)
    if len(found) == 1:
        out.add(
            None,
            "导出日期",
            f"文件中没有「导出日期」列（或该列为空），导出日期取自文件名：{found[0].isoformat()}。"
            "请确认这就是导出当天；导出时带上「导出日期」列更可靠",
            "warning",
        )
        return found[0], "file_name"
    if len(found) > 1:
        shown = "、".join(d.isoformat() for d in found)
        out.add(None, "导出日期", f"无法确定导出日期：文件名中有多个日期（{shown}）")
    else:
        out.add(
            None,
            "导出日期",
            "无法确定导出日期（as-of）：文件没有「导出日期」列（或该列为空），"
            "文件名中也没有日期（如 2021-06-15 或 20210615）",
        )
    return None, None
