"""Prefect artifacts attached to each run: the scoreboard, the quality summary and the units
furthest behind their next node. Read from the published marts only (no personal data)."""

from __future__ import annotations

from pathlib import Path

from employment_eval.publish import open_published


def scoreboard_rows(marts_path: Path, year: int) -> list[dict]:
    con = open_published(marts_path)
    try:
        cur = con.execute(
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
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def furthest_behind_rows(marts_path: Path, year: int, limit: int = 10) -> list[dict]:
    con = open_published(marts_path)
    try:
        cur = con.execute(
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
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def quality_markdown(lines: list[str], warnings: list[str]) -> str:
    text = ["# 质量检查", "", *[f"- {line}" for line in lines]]
    if warnings:
        text += ["", "## 警告", "", *[f"- {w}" for w in warnings[:50]]]
        if len(warnings) > 50:
            text.append(f"- ……另有 {len(warnings) - 50} 条")
    return "\n".join(text)


def attach(marts_path: Path, year: int, quality_lines: list[str], warnings: list[str]) -> None:
    """Create the run's artifacts (inside a flow or task run)."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    create_table_artifact(
        key=f"scoreboard-{year}",
        table=scoreboard_rows(marts_path, year),
        description=f"{year} 年度记分板",
    )
    create_markdown_artifact(
        key="quality-summary",
        markdown=quality_markdown(quality_lines, warnings),
        description="输入与质量检查摘要",
    )
    behind = furthest_behind_rows(marts_path, year)
    create_table_artifact(
        key=f"furthest-behind-{year}",
        table=behind or [{"说明": "没有即将到来的时间节点，或各单位均已达到下一节点目标"}],
        description="距下一时间节点目标差距最大的单位",
    )
