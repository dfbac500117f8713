"""Texts shared by the morning report's HTML, xlsx and Prefect artifact: titles, the summary
sentence, the definitions of every figure, and changes (`render.formats`). Numbers are
formatted from integers and Decimals only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from employment_eval.render import formats
from employment_eval.render.morning.data import Morning


def title(m: Morning) -> str:
    return f"{m.year} 年度就业进度晨报（{m.as_of.isoformat()}）"


def change(employed: int | None, rate: Decimal | None) -> str:
    """'+3 人，+1.2 个百分点' ('—' when there is nothing to compare with)."""
    if employed is None and rate is None:
        return "—"
    return f"{formats.signed(employed)} 人，{formats.points_change(rate)} 个百分点"


def export_label(day: dt.date | None) -> str:
    return day.isoformat() if day else "无"


def node_label(m: Morning) -> str:
    return formats.month_day(m.next_node) if m.next_node else ""


def summary(m: Morning) -> str:
    """The one sentence that heads the report."""
    if not m.in_season:
        last = formats.month_day(m.last_node) if m.last_node else "最后一个时间节点"
        return (
            f"本年度最后一个时间节点（{last}）已过，进度跟踪结束。以下为最终位置："
            f"各单位{last}节点结果与记分板（{m.status_name}）。"
        )
    behind = m.behind()
    days = m.days_to_node or 0
    when = "即今日" if days == 0 else f"距评估日期 {days} 天"
    head = f"下一节点：{node_label(m)}（{when}）。"
    if not behind:
        return head + "按最新导出数据，各单位各学历均已达到该节点目标。"
    degrees = sum(1 for u in behind for d in u.degrees if d.gap > 0)
    gap = sum(u.gap for u in behind)
    pending = sum(d.pending for u in behind for d in u.degrees if d.gap > 0)
    after = sum(d.gap_after_pending for u in behind for d in u.degrees)
    return (
        f"{head}按最新导出数据（{export_label(m.latest_export)}），{len(behind)} 个单位共 "
        f"{degrees} 个学历未达该节点目标，共需再落实 {gap} 人；这些学历中已登记就业、"
        f"待鉴证 {pending} 人，全部按时鉴证后仍差 {after} 人。"
    )


def definitions(m: Morning) -> list[tuple[str, str]]:
    """What every figure means (docs/评估规则.md D2, D3), in reading order."""
    prev = export_label(m.previous_export)
    week = export_label(m.week_ago_export)
    return [
        (
            "毕业生、已就业",
            "均按最新导出数据计：毕业生为本年度毕业的本单位该学历毕业生（不含结业）；"
            "已就业指毕业去向计入就业率且已鉴证、鉴证日期不晚于该次导出日期（D2）。",
        ),
        ("达标需就业", "⌈目标就业率 × 毕业生数⌉，按整数运算向上取整（D3）。"),
        ("尚差人数", "达标需就业 − 已就业，不小于 0：要在下一节点达标还须计入就业的人数。"),
        (
            "待鉴证",
            "最新导出中毕业去向计入就业率、但尚未计入就业的毕业生：鉴证状态不是「已鉴证」，"
            "或已鉴证而鉴证日期晚于该次导出日期。在节点日期前鉴证即可计入"
            "（规则不要求鉴证时为 0）。",
        ),
        (
            "鉴证后仍差",
            "尚差人数 − 待鉴证，不小于 0：即使待鉴证者全部按时鉴证，仍须新落实去向的人数。",
        ),
        (
            "较上次导出",
            f"与上一次导出（{prev}）相比，已就业人数与就业率（个百分点）的变化；"
            "毕业生人数变化也会影响就业率。",
        ),
        (
            "较一周前",
            f"与最新导出前 7–10 天内的最近一次导出（{week}）相比的变化；"
            "这几天里没有导出时不作比较（显示“—”），以免把更长的间隔当作一周。",
        ),
        (
            "节点预计",
            "假如下一节点按最新导出数据计：各学历按规则扣分（低于目标）或超额加分；"
            "单位节点得分 = max(0, 基准分 − 各学历扣分之和) + 各学历加分之和（D3）。",
        ),
        ("排序", "各组内按尚差人数（各学历合计）从多到少，相同时按节点预计得分从低到高。"),
    ]


def provenance_items(m: Morning) -> list[tuple[str, str]]:
    p = m.provenance
    policy = f"《{p.policy_title}》（{p.policy}）" if p.policy_title else p.policy
    return [
        ("评估依据", policy),
        ("评估日期", m.as_of.isoformat()),
        ("最新导出数据", export_label(m.latest_export)),
        ("生成时间", f"{p.generated}（北京时间）"),
        ("评估规则", p.rules_version),
        ("运行编号", p.run_id),
        ("程序版本", p.code_version),
        ("规则文件", p.rules_file),
        ("规则文件 SHA256", p.rules_sha256),
        ("输入文件", f"{p.input_files} 个"),
    ]


def provenance_line(m: Morning) -> str:
    """One line for a title block or a printed footer."""
    p = m.provenance
    return (
        f"依据 {p.policy} · 评估日期 {m.as_of.isoformat()} · 生成于 {p.generated} · "
        f"规则 {p.rules_version} · 运行编号 {p.run_id}"
    )
