"""The console summary shown to the centre after a run (Chinese)."""

from __future__ import annotations

from pathlib import Path

from employment_eval.publish import open_published
from employment_eval.signing.published import signature

GROUP_NAMES = {"school": "院本部", "general": "附属综合性医院", "specialty": "附属专科医院"}


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _remark(advanced: bool, tie: bool, decided: bool) -> str:
    if tie and decided:
        return "先进单位（名额线并列，学指委决定）" if advanced else "名额线并列，学指委决定：否"
    if tie:
        return "名额线并列，待学指委决定"
    return "先进单位" if advanced else ""


def scoreboard_text(marts_path: Path, year: int) -> str:
    con = open_published(marts_path)
    try:
        rows = con.execute(
            """select unit_group, rank_in_group, unit_name, total_points, is_advanced,
                      tie_at_cutoff, status, quota, is_decided_by_committee
               from marts.scoreboard where year = ?
               order by case unit_group when 'school' then 1 when 'general' then 2 else 3 end,
                        rank_in_group, unit_code""",
            [year],
        ).fetchall()
        signed = signature(con, year)
    finally:
        con.close()
    if not rows:
        return f"{year} 年没有可评估的数据（原始数据中没有该届毕业生）。"
    status = rows[0][6]
    lines = [f"{year} 年度毕业生就业工作评估记分板（{'最终' if status == 'final' else '暂定'}）"]
    if signed is not None:
        lines.append(signed.line)
    group = None
    for unit_group, rank, name, total, advanced, tie, _status, quota, decided in rows:
        if unit_group != group:
            group = unit_group
            lines.append(f"\n{GROUP_NAMES.get(unit_group, unit_group)}（先进名额 {quota}）")
            lines.append(f"  {'名次':<4}{_pad('单位', 44)}{'总分':>8}  备注")
        mark = _remark(advanced, tie, decided)
        lines.append(f"  {rank:<6}{_pad(name, 44)}{total:>8}  {mark}")
    if status != "final":
        lines.append("\n暂定：尚有时间节点未到、材料登记表不完整或名额线并列未决。")
    return "\n".join(lines)
