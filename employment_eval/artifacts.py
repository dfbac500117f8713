"""Prefect artifacts attached to each run: the scoreboard, the quality summary and the units
furthest behind their next node. Read from the published marts only (no personal data).

The Prefect UI renders both markdown artifacts and the cells of table artifacts as Markdown,
so every value from the data (unit names, file names, check messages) goes through
`textsafe.markdown_text`: it shows as the same text, never as a link, an image or HTML, and
without bidi control characters. The scoreboard says 暂定 while the year is provisional."""

from __future__ import annotations

from pathlib import Path

from employment_eval import textsafe
from employment_eval.publish import fetch_dicts, open_published
from employment_eval.render.yearend.data import MissingProvenanceError, read_provenance

WARNINGS_SHOWN = 50


def _query(marts_path: Path, sql: str, params: list[object]) -> list[dict]:
    con = open_published(marts_path)
    try:
        return [
            {k: textsafe.markdown_cell(v) for k, v in row.items()}
            for row in fetch_dicts(con, sql, params)
        ]
    finally:
        con.close()


def scoreboard_rows(marts_path: Path, year: int) -> list[dict]:
    return _query(
        marts_path,
        """select unit_group as 组别, rank_in_group as 名次, unit_name as 单位,
                  cast(total_points as varchar) as 总分,
                  case when is_advanced then '是' else '' end as 先进单位,
                  case when tie_at_cutoff then '并列待定' else '' end as 名额线并列,
                  case status when 'final' then '最终' else '暂定' end as 状态
           from marts.scoreboard where year = ?
           order by case unit_group when 'school' then 1 when 'general' then 2 else 3 end,
                    rank_in_group, unit_code""",
        [year],
    )


def furthest_behind_rows(marts_path: Path, year: int, limit: int = 10) -> list[dict]:
    return _query(
        marts_path,
        """select p.unit_code as 单位代码, u.short_name as 单位, d.degree_name as 学历,
                  strftime(p.next_milestone, '%Y-%m-%d') as 下一节点,
                  p.graduates as 毕业生, p.employed_now as 已就业,
                  p.required_employed as 需就业, p.gap_persons as 尚差人数
           from marts.progress p
           inner join reference.units u on p.unit_code = u.unit_code
           inner join reference.degrees d on p.degree = d.degree
           where p.year = ? and p.gap_persons > 0
           order by p.gap_persons desc, p.unit_code, p.degree limit ?""",
        [year, limit],
    )


def source_lines(marts_path: Path, year: int, provisional: bool) -> list[str]:
    """The status and where the figures come from (raw text; escaped by quality_markdown)."""
    lines = [f"{year} 年度记分板状态：{'暂定（结果可能变动）' if provisional else '最终'}"]
    try:
        p = read_provenance(marts_path, year)
    except MissingProvenanceError:
        return [*lines, "发布的数据中没有运行信息，无法注明依据与规则版本"]
    return [
        *lines,
        f"依据 {p.policy}；规则 {p.rules_version}；程序版本 {p.code_version}",
    ]


def quality_markdown(lines: list[str], warnings: list[str]) -> str:
    """The quality summary: our headings, every line and warning escaped (a file name or a
    raw value renders as text, on its own list item)."""
    text = ["# 质量检查", "", *[f"- {textsafe.markdown_text(line)}" for line in lines]]
    if warnings:
        shown = warnings[:WARNINGS_SHOWN]
        text += ["", "## 警告", "", *[f"- {textsafe.markdown_text(w)}" for w in shown]]
        if len(warnings) > WARNINGS_SHOWN:
            text.append(f"- ……另有 {len(warnings) - WARNINGS_SHOWN} 条")
    return "\n".join(text)


def attach(marts_path: Path, year: int, quality_lines: list[str], warnings: list[str]) -> None:
    """Create the run's artifacts (inside a flow or task run)."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    board = scoreboard_rows(marts_path, year)
    provisional = not board or any(row["状态"] != "最终" for row in board)
    create_table_artifact(
        key=f"scoreboard-{year}",
        table=board,
        description=f"{year} 年度记分板（{'暂定' if provisional else '最终'}）",
    )
    create_markdown_artifact(
        key="quality-summary",
        markdown=quality_markdown(
            [*source_lines(marts_path, year, provisional), *quality_lines], warnings
        ),
        description="输入与质量检查摘要",
    )
    behind = furthest_behind_rows(marts_path, year)
    create_table_artifact(
        key=f"furthest-behind-{year}",
        table=behind or [{"说明": "没有即将到来的时间节点，或各单位均已达到下一节点目标"}],
        description="距下一时间节点目标差距最大的单位",
    )
