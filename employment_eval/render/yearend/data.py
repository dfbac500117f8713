"""The year-end figures, read from the published marts file (read-only) into plain dataclasses.

Everything the xlsx, csv and html writers show comes from here: they never open the marts
themselves, so they can be tested on hand-made figures (a tie at the cutoff, an adjustment)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path, PurePath
from zoneinfo import ZoneInfo

import duckdb

from employment_eval.publish import fetch_dicts, open_published
from employment_eval.render import formats
from employment_eval.render.standing import (
    UnitStanding,
    YearStanding,
    read_unit_standing,
    read_year_standing,
)
from employment_eval.selfcheck.published import ItemFigure, read_items
from employment_eval.trends import UnitTrend, read_unit_trends

GROUP_ORDER = ("school", "general", "specialty")
GROUP_NAMES = {"school": "院本部", "general": "附属综合性医院", "specialty": "附属专科医院"}
DEGREE_ORDER = ("bachelor", "master", "doctor")
DEGREE_NAMES = {"bachelor": "本科", "master": "硕士", "doctor": "博士"}
STATUS_NAMES = {"final": "最终", "provisional": "暂定"}
TREND_YEARS = 5  # how many years (up to the evaluation year) the report puts side by side


class YearEndError(Exception):
    """The year-end files cannot be written; the message is one Chinese paragraph."""


class NoDataError(YearEndError):
    """The marts hold nothing for the year asked for."""


class MissingProvenanceError(YearEndError):
    """The marts file lacks what the files must say about where they come from (a file
    published by an older version): marts.run_info or the policy of the rules."""


@dataclass(frozen=True)
class Indicator:
    code: str  # I1..I9
    name: str
    category: str  # kpi / development
    base_points: int
    has_bonus: bool = False  # I3: +points per graduate above a node's required count

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def points_note(self) -> str:
        """What the points are out of: I3's base plus an uncapped bonus, the others' maximum."""
        if self.has_bonus:
            return f"基准{self.base_points}分，另加超额奖励分"
        return f"满分{self.base_points}分"

    @property
    def header(self) -> str:
        """The column header: 'I3 时间节点就业率（基准35分，另加超额奖励分）'."""
        return f"{self.label}（{self.points_note}）"


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
    note: str = ""  # the adjustment in one sentence (marts.indicator_scores.adjustment_note)


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
    standing: UnitStanding  # what every output says of the unit's standing (marts)
    scores: dict[str, Score] = field(default_factory=dict)
    short_name: str = ""

    @property
    def remark(self) -> str:
        """The 备注 of the scoreboard, as marts.unit_standing words it ('' when none)."""
        return self.standing.label


@dataclass(frozen=True)
class CommitteeRow:
    """One adjustment or decision of the committee, as the year-end files list them."""

    unit: UnitResult
    item: str  # 'I2 优秀毕业生评选' or '先进单位（名额线并列）'
    before: str  # the computed points, or 并列
    after: str  # the adjusted points, or the decision
    reason: str
    approved_by: str
    decided_on: dt.date | None
    points: tuple[Decimal, Decimal] | None = None  # (computed, adjusted) of an indicator


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

    @property
    def is_met(self) -> bool:
        return self.employed >= self.required


@dataclass(frozen=True)
class HistoryPoint:
    unit_code: str
    degree: str
    as_of: dt.date
    graduates: int
    employed: int
    rate: Decimal


@dataclass(frozen=True)
class Provenance:
    """Where the figures come from (marts.run_info and the year's rules): printed in every
    year-end file so that a copy on paper or in a mail still says what it is."""

    policy_number: str  # 沪交医学〔2021〕1号
    policy_title: str
    as_of: dt.date  # the run's evaluation date (--as-of)
    generated_at: dt.datetime  # when the run published the marts (Asia/Shanghai wall time)
    rules_file: str
    rules_sha256: str
    code_version: str
    run_id: str
    input_files: int = 0  # how many input files the run read

    @property
    def policy(self) -> str:
        return self.policy_number or "（规则文件未注明政策文号）"

    @property
    def rules_version(self) -> str:
        """The rules file's name and the start of its sha256: '2021.toml（sha256 49be97e0c6c2）'."""
        name = PurePath(self.rules_file).name or self.rules_file
        return f"{name}（sha256 {self.rules_sha256[:12]}）"

    @property
    def generated(self) -> str:
        return self.generated_at.strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class YearEnd:
    year: int
    status: str  # final / provisional
    latest_export: dt.date | None
    standing: YearStanding  # the status, its reasons and the later decisions (marts)
    indicators: tuple[Indicator, ...]
    quotas: dict[str, int]
    units: tuple[UnitResult, ...]  # group order, then rank, then the reference order
    provenance: Provenance
    nodes: tuple[NodeRate, ...] = ()
    history: tuple[HistoryPoint, ...] = ()
    # marts.unit_trends: each unit's years up to the evaluation year (this one included), in
    # the units' order; empty for a marts file without the table (an older version)
    trends: tuple[UnitTrend, ...] = ()
    signature: str = ""  # 已审定签发（签发人 X，日期 D） of a signed year (marts.signatures)
    selfcheck: tuple[ItemFigure, ...] = ()  # marts.selfcheck_items: centre's and units' figures

    @property
    def is_final(self) -> bool:
        return self.status == "final"

    @property
    def status_name(self) -> str:
        return self.standing.status_label

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

    def committee_rows(self) -> list[CommitteeRow]:
        """The committee's adjustments and 先进单位 decisions applied to this year, with reason,
        approver and date (the year-end report's section and the workbook's sheet)."""
        rows = [
            CommitteeRow(
                unit=u,
                item=ind.label,
                before=formats.points(score.computed),
                after=formats.points(score.points),
                reason=score.reason or "",
                approved_by=score.approved_by or "",
                decided_on=score.adjusted_on,
                points=(score.computed, score.points),
            )
            for u, ind, score in self.adjustments()
        ]
        rows += [
            CommitteeRow(
                unit=u,
                item="先进单位（名额线并列）",
                before="并列",
                after="评为先进单位" if u.is_advanced else "不评为先进单位",
                reason=u.standing.decision_reason,
                approved_by=u.standing.decision_approved_by,
                decided_on=u.standing.decision_date,
            )
            for u in self.units
            if u.standing.decided_by_committee
        ]
        return rows

    def milestone_dates(self) -> list[dt.date]:
        return sorted({n.milestone_date for n in self.nodes})

    def trend_years(self) -> list[int]:
        """Every year the marts hold up to the evaluation year, ascending."""
        return sorted({y.year for t in self.trends for y in t.years})

    def trend(self, unit_code: str) -> UnitTrend | None:
        return next((t for t in self.trends if t.unit_code == unit_code), None)


def read_trends(marts_path: Path, year: int) -> tuple[UnitTrend, ...]:
    """marts.unit_trends up to `year` (a later year the file may hold is left out)."""
    trends = []
    for trend in read_unit_trends(marts_path):
        years = tuple(y for y in trend.years if y.year <= year)
        if years:
            trends.append(replace(trend, years=years))
    return tuple(trends)


def read_provenance(marts_path: Path, year: int) -> Provenance:
    """Where the published figures of `year` come from (also read by the Prefect artifacts)."""
    con = open_published(marts_path)
    try:
        return _provenance(con, year)[0]
    finally:
        con.close()


def read_year_end(marts_path: Path, year: int) -> YearEnd:
    con = open_published(marts_path)
    try:
        ye = _read(con, year)
    finally:
        con.close()
    return replace(ye, trends=read_trends(marts_path, year))


def _read(con: duckdb.DuckDBPyConnection, year: int) -> YearEnd:
    board = fetch_dicts(
        con,
        """select s.*, u.sort_order, u.short_name from marts.scoreboard s
           join reference.units u using (unit_code) where s.year = ?""",
        [year],
    )
    if not board:
        raise NoDataError(f"{year} 年没有可评估的数据（发布的数据中没有该年度的记分板）。")
    provenance, bonus_per_person = _provenance(con, year)
    indicators = tuple(
        Indicator(
            r["indicator"],
            r["indicator_name"],
            r["category"],
            int(r["base_points"]),
            has_bonus=r["indicator"] == "I3" and bonus_per_person > 0,
        )
        for r in fetch_dicts(
            con, "select * from reference.rule_indicators where year = ? order by indicator", [year]
        )
    )
    quotas = {
        r["unit_group"]: int(r["quota"])
        for r in fetch_dicts(con, "select * from reference.rule_quotas where year = ?", [year])
    }
    scores: dict[str, dict[str, Score]] = {}
    for r in fetch_dicts(con, "select * from marts.indicator_scores where year = ?", [year]):
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
            note=r["adjustment_note"] or "",
        )
    board.sort(
        key=lambda r: (GROUP_ORDER.index(r["unit_group"]), r["rank_in_group"], r["sort_order"])
    )
    try:
        standing = {u.unit_code: u for u in read_unit_standing(con, year)}
        year_standing = read_year_standing(con, year)
    except duckdb.CatalogException as exc:  # a marts file of an older version
        raise MissingProvenanceError(_MISSING) from exc
    if year_standing is None or len(standing) != len(board):
        raise MissingProvenanceError(_MISSING)
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
            standing=standing[r["unit_code"]],
            scores=scores.get(r["unit_code"], {}),
            short_name=r["short_name"] or r["unit_name"],
        )
        for r in board
    )
    nodes = node_rates(con, year)
    history = tuple(
        HistoryPoint(
            r["unit_code"],
            r["degree"],
            r["as_of_date"],
            int(r["graduates"]),
            int(r["employed"]),
            r["employment_rate"],
        )
        for r in fetch_dicts(
            con,
            "select * from marts.rate_history where year = ? "
            "order by unit_code, degree, as_of_date",
            [year],
        )
    )
    latest = max((h.as_of for h in history), default=None)
    return YearEnd(
        year=year,
        status=year_standing.status,
        latest_export=latest,
        standing=year_standing,
        indicators=indicators,
        quotas=quotas,
        units=units,
        provenance=provenance,
        nodes=nodes,
        history=history,
        signature=_signature_line(con, year),
        selfcheck=read_items(con, year),
    )


