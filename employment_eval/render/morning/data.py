"""The morning report's figures, read from the published marts file (read-only) into plain
dataclasses: the HTML and xlsx writers never open the marts themselves.

In season (a node lies ahead of --as-of) the report shows `marts.progress`: each unit and
degree against its next node. After the year's last node it shows the final position: the
scoreboard and each unit's result at that node (`marts.milestone_rates`). Both show the season
against last year (`marts.season_curves`, `marts.season_outlook`). The units' one-page sheets
read the same object: each unit's figures and sentences are its row of `marts.unit_sheet`
(`UnitFacts`). The night's data-quality warnings arrive as counts and check names only
(`QualityNote`): an input warning's text can quote a student number, so only its file and
column are kept."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from employment_eval.problems import Problem
from employment_eval.publish import fetch_dicts, open_published
from employment_eval.render.season import Season, read_season
from employment_eval.render.standing import (
    UnitStanding,
    YearStanding,
    read_unit_standing,
    read_year_standing,
)
from employment_eval.render.yearend.data import (
    DEGREE_ORDER,
    GROUP_ORDER,
    NodeRate,
    Provenance,
    node_rates,
    read_provenance,
)

_FAILING = re.compile(r"——(\d+) 行不符合")


class MorningReportError(Exception):
    """The morning report cannot be written; the message is one Chinese paragraph."""


class NoDataError(MorningReportError):
    """The marts hold no scoreboard for the year (a new year's rules before its first export):
    there is no report to write, which is said, not a failure."""


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    short_name: str
    group: str
    sort_order: int


@dataclass(frozen=True)
class DegreeProgress:
    """One unit and degree against the next node (a row of marts.progress)."""

    degree: str
    graduates: int
    employed: int
    rate: Decimal
    target: Decimal
    required: int
    gap: int  # max(0, ⌈t·N⌉ − E)
    pending: int  # destination counts, not yet verified (marts.verification_backlog)
    verification_closes: int  # min(gap, pending): what verification alone would close
    gap_after_pending: int  # max(0, gap − pending)
    projected_bonus: int
    projected_deduction: Decimal
    projected_label: str  # 扣 3 分 / 扣满 15 分（差 23 分） / 加 2 分 / —
    employed_change_previous: int | None
    rate_change_previous: Decimal | None
    employed_change_week: int | None
    rate_change_week: Decimal | None


@dataclass(frozen=True)
class UnitProgress:
    unit: Unit
    behind_rank: int  # 1 = furthest behind in its group
    gap: int
    pending: int
    projected_points: Decimal  # the node's points if counted on the latest export
    base_points: int
    degrees: tuple[DegreeProgress, ...]

    @property
    def is_behind(self) -> bool:
        return self.gap > 0


@dataclass(frozen=True)
class UnitFinal:
    unit: Unit
    base_points: int
    degrees: tuple[NodeRate, ...]  # the last node's results

    @property
    def node_points(self) -> Decimal:
        """max(0, base − Σ deductions) + Σ bonuses (D3), exact."""
        deductions = sum((d.deduction for d in self.degrees), Decimal(0))
        bonuses = sum(d.bonus for d in self.degrees)
        return max(Decimal(0), self.base_points - deductions) + bonuses


@dataclass(frozen=True)
class BoardRow:
    unit: Unit
    rank: int
    total: Decimal
    i3: Decimal
    is_advanced: bool
    tie_at_cutoff: bool
    status: str
    standing: UnitStanding  # the remark and explanations, as marts.unit_standing words them


@dataclass(frozen=True)
class UnitFacts:
    """A unit's row of marts.unit_sheet: its sheet's figures and sentences. The figures against
    the next node are None after the year's last node."""

    unit_code: str
    next_node: dt.date | None
    latest_export: dt.date | None
    graduates: int | None
    employed: int | None
    rate: Decimal | None
    gap: int | None
    pending: int | None
    verification_closes: int | None
    gap_after_pending: int | None
    employed_change_previous: int | None
    employed_change_week: int | None
    base_points: int | None
    projected_points: Decimal | None
    projected_bonus: int | None
    points_at_risk: Decimal | None
    at_risk_rank: int | None
    at_risk_units: int | None
    behind_rank: int | None
    rank_in_group: int
    group_units: int
    quota: int
    total_points: Decimal
    status: str
    last_year_export: dt.date | None
    today_note: str
    outlook_note: str | None
    rank_note: str
    last_year_note: str


@dataclass(frozen=True)
class Outlook:
    """The year's row of marts.season_outlook."""

    next_node: dt.date | None
    at_risk_units: int | None
    at_risk_points: Decimal | None
    at_risk_note: str | None  # the ranked line (None: no node ahead)
    last_year_note: str | None  # the school's rates against last year at the same date


@dataclass(frozen=True)
class QualityNote:
    """A warning of the night, without any value: where (file and column, or check) and how
    many."""

    source: str  # 输入文件 / 质量检查
    item: str
    count: int | None = None


@dataclass(frozen=True)
class Morning:
    year: int
    as_of: dt.date
    latest_export: dt.date | None
    previous_export: dt.date | None
    week_ago_export: dt.date | None
    next_node: dt.date | None  # None: the year's last node is past
    last_node: dt.date | None  # the year's last node
    units: tuple[UnitProgress, ...]  # in season: group order, furthest behind first
    finals: tuple[UnitFinal, ...]  # after the last node: group order, then rank
    board: tuple[BoardRow, ...]  # group order, then rank
    provenance: Provenance
    standing: YearStanding  # the year's status, its reasons, the later decisions (marts)
    notes: tuple[QualityNote, ...] = ()
    season: Season | None = None  # the season against last year (None: no export yet)
    outlook: Outlook | None = None
    facts: tuple[UnitFacts, ...] = ()  # each unit's sheet, in reference order

    def fact(self, unit_code: str) -> UnitFacts | None:
        return next((f for f in self.facts if f.unit_code == unit_code), None)

    def progress_of(self, unit_code: str) -> UnitProgress | None:
        return next((u for u in self.units if u.unit.code == unit_code), None)

    def final_of(self, unit_code: str) -> UnitFinal | None:
        return next((u for u in self.finals if u.unit.code == unit_code), None)

    @property
    def in_season(self) -> bool:
        return self.next_node is not None

    @property
    def status(self) -> str:
        return self.standing.status

    @property
    def status_name(self) -> str:
        return self.standing.status_label

    def behind(self) -> list[UnitProgress]:
        """Units below their next node's target in at least one degree, furthest behind first
        (most graduates still to place, then fewest projected node points)."""
        rows = [u for u in self.units if u.is_behind]
        return sorted(rows, key=lambda u: (-u.gap, u.projected_points, u.unit.sort_order))

    def group_units(self, group: str) -> list[UnitProgress]:
        return [u for u in self.units if u.unit.group == group]

    def group_finals(self, group: str) -> list[UnitFinal]:
        return [u for u in self.finals if u.unit.group == group]

    def group_board(self, group: str) -> list[BoardRow]:
        return [r for r in self.board if r.unit.group == group]

    @property
    def days_to_node(self) -> int | None:
        return (self.next_node - self.as_of).days if self.next_node else None


def notes_from_run(
    problems: Iterable[Problem], quality_warnings: Iterable[str]
) -> list[QualityNote]:
    """The night's warnings as counts: input warnings per file and column (never their text,
    which can quote a value), and the quality checks' one-line summaries (check name and the
    number of rows, no values)."""
    per_place = Counter((p.file, p.column or "") for p in problems)
    notes = [
        QualityNote("输入文件", f"{file} 列「{column}」" if column else file, n)
        for (file, column), n in sorted(per_place.items())
    ]
    for line in quality_warnings:
        found = _FAILING.search(line)
        if found:  # '[警告] suite：what——3 行不符合（expectation）' → the count in its column
            notes.append(QualityNote("质量检查", _FAILING.sub("", line, count=1), int(found[1])))
        else:
            notes.append(QualityNote("质量检查", line))
    return notes


def read_morning(
    marts_path: Path, year: int, as_of: dt.date, notes: Iterable[QualityNote] = ()
) -> Morning:
    con = open_published(marts_path)
    try:
        found = con.execute("select count(*) from marts.scoreboard where year = ?", [year])
        if not found.fetchone()[0]:
            raise NoDataError(
                f"{year} 年没有可评估的数据（发布的数据中没有该年度的记分板），未生成晨报。"
            )
        provenance = read_provenance(marts_path, year)
        return _read(con, year, as_of, provenance, tuple(notes))
    finally:
        con.close()


def _read(
    con: duckdb.DuckDBPyConnection,
    year: int,
    as_of: dt.date,
    provenance: Provenance,
    notes: tuple[QualityNote, ...],
) -> Morning:
    units = {
        r["unit_code"]: Unit(
            code=r["unit_code"],
            name=r["unit_name"],
            short_name=r["short_name"] or r["unit_name"],
            group=r["unit_group"],
            sort_order=int(r["sort_order"]),
        )
        for r in fetch_dicts(con, "select * from reference.units order by sort_order", [])
    }
    board = _board(con, year, units)
    standing = read_year_standing(con, year)
    if standing is None:
        raise MorningReportError(
            "发布的数据中没有名次与状态说明（可能由较早的版本发布），未生成晨报；"
            "请重新运行 employment-eval run。"
        )
    nodes = fetch_dicts(
        con,
        "select milestone_date, base_points from reference.rule_milestones where year = ? "
        "order by milestone_date",
        [year],
    )
    base = {r["milestone_date"]: int(r["base_points"]) for r in nodes}
    upcoming = [d for d in base if d >= as_of]
    exports = _exports(con, year)
    latest = exports[-1] if exports else None
    changes = fetch_dicts(
        con,
        "select max(previous_export_date) as prev, max(week_ago_export_date) as week "
        "from marts.rate_changes where year = ? and as_of_date = ?",
        [year, latest],
    )
    prev, week = (changes[0]["prev"], changes[0]["week"]) if changes else (None, None)
    next_node = upcoming[0] if upcoming else None
    last_node = max(base, default=None)
    return Morning(
        year=year,
        as_of=as_of,
        latest_export=latest,
        previous_export=prev,
        week_ago_export=week,
        next_node=next_node,
        last_node=last_node,
        units=_progress(con, year, units) if next_node else (),
        finals=_finals(con, year, last_node, base, units, board)
        if last_node is not None and next_node is None
        else (),
        board=board,
        provenance=provenance,
        standing=standing,
        notes=notes,
        season=read_season(con, year),
        outlook=_outlook(con, year),
        facts=_facts(con, year, units),
    )


def _outlook(con: duckdb.DuckDBPyConnection, year: int) -> Outlook | None:
    rows = fetch_dicts(con, "select * from marts.season_outlook where year = ?", [year])
    if not rows:
        return None
    r = rows[0]
    return Outlook(
        next_node=r["next_milestone"],
        at_risk_units=_int(r["at_risk_units"]),
        at_risk_points=r["at_risk_points"],
        at_risk_note=r["at_risk_note"],
        last_year_note=r["last_year_note"],
    )


def _facts(
    con: duckdb.DuckDBPyConnection, year: int, units: dict[str, Unit]
) -> tuple[UnitFacts, ...]:
    rows = fetch_dicts(con, "select * from marts.unit_sheet where year = ?", [year])
    out = [
        UnitFacts(
            unit_code=r["unit_code"],
            next_node=r["next_milestone"],
            latest_export=r["latest_export_date"],
            graduates=_int(r["graduates"]),
            employed=_int(r["employed"]),
            rate=r["employment_rate"],
            gap=_int(r["gap_persons"]),
            pending=_int(r["pending_verification"]),
            verification_closes=_int(r["verification_closes"]),
            gap_after_pending=_int(r["gap_after_verification"]),
            employed_change_previous=_int(r["employed_change_previous"]),
            employed_change_week=_int(r["employed_change_week"]),
            base_points=_int(r["node_base_points"]),
            projected_points=r["projected_node_points"],
            projected_bonus=_int(r["projected_bonus"]),
            points_at_risk=r["points_at_risk"],
            at_risk_rank=_int(r["at_risk_rank"]),
            at_risk_units=_int(r["at_risk_units"]),
            behind_rank=_int(r["behind_rank_in_group"]),
            rank_in_group=int(r["rank_in_group"]),
            group_units=int(r["group_units"]),
            quota=int(r["quota"]),
            total_points=r["total_points"],
            status=r["status"],
            last_year_export=r["last_year_export_date"],
            today_note=r["today_note"],
            outlook_note=r["outlook_note"],
            rank_note=r["rank_note"],
            last_year_note=r["last_year_note"],
        )
        for r in rows
        if r["unit_code"] in units
    ]
    return tuple(sorted(out, key=lambda f: units[f.unit_code].sort_order))


def _exports(con: duckdb.DuckDBPyConnection, year: int) -> list[dt.date]:
    rows = con.execute(
        "select distinct as_of_date from marts.rate_history where year = ? order by 1", [year]
    ).fetchall()
    return [r[0] for r in rows]


def _board(
    con: duckdb.DuckDBPyConnection, year: int, units: dict[str, Unit]
) -> tuple[BoardRow, ...]:
    standing = {u.unit_code: u for u in read_unit_standing(con, year)}
    rows = [
        BoardRow(
            unit=units[r["unit_code"]],
            rank=int(r["rank_in_group"]),
            total=r["total_points"],
            i3=r["i3_points"],
            is_advanced=bool(r["is_advanced"]),
            tie_at_cutoff=bool(r["tie_at_cutoff"]),
            status=r["status"],
            standing=standing[r["unit_code"]],
        )
        for r in fetch_dicts(con, "select * from marts.scoreboard where year = ?", [year])
    ]
    return tuple(
        sorted(rows, key=lambda b: (GROUP_ORDER.index(b.unit.group), b.rank, b.unit.sort_order))
    )


def _progress(
    con: duckdb.DuckDBPyConnection, year: int, units: dict[str, Unit]
) -> tuple[UnitProgress, ...]:
    by_unit: dict[str, list[dict]] = {}
    for r in fetch_dicts(con, "select * from marts.progress where year = ?", [year]):
        by_unit.setdefault(r["unit_code"], []).append(r)
    out = []
    for code, rows in by_unit.items():
        rows.sort(key=lambda r: DEGREE_ORDER.index(r["degree"]))
        first = rows[0]
        out.append(
            UnitProgress(
                unit=units[code],
                behind_rank=int(first["behind_rank_in_group"]),
                gap=int(first["unit_gap_persons"]),
                pending=int(first["unit_pending_verification"]),
                projected_points=first["unit_projected_node_points"],
                base_points=int(first["node_base_points"]),
                degrees=tuple(
                    DegreeProgress(
                        degree=r["degree"],
                        graduates=int(r["graduates"]),
                        employed=int(r["employed_now"]),
                        rate=r["employment_rate"],
                        target=r["target_rate"],
                        required=int(r["required_employed"]),
                        gap=int(r["gap_persons"]),
                        pending=int(r["pending_verification"]),
                        verification_closes=int(r["verification_closes"]),
                        gap_after_pending=int(r["gap_after_verification"]),
                        projected_bonus=int(r["projected_bonus"]),
                        projected_deduction=r["projected_deduction"],
                        projected_label=r["projected_label"],
                        employed_change_previous=_int(r["employed_change_previous"]),
                        rate_change_previous=r["rate_change_previous"],
                        employed_change_week=_int(r["employed_change_week"]),
                        rate_change_week=r["rate_change_week"],
                    )
                    for r in rows
                ),
            )
        )
    return tuple(
        sorted(
            out,
            key=lambda u: (GROUP_ORDER.index(u.unit.group), u.behind_rank, u.unit.sort_order),
        )
    )


def _finals(
    con: duckdb.DuckDBPyConnection,
    year: int,
    node: dt.date,
    base: dict[dt.date, int],
    units: dict[str, Unit],
    board: tuple[BoardRow, ...],
) -> tuple[UnitFinal, ...]:
    by_unit: dict[str, list[NodeRate]] = {}
    for rate in node_rates(con, year, node):
        by_unit.setdefault(rate.unit_code, []).append(rate)
    order = {b.unit.code: i for i, b in enumerate(board)}
    return tuple(
        UnitFinal(
            unit=units[code],
            base_points=base[node],
            degrees=tuple(sorted(rows, key=lambda d: DEGREE_ORDER.index(d.degree))),
        )
        for code, rows in sorted(by_unit.items(), key=lambda kv: order.get(kv[0], 99))
    )


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[arg-type]
