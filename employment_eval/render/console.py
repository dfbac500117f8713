"""The console summary shown to the centre after a run (Chinese): the scoreboard per group with
each unit's remark, then each unit's explanations (the committee's decision and adjustments
with reason, approver and date; how a rank was decided among equal totals; a missing ledger
item), the reasons a provisional year is provisional and the decisions left out that night —
every text as marts.unit_standing and marts.year_standing give it."""

from __future__ import annotations

from pathlib import Path

from employment_eval.publish import open_published
from employment_eval.render.standing import read_unit_standing, read_year_standing
from employment_eval.signing.published import signature


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def scoreboard_text(marts_path: Path, year: int) -> str:
    con = open_published(marts_path)
    try:
        standing = read_year_standing(con, year)
        units = read_unit_standing(con, year)
        signed = signature(con, year)
    finally:
        con.close()
    if standing is None or not units:
        return f"{year} 年没有可评估的数据（原始数据中没有该届毕业生）。"
    lines = [f"{year} 年度毕业生就业工作评估记分板（{standing.status_label}）"]
    if signed is not None:
        lines.append(signed.line)
    for group in dict.fromkeys(u.group for u in units):
        members = [u for u in units if u.group == group]
        lines.append(f"\n{members[0].group_name}（先进名额 {members[0].quota}）")
        lines.append(f"  {'名次':<4}{_pad('单位', 44)}{'总分':>8}  备注")
        for u in members:
            lines.append(f"  {u.rank:<6}{_pad(u.unit_name, 44)}{u.total:>8}  {u.label}")
        notes = [(u.short_name, note) for u in members for note in u.notes]
        for i, (name, note) in enumerate(notes):
            lines.append(f"  {'说明：' if i == 0 else '      '}{name}——{note}")
    if not standing.is_final:
        lines.append(f"\n暂定原因：{standing.provisional_reasons}。")
    if standing.later_decisions_note:
        lines.append(f"{standing.later_decisions_note}。")
    return "\n".join(lines)
