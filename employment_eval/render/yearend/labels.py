"""Texts shared by the year-end writers (the numbers and dates in them: `render.formats`)."""

from __future__ import annotations

from employment_eval.render.formats import day
from employment_eval.render.yearend.data import YearEnd


def title(ye: YearEnd) -> str:
    return f"{ye.year} 年度毕业生就业工作评估记分板（{ye.status_name}）"


def provisional_reasons(ye: YearEnd) -> str:
    """Why the figures may still change: only the reasons that apply (marts.year_standing),
    with the decisions dated after the as-of date, shown wherever the scoreboard is not
    final."""
    st = ye.standing
    later = f"{st.later_decisions_note}。" if st.later_decisions_note else ""
    return f"{st.provisional_reasons}。{later}结果可能变动，不作为最终评定。"


def provisional_note(ye: YearEnd) -> str:
    return f"暂定：{provisional_reasons(ye)}"


def provenance_items(ye: YearEnd) -> list[tuple[str, str]]:
    """(label, value) pairs saying where the figures come from, in reading order."""
    p = ye.provenance
    policy = f"《{p.policy_title}》（{p.policy}）" if p.policy_title else p.policy
    return [
        ("评估依据", policy),
        ("评估日期", p.as_of.isoformat()),
        ("最新导出数据", day(ye.latest_export) or "无"),
        ("生成时间", f"{p.generated}（北京时间）"),
        ("评估规则", p.rules_version),
        ("运行编号", p.run_id),
        ("程序版本", p.code_version),
    ]


def provenance_line(ye: YearEnd) -> str:
    """One line for a title block or a page footer."""
    p = ye.provenance
    return (
        f"依据 {p.policy} · 评估日期 {p.as_of.isoformat()} · 生成于 {p.generated} · "
        f"规则 {p.rules_version} · 运行编号 {p.run_id}"
    )


def final_rate_label(ye: YearEnd, years: set[int] | None = None) -> str:
    """The header of the rate at each year's last node: '12月15日就业率' when the last node of
    every year (of `years`, default all) falls on the same day, else '末节点就业率'."""
    days = {
        (y.final_date.month, y.final_date.day)
        for t in ye.trends
        for y in t.years
        if (years is None or y.year in years) and y.final_date is not None
    }
    if len(days) == 1:
        ((month, day),) = days
        return f"{month}月{day}日就业率"
    return "末节点就业率"
