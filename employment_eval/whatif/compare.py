"""Official against each draft, unit by unit: points, rank, advanced flag, and the indicators
whose points differ (each with both Chinese details); and, for each draft, what it changes in
the rules themselves."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from employment_eval.rules import DEGREES, GROUPS, INDICATORS, KNOB_CHOICES, Rules
from employment_eval.rules_text import DEGREE_NAMES, GROUP_NAMES, percent
from employment_eval.whatif.score import IndicatorScore, Scoring, UnitScore


@dataclass(frozen=True)
class IndicatorChange:
    code: str
    name: str
    official: IndicatorScore
    draft: IndicatorScore

    @property
    def delta(self) -> Decimal:
        return self.draft.points - self.official.points


@dataclass(frozen=True)
class DraftCell:
    """One unit under one draft, against the official scoring."""

    score: UnitScore
    official: UnitScore
    changes: tuple[IndicatorChange, ...]  # indicators whose points differ

    @property
    def points_changed(self) -> bool:
        return self.score.total != self.official.total

    @property
    def rank_changed(self) -> bool:
        return self.score.rank != self.official.rank

    @property
    def advanced_changed(self) -> bool:
        """The advanced flag, or how it is decided (a tie left to the committee, a decision)."""

        def state(u: UnitScore) -> tuple[bool, bool, bool]:
            return u.advanced, u.tie_at_cutoff, u.tie_at_cutoff and u.decided_by_committee

        return state(self.score) != state(self.official)

    @property
    def changed(self) -> bool:
        return (
            bool(self.changes)
            or self.points_changed
            or self.rank_changed
            or (self.advanced_changed)
        )

    @property
    def delta(self) -> Decimal:
        return self.score.total - self.official.total


@dataclass(frozen=True)
class UnitRow:
    official: UnitScore
    drafts: tuple[DraftCell, ...]


@dataclass(frozen=True)
class GroupTable:
    group: str
    name: str
    quotas: tuple[int, ...]  # official, then each draft
    rows: tuple[UnitRow, ...]  # by official rank


@dataclass(frozen=True)
class Comparison:
    year: int
    as_of: dt.date
    official: Scoring
    drafts: tuple[Scoring, ...]
    groups: tuple[GroupTable, ...]
    rule_changes: tuple[tuple[str, ...], ...]  # per draft: what it changes in the rules

    def changed_units(self, draft: int = 0) -> set[str]:
        """Units whose points differ under the draft (some indicator changed)."""
        return {
            row.official.unit_code
            for g in self.groups
            for row in g.rows
            if row.drafts[draft].changes
        }

    def moved_units(self, draft: int = 0) -> set[str]:
        """Units whose points, rank or advanced flag differ under the draft."""
        return {
            row.official.unit_code
            for g in self.groups
            for row in g.rows
            if row.drafts[draft].changed
        }

    @property
    def any_change(self) -> bool:
        return any(self.moved_units(i) for i in range(len(self.drafts)))


def compare(official: Scoring, drafts: list[Scoring], as_of: dt.date) -> Comparison:
    groups = []
    for group in GROUPS:
        units = sorted(
            (u for u in official.units.values() if u.unit_group == group),
            key=lambda u: (u.rank, u.sort_order),
        )
        if not units:
            continue
        rows = tuple(
            UnitRow(u, tuple(_cell(u, d.units[u.unit_code]) for d in drafts)) for u in units
        )
        quotas = (units[0].quota, *(d.units[units[0].unit_code].quota for d in drafts))
        groups.append(GroupTable(group, GROUP_NAMES.get(group, group), quotas, rows))
    return Comparison(
        year=official.rules.year,
        as_of=as_of,
        official=official,
        drafts=tuple(drafts),
        groups=tuple(groups),
        rule_changes=tuple(tuple(rule_changes(official.rules, d.rules)) for d in drafts),
    )


def _cell(official: UnitScore, draft: UnitScore) -> DraftCell:
    changes = tuple(
        IndicatorChange(
            code,
            draft.indicators[code].name,
            official.indicators[code],
            draft.indicators[code],
        )
        for code in INDICATORS
        if code in official.indicators
        and code in draft.indicators
        and official.indicators[code].points != draft.indicators[code].points
    )
    return DraftCell(draft, official, changes)


# --- what a draft changes in the rules ------------------------------------------------------------


def _pct(bp: int) -> str:
    return percent(bp).strip('"') + "%"


def rule_changes(old: Rules, new: Rules) -> list[str]:
    """Every setting the draft changes, in Chinese (empty: the same rules)."""
    out: list[str] = []

    def diff(label: str, a: object, b: object) -> None:
        if a != b:
            out.append(f"{label}：{a} → {b}")

    old_nodes = {m.date: m for m in old.milestones}
    new_nodes = {m.date: m for m in new.milestones}
    for day in sorted(old_nodes.keys() | new_nodes.keys()):
        label = f"{day.month}月{day.day}日节点"
        if day not in new_nodes:
            out.append(f"{label}：删除")
            continue
        if day not in old_nodes:
            m = new_nodes[day]
            targets = "、".join(f"{DEGREE_NAMES[d]} {_pct(m.target_bp[d])}" for d in DEGREES)
            out.append(f"{label}：新增（基准分 {m.base_points}，目标 {targets}）")
            continue
        a, b = old_nodes[day], new_nodes[day]
        diff(f"{label}基准分", a.base_points, b.base_points)
        for d in DEGREES:
            if a.target_bp[d] != b.target_bp[d]:
                out.append(
                    f"{label}{DEGREE_NAMES[d]}目标：{_pct(a.target_bp[d])} → {_pct(b.target_bp[d])}"
                )
    for code in INDICATORS:
        (ca, ba, na), (cb, bb, nb) = old.indicators[code], new.indicators[code]
        diff(f"{code} 基准分", ba, bb)
        diff(f"{code} 类别", ca, cb)
        diff(f"{code} 名称", na, nb)
    for g in GROUPS:
        diff(f"{GROUP_NAMES[g]}先进名额", old.quotas[g], new.quotas[g])
    diff("I9 统计日", old.guided_date, new.guided_date)
    diff("I4 报告截止日", old.i4_report_deadline, new.i4_report_deadline)
    diff("I5 动员会月份", old.i5_meeting_month, new.i5_meeting_month)
    diff("评估开始日", old.evaluation_start, new.evaluation_start)
    if old.i3_step_bp != new.i3_step_bp:
        out.append(f"I3 扣分步长：{_pct(old.i3_step_bp)} → {_pct(new.i3_step_bp)}")
    diff("I3 每超出 1 人加分", old.i3_bonus_per_person, new.i3_bonus_per_person)
    if old.i9_target_bp != new.i9_target_bp:
        out.append(f"I9 目标比例：{_pct(old.i9_target_bp)} → {_pct(new.i9_target_bp)}")
    if old.i9_step_bp != new.i9_step_bp:
        out.append(f"I9 扣分步长：{_pct(old.i9_step_bp)} → {_pct(new.i9_step_bp)}")
    diff("I7 大单位所需份数", old.i7_required[0], new.i7_required[0])
    diff("I7 小单位所需份数", old.i7_required[1], new.i7_required[1])
    diff("I8 大单位所需篇数", old.i8_required[0], new.i8_required[0])
    diff("I8 小单位所需篇数", old.i8_required[1], new.i8_required[1])
    for knob in KNOB_CHOICES:
        a, b = old.knobs.get(knob), new.knobs.get(knob)
        if a != b:
            name = KNOB_NAMES.get(knob, knob)
            out.append(f"{name}（{knob}）：{KNOB_VALUES.get(a, a)} → {KNOB_VALUES.get(b, b)}")
    return out


# The rules file's settings (knobs) as the centre reads them (docs/评估规则.md).
KNOB_NAMES = {
    "require_verification": "须经鉴证才计入就业",
    "deduction_rounding": "扣分取整方式",
    "large_unit_threshold": "大单位人数界限",
    "partial_credit": "I7、I8 未达数量时的计分",
    "guided_denominator": "I9 的分母",
    "special_group_scope": "I6 的统计口径",
}
KNOB_VALUES: dict[object, str] = {
    True: "是",
    False: "否",
    "floor": "向下取整",
    "ceil": "向上取整",
    "exact": "按比例保留两位小数",
    "proportional": "按比例计分",
    "none": "不足即 0 分",
    "employed_in_job": "已就业且去向为工作的毕业生",
    "all_graduates": "全部毕业生",
    "per_group_degree": "按群体 × 学历逐一判断",
    "pooled_by_degree": "三类合并后按学历判断",
}
