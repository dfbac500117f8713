"""scoreboard_<year>.csv: one row per unit, Chinese headers, UTF-8 with BOM (Excel opens it
as Chinese). Points are written exactly as in the marts (DECIMAL, two places).

Where the figures come from is in columns (policy, as-of date, generation time, rules file and
its sha256, run id) repeated on every row: a comment line would break CSV readers. Every text
cell goes through `textsafe.csv_cell` (no formula, no bidi control); numbers stay numbers."""

from __future__ import annotations

import csv
from pathlib import Path

from employment_eval.render.formats import yes
from employment_eval.render.yearend.data import GROUP_NAMES, UnitResult, YearEnd
from employment_eval.textsafe import csv_cell

PROVENANCE_HEADERS = ("政策文号", "评估日期", "生成时间", "规则文件", "规则SHA256", "运行编号")


def headers(ye: YearEnd) -> list[str]:
    return [
        "年度",
        "单位代码",
        "单位",
        "组别",
        "组内名次",
        "总分",
        *[i.header for i in ye.indicators],
        "先进名额",
        "先进单位",
        "名额线并列",
        "学指委调整",
        "状态",
        "备注",
        "学指委决定理由",
        "决定审批人",
        "决定日期",
        "调整说明",
        "名次说明",
        "暂定原因",
        *PROVENANCE_HEADERS,
    ]


def _row(ye: YearEnd, u: UnitResult) -> list[object]:
    p = ye.provenance
    return [
        ye.year,
        u.code,
        u.name,
        GROUP_NAMES[u.group],
        u.rank,
        u.total,
        *[u.scores[i.code].points if i.code in u.scores else "" for i in ye.indicators],
        u.quota,
        yes(u.is_advanced),
        yes(u.tie_at_cutoff),
        yes(any(s.adjusted for s in u.scores.values()) or u.decided_by_committee),
        ye.status_name,
        u.standing.label,
        u.standing.decision_reason,
        u.standing.decision_approved_by,
        u.standing.decision_date.isoformat() if u.standing.decision_date else "",
        u.standing.adjustments_note,
        u.standing.rank_note,
        ye.standing.provisional_reasons,
        p.policy_number,
        p.as_of.isoformat(),
        p.generated,
        p.rules_file,
        p.rules_sha256,
        p.run_id,
    ]


def _value(value: object) -> object:
    """Decimal points as written in the marts (64.00, never 64.0000001); text made safe."""
    if isinstance(value, str):
        return csv_cell(value)
    return format(value, "f") if not isinstance(value, int) else value


def write_csv(ye: YearEnd, path: Path) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([csv_cell(h) for h in headers(ye)])
        for u in ye.units:
            out.writerow([_value(v) for v in _row(ye, u)])
    return path
