"""The season against last year, read from the published marts (marts.season_curves, the nodes'
targets of reference.rule_targets) into plain dataclasses shared by the morning report and the
units' sheets: per unit and degree (and the whole school, unit code 'all'), this season's rate
at each of its exports and last year's at the same calendar dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import duckdb

from employment_eval.publish import fetch_dicts
from employment_eval.render import charts
from employment_eval.render.yearend.data import DEGREE_NAMES, DEGREE_ORDER

SCHOOL = "all"  # marts.season_curves' unit code of the whole school


@dataclass(frozen=True)
class CurvePoint:
    date: dt.date
    rate: Decimal | None  # this season (None: no export of its own that day)
    last_year_rate: Decimal | None  # last year at the same date (None: no data)
    last_year_export: dt.date | None
    is_last_year_export: bool  # last year exported on this date a year earlier


@dataclass(frozen=True)
class DegreeCurve:
    unit_code: str
    degree: str
    points: tuple[CurvePoint, ...]

    @property
    def degree_name(self) -> str:
        return DEGREE_NAMES.get(self.degree, self.degree)

    def this_year(self) -> tuple[tuple[dt.date, Decimal], ...]:
        return tuple((p.date, p.rate) for p in self.points if p.rate is not None)

    def compared(self) -> tuple[Decimal | None, ...]:
        """Last year's rate at each date of this_year()."""
        return tuple(p.last_year_rate for p in self.points if p.rate is not None)

    def last_year(self) -> tuple[tuple[dt.date, Decimal], ...]:
        """Last year's curve through its own exports, moved one year on."""
        return tuple(
            (p.date, p.last_year_rate)
            for p in self.points
            if p.is_last_year_export and p.last_year_rate is not None
        )


@dataclass(frozen=True)
class Season:
    year: int
    start: dt.date  # the charts' date axis
    end: dt.date
    curves: tuple[DegreeCurve, ...]
    targets: tuple[charts.TargetMark, ...]

    @property
    def has_last_year(self) -> bool:
        return any(c.last_year() for c in self.curves)

    def of(self, unit_code: str) -> list[DegreeCurve]:
        """The curves of a unit (or SCHOOL), in degree order."""
        found = [c for c in self.curves if c.unit_code == unit_code]
        return sorted(found, key=lambda c: DEGREE_ORDER.index(c.degree))

    def unit_has_last_year(self, unit_code: str) -> bool:
        return any(c.last_year() for c in self.of(unit_code))

    def targets_for(self, degrees: set[str]) -> list[charts.TargetMark]:
        return [t for t in self.targets if t.degree in degrees]


def read_season(con: duckdb.DuckDBPyConnection, year: int) -> Season | None:
    """The year's curves (None when the marts hold no export of that year)."""
    rows = fetch_dicts(
        con,
        "select * from marts.season_curves where year = ? order by unit_code, degree, curve_date",
        [year],
    )
    if not rows:
        return None
    by_cell: dict[tuple[str, str], list[CurvePoint]] = {}
    for r in rows:
        by_cell.setdefault((r["unit_code"], r["degree"]), []).append(
            CurvePoint(
                date=r["curve_date"],
                rate=r["employment_rate"] if r["is_export"] else None,
                last_year_rate=r["last_year_rate"],
                last_year_export=r["last_year_export_date"],
                is_last_year_export=bool(r["is_last_year_export"]),
            )
        )
    targets = [
        charts.TargetMark(
            r["milestone_date"],
            r["degree"],
            (Decimal(int(r["target_bp"])) / 10000).quantize(Decimal("0.0001")),
        )
        for r in fetch_dicts(
            con,
            "select milestone_date, degree, target_bp from reference.rule_targets "
            "where year = ? order by milestone_date, degree",
            [year],
        )
    ]
    dates = [r["curve_date"] for r in rows] + [t.date for t in targets]
    return Season(
        year=year,
        start=min(dates),
        end=max(dates),
        curves=tuple(
            DegreeCurve(unit, degree, tuple(points))
            for (unit, degree), points in sorted(by_cell.items())
            if degree in DEGREE_ORDER
        ),
        targets=tuple(targets),
    )


def unit_chart(
    season: Season, unit_code: str, title: str, width: int = 290, height: int = 200
) -> charts.SeasonChart:
    """A unit's (or the school's) degrees in one chart: this season solid, last year dashed,
    each node's target per degree."""
    lines: list[charts.SeasonLine] = []
    curves = season.of(unit_code)
    for c in curves:
        lines.append(
            charts.SeasonLine("this", c.degree, c.degree_name, c.this_year(), c.compared())
        )
    for c in curves:
        lines.append(charts.SeasonLine("last", c.degree, f"{c.degree_name}（去年）", c.last_year()))
    targets = season.targets_for({c.degree for c in curves})
    return charts.season_chart(
        title, lines, targets, season.start, season.end, width, height, legend=False
    )


def degree_chart(
    season: Season,
    unit_code: str,
    degree: str,
    title: str,
    school: bool = True,
    width: int = 300,
    height: int = 210,
) -> charts.SeasonChart | None:
    """One degree of a unit: this season, last year at the same dates, the whole school this
    season (when `school` and the unit is not the school) and the degree's node targets."""
    found = [c for c in season.of(unit_code) if c.degree == degree]
    if not found:
        return None
    c = found[0]
    lines = [charts.SeasonLine("this", degree, "今年", c.this_year(), c.compared())]
    if school and unit_code != SCHOOL:
        whole = [s for s in season.of(SCHOOL) if s.degree == degree]
        if whole:
            lines.append(charts.SeasonLine("school", degree, "全校今年", whole[0].this_year()))
    lines.append(charts.SeasonLine("last", degree, "去年同期", c.last_year()))
    return charts.season_chart(
        title, lines, season.targets_for({degree}), season.start, season.end, width, height
    )
