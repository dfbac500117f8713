"""progress_<year>_<as-of>.html: the morning report, one self-contained page in the look of the
year-end report (it extends the same base template, stylesheets and chart macros), written by
templates/morning.html.j2: no script, no address, every text from the data escaped by the
templates' autoescape, bidi controls removed (`render.templates`).

In season: who is behind the next node and by how many (per group, furthest behind first),
the verification backlog, the change since the previous export and since a week before, the
provisional scoreboard, the night's data-quality warnings (counts only) and the provenance.
After the year's last node: that node's results per unit and the scoreboard.

Each progress row carries data-unit / data-degree attributes and each figure a data-col
attribute, so a reader (or a test) can find a figure without parsing the layout."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from employment_eval.render import charts, formats, templates
from employment_eval.render.morning import text
from employment_eval.render.morning.data import (
    BoardRow,
    Morning,
    MorningReportError,
    UnitFinal,
    UnitProgress,
)
from employment_eval.render.season import SCHOOL, degree_chart, unit_chart
from employment_eval.render.yearend.data import (
    DEGREE_NAMES,
    DEGREE_ORDER,
    GROUP_NAMES,
    GROUP_ORDER,
)
from employment_eval.render.yearend.report import source_items

TEMPLATE = "morning.html.j2"


@dataclass(frozen=True)
class GroupProgress:
    name: str
    units: tuple[UnitProgress, ...]


@dataclass(frozen=True)
class GroupFinals:
    name: str
    units: tuple[UnitFinal, ...]
    ranks: dict[str, int]  # unit code → rank on the scoreboard


@dataclass(frozen=True)
class GroupBoard:
    name: str
    rows: tuple[BoardRow, ...]


@dataclass(frozen=True)
class UnitCurve:
    code: str
    chart: charts.SeasonChart


@dataclass(frozen=True)
class GroupCurves:
    name: str
    units: tuple[UnitCurve, ...]


def write_report(m: Morning, path: Path) -> Path:
    path.write_text(render(m), encoding="utf-8")
    return path


def render(m: Morning) -> str:
    return templates.render(TEMPLATE, MorningReportError, f"{m.as_of} 的晨报", **context(m))


def context(m: Morning) -> dict[str, object]:
    """Everything morning.html.j2 shows."""
    p = m.provenance
    node = text.node_label(m)
    return {
        "m": m,
        "head_title": text.title(m),
        "footer": (
            f"{m.year} 年度就业进度晨报 · 评估日期 {m.as_of.isoformat()} · {p.policy} · "
            f"运行编号 {p.run_id}"
        ),
        "source_items": source_items(p),
        "export_label": text.export_label,
        "summary": text.summary(m),
        "node": node,
        "behind_chart": _behind_chart(m, node),
        "progress": [
            GroupProgress(GROUP_NAMES[g], tuple(m.group_units(g)))
            for g in GROUP_ORDER
            if m.group_units(g)
        ],
        "definitions": text.definitions(m),
        "last_node": formats.month_day(m.last_node) if m.last_node else "",
        "finals": [
            GroupFinals(
                GROUP_NAMES[g],
                tuple(m.group_finals(g)),
                {b.unit.code: b.rank for b in m.group_board(g)},
            )
            for g in GROUP_ORDER
            if m.group_finals(g)
        ],
        "board": [
            GroupBoard(GROUP_NAMES[g], tuple(m.group_board(g)))
            for g in GROUP_ORDER
            if m.group_board(g)
        ],
        "degree_names": DEGREE_NAMES,
        "provenance_items": text.provenance_items(m),
        "school_charts": _school_charts(m),
        "unit_curves": _unit_curves(m),
        "has_last_year": bool(m.season and m.season.has_last_year),
    }


def _school_charts(m: Morning) -> list[charts.SeasonChart]:
    """The whole school, a chart per degree: this season, last year, the targets."""
    if m.season is None:
        return []
    out = []
    for degree in DEGREE_ORDER:
        title = f"全校{DEGREE_NAMES[degree]}就业率"
        chart = degree_chart(m.season, SCHOOL, degree, title, school=False, width=300, height=210)
        if chart is not None:
            out.append(chart)
    return out


def _unit_curves(m: Morning) -> list[GroupCurves]:
    """Each unit's degrees in one small chart, per group in reference order."""
    if m.season is None:
        return []
    units = {b.unit.code: b.unit for b in m.board}
    out = []
    for group in GROUP_ORDER:
        members = sorted(
            (u for u in units.values() if u.group == group and m.season.of(u.code)),
            key=lambda u: u.sort_order,
        )
        if members:
            out.append(
                GroupCurves(
                    GROUP_NAMES[group],
                    tuple(
                        UnitCurve(u.code, unit_chart(m.season, u.code, u.short_name))
                        for u in members
                    ),
                )
            )
    return out


def _behind_chart(m: Morning, node: str) -> charts.BarChart | None:
    """The units behind the next node, each one's gap stacked by degree."""
    behind = m.behind()
    if not behind:
        return None
    bars = [
        charts.Bar(
            label=u.unit.short_name,
            segments=tuple(
                (DEGREE_NAMES[d.degree], Decimal(d.gap)) for d in u.degrees if d.gap > 0
            ),
            total=Decimal(u.gap),
        )
        for u in behind
    ]
    series = [DEGREE_NAMES[d] for d in DEGREE_ORDER]
    title = f"各单位距{node}目标尚差人数（按学历堆叠）"
    return charts.stacked_bars(bars, series, title, width=860, unit="人")
