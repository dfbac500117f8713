"""report_<year>.html: one self-contained page (inline CSS and SVG, no script, no address of
any kind), opening offline with Chinese text rendered by the system's CJK font, written by the
template templates/report.html.j2 (with base.html.j2, the macros and the stylesheets of
templates/). Every text from the data is escaped by the templates' autoescape, bidi controls
removed (`render.templates`). A 暂定 banner heads the page whenever the scoreboard is not
final; the page names the policy, the as-of date, the generation time, the rules version and
the run id (head of the page, the last section and the footer of every printed page). Each
unit's section and the ranking put the unit's last years beside this one
(`render.yearend.years`, from marts.unit_trends).

Printing: A4 pages (the browser's own header and footer replaced by the source and the page
number), a page per group of the ranking and per unit section, charts never cut across pages,
no dark backgrounds (the banner and the tags become outlined), light highlights kept.

Here the figures are gathered and the charts laid out; the templates write every tag."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from employment_eval.render import charts, templates
from employment_eval.render.yearend import labels, years
from employment_eval.render.yearend.data import (
    DEGREE_NAMES,
    DEGREE_ORDER,
    GROUP_NAMES,
    GROUP_ORDER,
    NodeRate,
    Provenance,
    UnitResult,
    YearEnd,
    YearEndError,
)

TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class GroupRanking:
    name: str
    quota: int
    units: tuple[UnitResult, ...]


@dataclass(frozen=True)
class NodeTable:
    """A unit's rates at the nodes: a column per node date, a row per degree it has."""

    dates: tuple[dt.date, ...]
    rows: tuple[tuple[str, tuple[NodeRate | None, ...]], ...]  # (degree name, a cell per date)


@dataclass(frozen=True)
class UnitPage:
    unit: UnitResult
    group_name: str
    nodes: NodeTable | None
    years: years.UnitYears


def write_report(ye: YearEnd, path: Path) -> Path:
    path.write_text(render(ye), encoding="utf-8")
    return path


def render(ye: YearEnd) -> str:
    return templates.render(TEMPLATE, YearEndError, f"{ye.year} 年度的年终文件", **context(ye))


def context(ye: YearEnd) -> dict[str, object]:
    """Everything report.html.j2 shows."""
    p = ye.provenance
    return {
        "ye": ye,
        "head_title": f"{ye.year} 年度毕业生就业工作评估报告（{ye.status_name}）",
        "footer": (
            f"{ye.year} 年度评估报告（{'最终' if ye.is_final else '暂定'}） · {p.policy} · "
            f"评估日期 {p.as_of.isoformat()} · 运行编号 {p.run_id}"
        ),
        "source_items": source_items(p),
        "provisional_reasons": None if ye.is_final else labels.provisional_reasons(ye),
        "committee": ye.committee_rows(),
        "selfcheck": _selfcheck(ye),
        "ranking": [
            GroupRanking(GROUP_NAMES[g], ye.quotas.get(g, 0), tuple(ye.group(g)))
            for g in GROUP_ORDER
        ],
        "bonus_codes": "、".join(i.code for i in ye.indicators if i.has_bonus),
        "overview": years.overview(ye),
        "bar_charts": _bar_charts(ye),
        "degrees": [(d, DEGREE_NAMES[d]) for d in DEGREE_ORDER],
        "rate_charts": _rate_charts(ye),
        "units": [
            UnitPage(u, GROUP_NAMES[u.group], _node_table(ye, u), years.unit_years(ye, u))
            for u in ye.units
        ],
        "provenance_items": [
            *labels.provenance_items(ye),
            ("规则文件", p.rules_file),
            ("规则文件 SHA256", p.rules_sha256),
            ("输入文件", f"{p.input_files} 个"),
        ],
    }


@dataclass(frozen=True)
class SelfcheckDifferences:
    """单位自评差异 (marts.selfcheck_items): the ledger items where a unit's returned pack
    states another figure than the centre's, for the committee; the centre's figure stays the
    score."""

    units: int  # units that returned a pack
    differing: tuple  # ItemFigure rows that differ


def _selfcheck(ye: YearEnd) -> SelfcheckDifferences:
    returned = [i for i in ye.selfcheck if i.has_pack]
    return SelfcheckDifferences(
        units=len({i.unit_code for i in returned}),
        differing=tuple(i for i in returned if i.is_different),
    )


def source_items(p: Provenance) -> list[str]:
    """The line under the title: policy, rules, generation time and run id (also the morning
    report's)."""
    return [
        f"依据 {p.policy}",
        f"规则 {p.rules_version}",
        f"生成于 {p.generated}",
        f"运行编号 {p.run_id}",
    ]


def _bar_charts(ye: YearEnd) -> list[tuple[str, charts.BarChart]]:
    """Per group: each unit's points stacked by indicator, on one scale for the three groups."""
    series = [i.label for i in ye.indicators]
    top = max([float(u.total) for u in ye.units] + [1.0])
    out = []
    for group in GROUP_ORDER:
        bars = [
            charts.Bar(
                label=f"{u.rank}. {u.short_name or u.name}",
                segments=tuple(
                    (i.label, u.scores[i.code].points) for i in ye.indicators if i.code in u.scores
                ),
                total=u.total,
                highlight=u.is_advanced,
            )
            for u in ye.group(group)
        ]
        title = f"{GROUP_NAMES[group]}：各单位得分（按指标堆叠，调整后）"
        out.append((GROUP_NAMES[group], charts.stacked_bars(bars, series, title, scale_to=top)))
    return out


def _season(ye: YearEnd) -> tuple[dt.date, dt.date]:
    dates = [p.as_of for p in ye.history] + ye.milestone_dates()
    if not dates:
        return dt.date(ye.year, 6, 1), dt.date(ye.year, 12, 31)
    start = min(dates).replace(day=1)
    return start, max(dates) + dt.timedelta(days=10)


def _rate_charts(ye: YearEnd) -> list[charts.RateChart]:
    """Per unit: its rates over the season by degree, with the nodes' rates and targets."""
    start, end = _season(ye)
    out = []
    for u in ye.units:
        curves: dict[str, list] = {}
        for point in ye.history:
            if point.unit_code == u.code:
                curves.setdefault(point.degree, []).append((point.as_of, point.rate))
        marks = [
            charts.NodeMark(n.milestone_date, n.degree, n.rate, n.target, n.is_met)
            for n in ye.nodes
            if n.unit_code == u.code
        ]
        out.append(charts.rate_chart(u.short_name or u.name, curves, marks, start, end))
    return out


def _node_table(ye: YearEnd, u: UnitResult) -> NodeTable | None:
    nodes = [n for n in ye.nodes if n.unit_code == u.code]
    if not nodes:
        return None
    dates = tuple(sorted({n.milestone_date for n in nodes}))
    rows = []
    for degree in DEGREE_ORDER:
        cells = tuple(
            next((n for n in nodes if n.degree == degree and n.milestone_date == d), None)
            for d in dates
        )
        if any(c is not None for c in cells):
            rows.append((DEGREE_NAMES[degree], cells))
    return NodeTable(dates, tuple(rows))
