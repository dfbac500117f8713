"""The comparison as Chinese text for the console: per group, each unit's points, rank and
advanced flag under the official rules and each draft side by side, changes marked with `*`;
then the changed indicators of each unit, with the details under each."""

from __future__ import annotations

from employment_eval.render.whatif import text as fmt
from employment_eval.whatif.compare import Comparison


def _pad(value: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - fmt.display_width(value))
    return gap + value if right else value + gap


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(fmt.display_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(_pad(c, widths[i], i in right) for i, c in enumerate(row)).rstrip()
        for row in rows
    ]


def render(cmp: Comparison, header: list[str]) -> str:
    lines = list(header)
    for i, rules in enumerate(cmp.rule_changes):
        label = cmp.drafts[i].label
        if rules:
            lines.append(f"{label}与正式规则的不同（{len(rules)} 处）：" + "；".join(rules))
        else:
            lines.append(f"{label}与正式规则的设置完全相同。")
        for note in cmp.drafts[i].decision_notes:
            lines.append(f"注意：按{label}，学指委的这项决定将不再成立（正式运行会拒绝）：{note}")
    for group in cmp.groups:
        quotas = "，".join(
            f"{label} {q}"
            for label, q in zip(["正式", *(d.label for d in cmp.drafts)], group.quotas, strict=True)
        )
        lines.append(f"\n{group.name}（先进名额：{quotas}）")
        head = ["单位", "正式总分", "名次", "备注"]
        for d in cmp.drafts:
            head += [f"{d.label}总分", "名次", "备注", ""]
        rows = [head]
        for row in group.rows:
            o = row.official
            cells = [o.short_name, fmt.points(o.total), str(o.rank), fmt.advanced(o)]
            for cell in row.drafts:
                cells += [
                    fmt.draft_points(cell),
                    fmt.draft_rank(cell),
                    fmt.draft_advanced(cell),
                    fmt.CHANGED if cell.changed else "",
                ]
            rows.append(cells)
        right = {1, 2} | {4 + 4 * i + k for i in range(len(cmp.drafts)) for k in (0, 1)}
        lines += _table(rows, right)
    lines.append(f"\n（{fmt.CHANGED} 表示该单位在草案下的得分、名次或备注与正式规则不同）")
    for i, draft in enumerate(cmp.drafts):
        lines += _changes(cmp, i, draft.label)
    return "\n".join(lines)


def _changes(cmp: Comparison, i: int, label: str) -> list[str]:
    changed = [row.drafts[i] for g in cmp.groups for row in g.rows if row.drafts[i].changed]
    if not changed:
        return [f"\n{label}：得分、名次、先进单位与正式规则完全相同，没有变化。"]
    lines = [f"\n{label}下有变化的单位（{len(changed)} 个）："]
    for cell in changed:
        o, d = cell.official, cell.score
        parts = [f"总分 {fmt.points(o.total)} → {fmt.points(d.total)}（{fmt.delta(cell.delta)}）"]
        if cell.rank_changed:
            parts.append(f"名次 {o.rank} → {d.rank}")
        if cell.advanced_changed:
            parts.append(f"备注 {fmt.advanced(o)} → {fmt.advanced(d)}")
        lines.append(f"  {o.short_name}：" + "，".join(parts))
        if not cell.changes:
            lines.append("    各指标得分未变（名次因同组其他单位的得分变化而变）")
        for change in cell.changes:
            lines.append(
                f"    {change.code} {change.name}：{fmt.points(change.official.points)} → "
                f"{fmt.points(change.draft.points)}（{fmt.delta(change.delta)}）"
            )
            official, draft = fmt.differing(change.official.detail, change.draft.detail)
            lines.append(f"      正式：{official}")
            lines.append(f"      {label}：{draft}")
    return lines
