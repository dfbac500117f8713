"""scoreboard_<year>.csv: one row per unit, Chinese headers, UTF-8 with BOM (Excel opens it
as Chinese). Points are written exactly as in the marts (DECIMAL, two places)."""

from __future__ import annotations

import csv
from pathlib import Path

from employment_eval.yearend.data import GROUP_NAMES, STATUS_NAMES, YearEnd
from employment_eval.yearend.labels import yes


def headers(ye: YearEnd) -> list[str]:
    return [
        "年度",
        "单位代码",
        "单位",
        "组别",
        "组内名次",
        "总分",
        *[i.label for i in ye.indicators],
        "先进名额",
        "先进单位",
        "名额线并列",
        "学指委调整",
        "状态",
    ]


def write_csv(ye: YearEnd, path: Path) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(headers(ye))
        for u in ye.units:
            out.writerow(
                [
                    ye.year,
                    u.code,
                    u.name,
                    GROUP_NAMES[u.group],
                    u.rank,
                    f"{u.total:f}",
                    *[
                        f"{u.scores[i.code].points:f}" if i.code in u.scores else ""
                        for i in ye.indicators
                    ],
                    u.quota,
                    yes(u.is_advanced),
                    yes(u.tie_at_cutoff),
                    yes(any(s.adjusted for s in u.scores.values()) or u.decided_by_committee),
                    STATUS_NAMES.get(u.status, u.status),
                ]
            )
    return path
