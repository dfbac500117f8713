"""The morning report's Prefect artifact (markdown): where the report is (a link to the file)
and the top of the "furthest behind" list. Every value from the data goes through
`textsafe.markdown_text`; the link's target is the file's URI (percent-encoded)."""

from __future__ import annotations

from pathlib import Path

from employment_eval import textsafe
from employment_eval.render import formats
from employment_eval.render.morning import text
from employment_eval.render.morning.data import Morning
from employment_eval.render.yearend.data import GROUP_NAMES

SHOWN = 10


def _link(path: Path) -> str:
    return f"[{textsafe.markdown_text(path.name)}]({path.resolve().as_uri()})"


def artifact_markdown(m: Morning, paths: list[Path], limit: int = SHOWN) -> str:
    md = textsafe.markdown_text
    lines = [
        f"# {md(text.title(m))}",
        "",
        *[f"- {_link(p)}：{md(str(p))}" for p in paths],
        "",
        md(text.summary(m)),
    ]
    if not m.in_season:
        return "\n".join(lines)
    behind = m.behind()
    if m.outlook is not None and m.outlook.at_risk_note:
        lines += ["", md(m.outlook.at_risk_note)]
    lines += ["", f"## 距{md(text.node_label(m))}目标最远的单位", ""]
    if not behind:
        lines.append("各单位各学历均已达到下一节点目标。")
        return "\n".join(lines)
    lines += [
        "| 单位 | 组别 | 尚差人数 | 未达标学历中待鉴证 | 节点预计得分 |",
        "|---|---|---:|---:|---:|",
    ]
    for u in behind[:limit]:
        pending = sum(d.pending for d in u.degrees if d.gap > 0)
        lines.append(
            f"| {md(u.unit.short_name)} | {md(GROUP_NAMES[u.unit.group])} | {u.gap} | "
            f"{pending} | {md(formats.points(u.projected_points))}/{u.base_points} |"
        )
    if len(behind) > limit:
        lines.append(f"\n……另有 {len(behind) - limit} 个单位未达目标，见晨报。")
    return "\n".join(lines)


def attach(m: Morning, paths: list[Path]) -> None:
    """Create the artifact (inside a flow or task run)."""
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(
        key=f"morning-report-{m.year}",
        markdown=artifact_markdown(m, paths),
        description=f"{m.year} 年度就业进度晨报（{m.as_of.isoformat()}）",
    )
