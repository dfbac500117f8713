"""What the scored year was published with. The published marts file keeps the rules of every
year in its `reference.rule_*` tables (with each rules file's sha256 in `reference.rule_years`);
when the official rules file of the year is no longer that file, the 正式 column of the what-if
is not what was published, and each setting that differs is said, one line each."""

from __future__ import annotations

from pathlib import Path

import duckdb

from employment_eval import publish
from employment_eval.rules import Rules, rules_from_rows
from employment_eval.whatif.compare import rule_changes

RULE_TABLES = ("rule_years", "rule_milestones", "rule_targets", "rule_indicators", "rule_quotas")


def published_rules(marts_path: Path, year: int) -> Rules | None:
    """The year's rules as published in `marts_path` (None when the year has none there)."""
    con = publish.open_published(marts_path)
    try:
        rows = {
            table: publish.fetch_dicts(
                con, f"select * from reference.{table} where year = ?", [year]
            )
            for table in RULE_TABLES
        }
    finally:
        con.close()
    return rules_from_rows(rows) if rows["rule_years"] else None


def notes(official: Rules, marts_path: Path | None) -> list[str]:
    """Lines for the what-if's header: nothing when the official rules file is the one the year
    was published with; otherwise a line saying so, then one line per differing setting."""
    year = official.year
    if marts_path is None or not marts_path.is_file():
        return [
            f"注意：找不到上次成功运行发布的数据库 {marts_path or '（未记录）'}，"
            f"无法核对 {year} 年度发布时所用的规则；「正式」按现在的规则文件计算。"
        ]
    try:
        published = published_rules(marts_path, year)
    except duckdb.Error as exc:
        return [
            f"注意：发布数据库 {marts_path} 无法读取（{str(exc).splitlines()[0][:200]}），"
            f"无法核对 {year} 年度发布时所用的规则；「正式」按现在的规则文件计算。"
        ]
    if published is None:
        return [
            f"注意：发布数据库 {marts_path} 中没有 {year} 年度的规则（该年度尚未发布）；"
            "「正式」按现在的规则文件计算。"
        ]
    if published.sha256 == official.sha256:
        return []
    differences = rule_changes(published, official)
    head = (
        f"注意：{year} 年度现在的正式规则文件 {official.path}（sha256 {official.sha256[:12]}）"
        f"不是发布时所用的 {published.path}（sha256 {published.sha256[:12]}）"
    )
    if not differences:
        return [head + "，但各项设置相同（只改了注释、格式或文号），「正式」与已发布的数据一致。"]
    return [
        head + f"：「正式」按现在的文件计算，与已发布的数据可能不同。"
        f"与发布时相比有 {len(differences)} 处不同：",
        *(f"  {year} 年度 {line}" for line in differences),
    ]
