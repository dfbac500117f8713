"""A unit's last years beside this one, in report_<year>.html (from marts.unit_trends): in each
unit's section a small multiple (total points and the rate at the year's last node, by year,
the evaluation year highlighted, a ★ over a year the unit was advanced) and a compact table of
the same figures; in the ranking part an overview table per group, 近年总分与名次. With a
single year in the marts, one short line says so instead of an empty chart.

Here the figures and the chart's geometry; templates/macros/years.j2 writes them. Unit names
come from the year's scoreboard (`YearEnd.units`)."""

from __future__ import annotations

from dataclasses import dataclass

from employment_eval.render import charts
from employment_eval.render.yearend import labels
from employment_eval.render.yearend.data import (
    GROUP_NAMES,
    GROUP_ORDER,
    TREND_YEARS,
    UnitResult,
    YearEnd,
)
from employment_eval.trends import UnitYear

ONE_YEAR = "发布的数据中只有 {year} 年度，暂无往年可比。"
UNIT_ONE_YEAR = "该单位只有 {year} 年度的数据，暂无往年可比。"


@dataclass(frozen=True)
class UnitYears:
    """What a unit's section shows of its years: a note (one year only), or the chart and the
    table of `years`."""

    code: str
    year: int  # the evaluation year
    note: str | None = None
    years: tuple[UnitYear, ...] = ()
    chart: charts.YearsChart | None = None
    rate_label: str = ""

    @property
    def provisional(self) -> bool:
        return any(y.status != "final" for y in self.years)


@dataclass(frozen=True)
class HistoryRow:
    unit: UnitResult
    years: dict[int, UnitYear]


@dataclass(frozen=True)
class HistoryGroup:
    name: str
    rows: tuple[HistoryRow, ...]


@dataclass(frozen=True)
class Overview:
    """近年总分与名次: a note (one year only), or a table per group of the shown years."""

    year: int  # the evaluation year
    provisional: bool  # the evaluation year's scoreboard is not final
    note: str | None = None
    years: tuple[int, ...] = ()
    groups: tuple[HistoryGroup, ...] = ()


def shown_years(ye: YearEnd) -> list[int]:
    """The years the report puts side by side: the last TREND_YEARS up to the evaluation year."""
    return ye.trend_years()[-TREND_YEARS:]


def rate_label(ye: YearEnd) -> str:
    return labels.final_rate_label(ye, set(shown_years(ye)))


def _unit_years(ye: YearEnd, unit: UnitResult) -> list[UnitYear]:
    trend = ye.trend(unit.code)
    years = set(shown_years(ye))
    return [y for y in trend.years if y.year in years] if trend else []


def unit_years(ye: YearEnd, unit: UnitResult) -> UnitYears:
    """The unit's years beside this one: the small multiple and its table, or one line."""
    years = _unit_years(ye, unit)
    if len(years) <= 1:
        note = ONE_YEAR if len(ye.trend_years()) <= 1 else UNIT_ONE_YEAR
        return UnitYears(unit.code, ye.year, note=note.format(year=ye.year))
    label = rate_label(ye)
    figures = [
        charts.YearFigure(
            y.year,
            y.total_points,
            y.rank_in_group,
            y.is_advanced,
            y.final_rate,
            provisional=y.status != "final",
        )
        for y in years
    ]
    shown = set(shown_years(ye))
    top = max(
        (float(y.total_points) for t in ye.trends for y in t.years if y.year in shown),
        default=0.0,
    )
    title = f"{unit.short_name or unit.name}：近年总分与{label}"
    chart = charts.years_chart(title, figures, ye.year, label, total_top=top)
    return UnitYears(unit.code, ye.year, years=tuple(years), chart=chart, rate_label=label)


def overview(ye: YearEnd) -> Overview:
    """近年总分与名次: per group, each unit (in this year's ranking order) with its total and
    rank of each shown year; the evaluation year highlighted, advanced years starred."""
    years = shown_years(ye)
    if len(years) <= 1:  # one line, on the ranking's last page
        return Overview(ye.year, not ye.is_final, note=ONE_YEAR.format(year=ye.year))
    groups = []
    for group in GROUP_ORDER:
        units = ye.group(group)
        if not units:
            continue
        rows = []
        for u in units:
            trend = ye.trend(u.code)
            rows.append(HistoryRow(u, {y.year: y for y in trend.years} if trend else {}))
        groups.append(HistoryGroup(GROUP_NAMES[group], tuple(rows)))
    return Overview(ye.year, not ye.is_final, years=tuple(years), groups=tuple(groups))
