"""The year-end figures, read from the published marts file (read-only) into plain dataclasses.

Everything the xlsx, csv and html writers show comes from here: they never open the marts
themselves, so they can be tested on hand-made figures (a tie at the cutoff, an adjustment)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from employment_eval.publish import open_published

GROUP_ORDER = ("school", "general", "specialty")
GROUP_NAMES = {"school": "院本部", "general": "附属综合性医院", "specialty": "附属专科医院"}
DEGREE_ORDER = ("bachelor", "master", "doctor")
DEGREE_NAMES = {"bachelor": "本科", "master": "硕士", "doctor": "博士"}
STATUS_NAMES = {"final": "最终", "provisional": "暂定"}


class NoDataError(Exception):
    """The marts hold nothing for the year asked for."""


@dataclass(frozen=True)
class Indicator:
    code: str  # I1..I9
    name: str
    category: str  # kpi / development
    base_points: int

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@dataclass(frozen=True)
class Score:
    indicator: str
    computed: Decimal
    points: Decimal  # after the committee's adjustment
    adjusted: bool = False
    reason: str | None = None
    approved_by: str | None = None
    adjusted_on: dt.date | None = None
    needs_review: bool = False
    detail: str = ""


@dataclass(frozen=True)
class UnitResult:
    code: str
    name: str
    group: str
    total: Decimal
    rank: int
    quota: int
    is_advanced: bool
    tie_at_cutoff: bool
    decided_by_committee: bool
    status: str
    scores: dict[str, Score] = field(default_factory=dict)
    short_name: str = ""

    @property
    def remark(self) -> str:
        """The 备注 of the scoreboard: ties at the cutoff and committee decisions."""
        if self.tie_at_cutoff and self.decided_by_committee:
            verdict = "评为先进单位" if self.is_advanced else "不评为先进单位"
            return f"名额线并列，学指委决定{verdict}"
        if self.tie_at_cutoff:
            return "名额线并列，待学指委决定"
        return ""


@dataclass(frozen=True)
class NodeRate:
    unit_code: str
    degree: str
    milestone_date: dt.date
    graduates: int
    employed: int
    rate: Decimal
    target: Decimal
    required: int
    bonus: int
    deduction: Decimal
    snapshot_date: dt.date | None
    reconstructed: bool
    status: str


@dataclass(frozen=True)
class HistoryPoint:
    unit_code: str
    degree: str
    as_of: dt.date
    graduates: int
    employed: int
    rate: Decimal


@dataclass(frozen=True)
class YearEnd:
    year: int
    status: str  # final / provisional
    latest_export: dt.date | None
    indicators: tuple[Indicator, ...]
    quotas: dict[str, int]
    units: tuple[UnitResult, ...]  # group order, then rank, then the reference order
    nodes: tuple[NodeRate, ...] = ()
    history: tuple[HistoryPoint, ...] = ()

    @property
    def is_final(self) -> bool:
        return self.status == "final"

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, self.status)

    def group(self, group: str) -> list[UnitResult]:
        return [u for u in self.units if u.group == group]

    def unit_name(self, code: str) -> str:
        return next((u.name for u in self.units if u.code == code), code)

    def adjustments(self) -> list[tuple[UnitResult, Indicator, Score]]:
        """Every adjusted indicator cell, in scoreboard order."""
        return [
            (u, ind, u.scores[ind.code])
            for u in self.units
            for ind in self.indicators
            if ind.code in u.scores and u.scores[ind.code].adjusted
        ]

    def milestone_dates(self) -> list[dt.date]:
        return sorted({n.milestone_date for n in self.nodes})


def read_year_end(marts_path: Path, year: int) -> YearEnd:
    con = open_published(marts_path)
    try:
        return _read(con, year)
    finally:
        con.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str, year: int) -> list[dict]:
    cur = con.execute(sql, [year])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _read(con: duckdb.DuckDBPyConnection, year: int) -> YearEnd:
    board = _rows(
        con,
        """select s.*, u.sort_order, u.short_name from marts.scoreboard s
           join reference.units u using (unit_code) where s.year = ?""",
        year,
    )
    if not board:
        raise NoDataError(f"{year} 年没有可评估的数据（集市中没有该年度的记分板）。")
    indicators = tuple(
        Indicator(r["indicator"], r["indicator_name"], r["category"], int(r["base_points"]))
        for r in _rows(
            con, "select * from reference.rule_indicators where year = ? order by indicator", year
        )
    )
    quotas = {
        r["unit_group"]: int(r["quota"])
        for r in _rows(con, "select * from reference.rule_quotas where year = ?", year)
    }
    scores: dict[str, dict[str, Score]] = {}
    for r in _rows(con, "select * from marts.indicator_scores where year = ?", year):
        scores.setdefault(r["unit_code"], {})[r["indicator"]] = Score(
            indicator=r["indicator"],
            computed=r["computed_points"],
            points=r["points"],
            adjusted=bool(r["adjusted"]),
            reason=r["adjustment_reason"],
            approved_by=r["adjustment_approved_by"],
            adjusted_on=r["adjustment_date"],
            needs_review=bool(r["needs_review"]),
            detail=r["detail"] or "",
        )
    board.sort(
        key=lambda r: (GROUP_ORDER.index(r["unit_group"]), r["rank_in_group"], r["sort_order"])
    )
    units = tuple(
        UnitResult(
            code=r["unit_code"],
            name=r["unit_name"],
            group=r["unit_group"],
            total=r["total_points"],
            rank=int(r["rank_in_group"]),
            quota=int(r["quota"]),
            is_advanced=bool(r["is_advanced"]),
            tie_at_cutoff=bool(r["tie_at_cutoff"]),
            decided_by_committee=bool(r["is_decided_by_committee"]),
            status=r["status"],
            scores=scores.get(r["unit_code"], {}),
            short_name=r["short_name"] or r["unit_name"],
        )
        for r in board
    )
    nodes = tuple(
        NodeRate(
            unit_code=r["unit_code"],
            degree=r["degree"],
            milestone_date=r["milestone_date"],
            graduates=int(r["graduates"]),
            employed=int(r["employed"]),
            rate=r["employment_rate"],
            target=r["target_rate"],
            required=int(r["required_employed"]),
            bonus=int(r["bonus"]),
            deduction=r["deduction"],
            snapshot_date=r["snapshot_date"],
            reconstructed=bool(r["reconstructed"]),
            status=r["status"],
        )
        for r in _rows(
            con,
            "select * from marts.milestone_rates where year = ? "
            "order by unit_code, degree, milestone_date",
            year,
        )
    )
    history = tuple(
        HistoryPoint(
            r["unit_code"],
            r["degree"],
            r["as_of_date"],
            int(r["graduates"]),
            int(r["employed"]),
            r["employment_rate"],
        )
        for r in _rows(
            con,
            "select * from marts.rate_history where year = ? "
            "order by unit_code, degree, as_of_date",
            year,
        )
    )
    latest = max((h.as_of for h in history), default=None)
    return YearEnd(
        year=year,
        status="final" if all(u.status == "final" for u in units) else "provisional",
        latest_export=latest,
        indicators=indicators,
        quotas=quotas,
        units=units,
        nodes=nodes,
        history=history,
    )