def _signature_line(con: duckdb.DuckDBPyConnection, year: int) -> str:
    from employment_eval.signing.published import signature

    sig = signature(con, year)
    return sig.line if sig is not None else ""


def node_rates(
    con: duckdb.DuckDBPyConnection, year: int, milestone_date: dt.date | None = None
) -> tuple[NodeRate, ...]:
    """marts.milestone_rates of a year (of one node when `milestone_date` is given), by unit,
    degree and node (the year-end files' 节点就业率 and the morning report after the last node)."""
    return tuple(
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
        for r in fetch_dicts(
            con,
            "select * from marts.milestone_rates where year = $year "
            "and ($node is null or milestone_date = $node) "
            "order by unit_code, degree, milestone_date",
            {"year": year, "node": milestone_date},
        )
    )


def _provenance(con: duckdb.DuckDBPyConnection, year: int) -> tuple[Provenance, int]:
    """The run that published the file (marts.run_info, one row; the row of `year` first if
    there ever are several) and the year's rules (reference.rule_years). Both are required."""
    try:
        runs = fetch_dicts(
            con,
            "select * from marts.run_info order by (year = ?) desc, generated_at desc limit 1",
            [year],
        )
        (rule,) = fetch_dicts(
            con,
            "select policy_number, policy_title, rules_file, rules_sha256, i3_bonus_per_person "
            "from reference.rule_years where year = ?",
            [year],
        ) or [None]
    except duckdb.CatalogException as exc:  # table or column missing: an older marts file
        raise MissingProvenanceError(_MISSING) from exc
    if not runs or rule is None:
        raise MissingProvenanceError(_MISSING)
    run = runs[0]
    return (
        Provenance(
            policy_number=rule["policy_number"] or "",
            policy_title=rule["policy_title"] or "",
            as_of=run["as_of_date"],
            generated_at=_wall_time(run["generated_at"]),
            rules_file=rule["rules_file"] or "",
            rules_sha256=rule["rules_sha256"] or "",
            code_version=str(run["code_version"] or ""),
            run_id=str(run["run_id"]),
            input_files=_count(run["input_files"]),
        ),
        int(rule["i3_bonus_per_person"] or 0),
    )


_MISSING = (
    "发布的数据库中缺少运行信息、名次与状态说明或规则的政策文号（可能由较早的版本发布）："
    "年终文件须注明其依据与来源，请先运行 employment-eval run 重新发布，"
    "再生成年终文件。"
)


def _wall_time(value: dt.datetime) -> dt.datetime:
    """generated_at as Asia/Shanghai wall time without a zone (a spreadsheet has none)."""
    if value.tzinfo is not None:
        value = value.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    return value


def _count(value: object) -> int:
    """input_files as stored: a count (or, should it become one, a list of files)."""
    if isinstance(value, list | tuple):
        return len(value)
    return int(value or 0)
