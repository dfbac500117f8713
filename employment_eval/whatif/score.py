"""One scoring of the scratch database: the year's rules loaded as the `reference.rule_*`
tables, the models up to `marts.scoreboard` built, and the scoreboard and indicator scores
read back. The same SQL as a run: the figures are the run's figures under those rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from employment_eval import build, runner
from employment_eval.adjustments import decision_problems
from employment_eval.paths import REFERENCE_DIR, SQL_DIR
from employment_eval.rules import Rules

TARGETS = ("+marts.unit_standing", "+marts.indicator_scores")  # and what they read


@dataclass(frozen=True)
class IndicatorScore:
    code: str  # I1..I9
    name: str  # the rules' name of the indicator
    points: Decimal  # after the committee's adjustments
    adjusted: bool
    detail: str


@dataclass(frozen=True)
class UnitScore:
    unit_code: str
    short_name: str
    unit_name: str
    unit_group: str
    sort_order: int
    total: Decimal
    rank: int
    quota: int
    advanced: bool
    tie_at_cutoff: bool
    decided_by_committee: bool  # a 先进单位 decision of the committee exists for the unit
    label: str  # the remark every output shows (marts.unit_standing; '' when none)
    indicators: dict[str, IndicatorScore] = field(default_factory=dict)


@dataclass(frozen=True)
class Scoring:
    """The year's scoreboard under one set of rules."""

    label: str  # 正式规则 / 草案1 …
    rules: Rules
    status: str  # final / provisional
    units: dict[str, UnitScore]
    tables: dict[str, list[tuple]] = field(default_factory=dict)  # the year's rows, every column
    # committee decisions (D12) these rules would make invalid: a run would refuse them
    decision_notes: tuple[str, ...] = ()
    status_reasons: str = ""  # why provisional, as marts.year_standing says it ('' when final)


class Builder:
    """Builds the scoring models in one scratch database, again for each set of rules (the
    seeds, the macros and the models' analysis are loaded once)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, analysis: Path | None = None):
        """`analysis`: the models' analysis kept by the runs (`<work>.analysis.json`), read
        when it is there (never written): a new process need not parse the SQL again."""
        self.con = con
        options: dict[str, object] = {"materializations": build.MATERIALIZATIONS}
        cache_type = getattr(runner, "AnalysisCache", None)
        if analysis is not None and cache_type is not None and analysis.is_file():
            options["cache"] = cache_type(analysis)
        self.models = runner.select_models(runner.discover(SQL_DIR, **options), TARGETS)
        runner.load_seeds(con, REFERENCE_DIR, ())
        con.execute((SQL_DIR / "macros.sql").read_text(encoding="utf-8"))

    def score(self, rules: Rules, label: str) -> Scoring:
        runner.load_seeds(self.con, REFERENCE_DIR, [rules], seed_files=())
        runner.build(self.con, self.models)
        return read_scoring(self.con, rules, label)


def score(
    con: duckdb.DuckDBPyConnection,
    rules: Sequence[Rules],
    labels: Sequence[str],
    analysis: Path | None = None,
) -> list[Scoring]:
    """Each set of rules' scoring, in order."""
    builder = Builder(con, analysis)
    return [builder.score(r, label) for r, label in zip(rules, labels, strict=True)]


def read_scoring(con: duckdb.DuckDBPyConnection, rules: Rules, label: str) -> Scoring:
    rows = con.execute(
        """select s.unit_code, s.short_name, s.unit_name, s.unit_group, s.unit_order,
                  s.total_points, s.rank_in_group, s.quota, s.is_advanced, s.tie_at_cutoff,
                  s.is_decided_by_committee, coalesce(s.standing_label, ''), s.status
           from marts.unit_standing as s
           where s.year = ?
           order by s.unit_order""",
        [rules.year],
    ).fetchall()
    indicators: dict[str, dict[str, IndicatorScore]] = {}
    for unit, code, name, points, adjusted, detail in con.execute(
        """select unit_code, indicator, indicator_name, points, adjusted, detail
           from marts.indicator_scores where year = ? order by unit_code, indicator""",
        [rules.year],
    ).fetchall():
        indicators.setdefault(unit, {})[code] = IndicatorScore(
            code, name, points, adjusted, detail or ""
        )
    units = {
        r[0]: UnitScore(*r[:12], indicators=indicators.get(r[0], {}))  # type: ignore[misc]
        for r in rows
    }
    status = "final" if rows and all(r[12] == "final" for r in rows) else "provisional"
    tables = {
        name: con.execute(
            f"select * from marts.{name} where year = ? order by all", [rules.year]
        ).fetchall()
        for name in ("indicator_scores", "scoreboard")
    }
    notes = tuple(
        f"{p.file} 第 {p.row} 行：{p.reason}" for p in decision_problems(con) if p.row is not None
    )
    found = con.execute(
        "select provisional_reasons from marts.year_standing where year = ?", [rules.year]
    ).fetchone()
    reasons = (found[0] or "") if found else ""
    return Scoring(label, rules, status, units, tables, notes, status_reasons=reasons)
