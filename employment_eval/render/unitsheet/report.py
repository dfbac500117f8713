"""The unit's sheet as HTML: one self-contained A4 page written by templates/unit_sheet.html.j2
(with base.html.j2, the chart macros and the stylesheets), no script, no address, every text
from the data escaped. Each figure carries a data-col attribute (and each degree's row its
data-degree), each curve point its data-date / data-rate, so that a reader or a test finds a
value without the layout. Here the figures are gathered and the charts laid out."""

from __future__ import annotations

from employment_eval.render import charts, formats, templates
from employment_eval.render.morning import text
from employment_eval.render.season import degree_chart
from employment_eval.render.unitsheet import UnitSheet, UnitSheetError
from employment_eval.render.yearend.data import DEGREE_NAMES, DEGREE_ORDER, GROUP_NAMES
from employment_eval.render.yearend.report import source_items

TEMPLATE = "unit_sheet.html.j2"
CHART_WIDTH = 266
CHART_HEIGHT = 196


def render(sheet: UnitSheet) -> str:
    what = f"{sheet.unit.short_name}的进度单（{sheet.m.as_of.isoformat()}）"
    return templates.render(TEMPLATE, UnitSheetError, what, **context(sheet))


def context(sheet: UnitSheet) -> dict[str, object]:
    m, unit, f = sheet.m, sheet.unit, sheet.facts
    p = m.provenance
    return {
        "s": sheet,
        "m": m,
        "f": f,
        "unit": unit,
        "group_name": GROUP_NAMES[unit.group],
        "head_title": f"{unit.short_name} · {m.year} 年度就业进度单（{m.as_of.isoformat()}）",
        "footer": (
            f"{unit.name} · {m.year} 年度就业进度单 · 评估日期 {m.as_of.isoformat()} · "
            f"运行编号 {p.run_id} · 不含个人信息"
        ),
        "source_items": source_items(p),
        "export_label": text.export_label,
        "node": text.node_label(m),
        "days": m.days_to_node,
        "last_node": formats.month_day(m.last_node) if m.last_node else "",
        "degree_names": DEGREE_NAMES,
        "season_charts": _charts(sheet),
        "has_last_year": bool(m.season and m.season.unit_has_last_year(unit.code)),
        "provenance_line": text.provenance_line(m),
    }


def _charts(sheet: UnitSheet) -> list[charts.SeasonChart]:
    season = sheet.m.season
    if season is None:
        return []
    out = []
    for degree in DEGREE_ORDER:
        chart = degree_chart(
            season,
            sheet.unit.code,
            degree,
            f"{DEGREE_NAMES[degree]}就业率",
            width=CHART_WIDTH,
            height=CHART_HEIGHT,
        )
        if chart is not None and any(p.style == "this" for p in chart.paths):
            out.append(chart)
    return out
