"""What every output says of a unit's standing and of the year's status, read from the marts
that compute it once (marts.unit_standing, marts.year_standing). The console, the morning
report, the year-end files and what-if show these texts as they are: no renderer words a
remark, a reason or a rank note of its own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import duckdb

from employment_eval.publish import fetch_dicts


@dataclass(frozen=True)
class UnitStanding:
    """One row of marts.unit_standing."""

    unit_code: str
    unit_name: str
    short_name: str
    group: str
    group_name: str
    rank: int
    total: Decimal
    quota: int
    is_advanced: bool
    tie_at_cutoff: bool
    is_tie_pending: bool
    decided_by_committee: bool
    status: str
    status_label: str
    label: str  # the remark: 先进单位 / 名额线并列，待学指委决定 / … ('' when none)
    decision_reason: str
    decision_approved_by: str
    decision_date: dt.date | None
    decision_note: str  # 学指委决定：评为先进单位；理由：…；审批人：…；日期：…
    adjustments_note: str  # each adjusted indicator: 计算值 → 调整后, 理由, 审批人, 日期
    rank_note: str  # how the rank was decided among equal totals
    ledger_note: str  # what the unit's ledger row lacks (provisional years only)

    @property
    def notes(self) -> list[str]:
        """The unit's explanations, in reading order (none of them empty)."""
        return [
            n
            for n in (self.decision_note, self.rank_note, self.adjustments_note, self.ledger_note)
            if n
        ]


@dataclass(frozen=True)
class YearStanding:
    """One row of marts.year_standing."""

    year: int
    status: str
    status_label: str  # 最终 / 暂定
    as_of: dt.date
    latest_export: dt.date | None
    provisional_reasons: str  # '' when final
    later_decisions: int
    later_decisions_note: str  # '' when none

    @property
    def is_final(self) -> bool:
        return self.status == "final"


def read_year_standing(con: duckdb.DuckDBPyConnection, year: int) -> YearStanding | None:
    rows = fetch_dicts(con, "select * from marts.year_standing where year = ?", [year])
    if not rows:
        return None
    r = rows[0]
    return YearStanding(
        year=int(r["year"]),
        status=r["status"],
        status_label=r["status_label"],
        as_of=r["as_of_date"],
        latest_export=r["latest_export_date"],
        provisional_reasons=r["provisional_reasons"] or "",
        later_decisions=int(r["later_decisions"]),
        later_decisions_note=r["later_decisions_note"] or "",
    )


def read_unit_standing(con: duckdb.DuckDBPyConnection, year: int) -> list[UnitStanding]:
    """Every unit of the year, in the reading order: group, rank, the units' order."""
    return [
        UnitStanding(
            unit_code=r["unit_code"],
            unit_name=r["unit_name"],
            short_name=r["short_name"],
            group=r["unit_group"],
            group_name=r["group_name"],
            rank=int(r["rank_in_group"]),
            total=r["total_points"],
            quota=int(r["quota"]),
            is_advanced=bool(r["is_advanced"]),
            tie_at_cutoff=bool(r["tie_at_cutoff"]),
            is_tie_pending=bool(r["is_tie_pending"]),
            decided_by_committee=bool(r["is_decided_by_committee"]),
            status=r["status"],
            status_label=r["status_label"],
            label=r["standing_label"] or "",
            decision_reason=r["decision_reason"] or "",
            decision_approved_by=r["decision_approved_by"] or "",
            decision_date=r["decision_date"],
            decision_note=r["decision_note"] or "",
            adjustments_note=r["adjustments_note"] or "",
            rank_note=r["rank_note"] or "",
            ledger_note=r["ledger_note"] or "",
        )
        for r in fetch_dicts(
            con,
            "select * from marts.unit_standing where year = ? "
            "order by group_order, rank_in_group, unit_order",
            [year],
        )
    ]
