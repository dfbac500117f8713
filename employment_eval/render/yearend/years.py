"""A unit's last years beside this one, in report_<year>.html (from marts.unit_trends): in each
unit's section a small multiple (total points and the rate at the year's last node, by year,
the evaluation year highlighted, a ★ over a year the unit was advanced) and a compact table of
the same figures; in the ranking part an overview table per group, 近年总分与名次. With a
single year in the marts, one short line says so instead of an empty chart.

Unit names come from the year's scoreboard (`YearEnd.units`); every text is escaped by
`textsafe.html_text`."""

from __future__ import annotations

from employment_eval.render import formats
from employment_eval.render.yearend import labels, svg
from employment_eval.render.yearend.data import (
    GROUP_NAMES,
    GROUP_ORDER,
    TREND_YEARS,
    UnitResult,
    YearEnd,
)
from employment_eval.textsafe import html_text as h
from employment_eval.trends import UnitYear

CSS = """
div.years { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 4px 20px; }
div.years h4 { flex-basis: 100%; margin: 8px 0 0; font-size: 14px; }
div.years figure { margin: 0; }
div.years figcaption, div.history p.history-legend { color: #555; font-size: 12px; }
.star { color: #548235; }
table.years-table th, table.years-table td, table.history-table th,
table.history-table td { white-space: nowrap; }
table.years-table .now, table.history-table .now { background: #FFF2CC; font-weight: 600; }
table.history-table td.name { width: 20em; }
table.history-table th + th { min-width: 7em; }
table.history-table caption { text-align: left; font-weight: 600; padding: 4px 0; }
p.years-none { color: #555; font-size: 13px; margin: 6px 0; }
"""

PRINT_CSS = """
@media print {
  div.history { break-before: page; }
  div.years, table.history-table { break-inside: avoid; }
  table.years-table, table.history-table { width: auto; }
  div.years h4 { font-size: 11pt; margin-top: 4px; }
  div.years figure { width: 112mm; }
  div.years svg { width: 100%; height: auto; }
  div.years figcaption, div.history p.history-legend, p.years-none { font-size: 8pt; }
  table.years-table .now, table.history-table .now {
    -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

ONE_YEAR = "集市中只有 {year} 年度的数据，暂无往年可比。"
UNIT_ONE_YEAR = "该单位只有 {year} 年度的数据，暂无往年可比。"


def shown_years(ye: YearEnd) -> list[int]:
    """The years the report puts side by side: the last TREND_YEARS up to the evaluation year."""
    return ye.trend_years()[-TREND_YEARS:]


def rate_label(ye: YearEnd) -> str:
    return labels.final_rate_label(ye, set(shown_years(ye)))


def _unit_years(ye: YearEnd, unit: UnitResult) -> list[UnitYear]:
    trend = ye.trend(unit.code)
    years = set(shown_years(ye))
    return [y for y in trend.years if y.year in years] if trend else []


def _year_head(y: UnitYear) -> str:
    return f"{y.year}（暂定）" if y.status != "final" else str(y.year)


def _overview_head(ye: YearEnd, year: int) -> str:
    return f"{year}（暂定）" if year == ye.year and not ye.is_final else str(year)


def _th(text: str, now: bool) -> str:
    return f'<th class="now">{h(text)}</th>' if now else f"<th>{h(text)}</th>"


def unit_section(ye: YearEnd, unit: UnitResult) -> str:
    """The unit's years beside this one: the small multiple and its table, or one line."""
    years = _unit_years(ye, unit)
    if len(years) <= 1:
        note = ONE_YEAR if len(ye.trend_years()) <= 1 else UNIT_ONE_YEAR
        return (
            f'<div class="years" id="years-{h(unit.code)}"><p class="years-none">'
            f"近年对比：{h(note.format(year=ye.year))}</p></div>"
        )
    label = rate_label(ye)
    figures = [
        svg.YearFigure(
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
    chart = svg.years_chart(title, figures, ye.year, label, total_top=top)
    caption = (
        f"深色柱、底纹：本年度（{ye.year}）；<span class='star'>★</span> 当年为先进单位；"
        "各单位总分刻度相同"
    )
    if any(y.status != "final" for y in years):
        caption += "；暂定：结果可能变动"
    return (
        f'<div class="years" id="years-{h(unit.code)}"><h4>近年对比</h4>'
        f"<figure>{chart}<figcaption>{caption}</figcaption></figure>"
        f"{_unit_table(ye, years, label)}</div>"
    )


def _unit_table(ye: YearEnd, years: list[UnitYear], label: str) -> str:
    def cls(y: UnitYear) -> str:
        return ' class="num now"' if y.year == ye.year else ' class="num"'

    head = "".join(_th(_year_head(y), y.year == ye.year) for y in years)
    rows = [
        ("总分", [formats.points(y.total_points) for y in years]),
        ("组内名次", [str(y.rank_in_group) for y in years]),
        ("先进单位", ['<span class="star">★</span> 是' if y.is_advanced else "否" for y in years]),
        (label, [formats.percent(y.final_rate) or "—" for y in years]),
    ]
    body = "".join(
        f"<tr><th>{h(name)}</th>"
        + "".join(f"<td{cls(y)}>{cell}</td>" for y, cell in zip(years, cells, strict=True))
        + "</tr>"
        for name, cells in rows
    )
    return f'<table class="years-table"><tr><th>年度</th>{head}</tr>{body}</table>'


def overview(ye: YearEnd) -> str:
    """近年总分与名次: per group, each unit (in this year's ranking order) with its total and
    rank of each shown year; the evaluation year highlighted, advanced years starred."""
    years = shown_years(ye)
    if len(years) <= 1:  # one line, on the ranking's last page
        return (
            '<p class="years-none" id="history">'
            f"近年总分与名次：{h(ONE_YEAR.format(year=ye.year))}</p>"
        )
    out = ['<div class="history" id="history">']
    out.append(f"<h3>近年总分与名次（{years[0]}—{years[-1]} 年度）</h3>")
    out.append(
        '<p class="history-legend">每格：总分（组内名次）；'
        '<span class="star">★</span> 当年评为先进单位；黄色底纹：本年度。各年按当年规则评分。</p>'
    )
    for group in GROUP_ORDER:
        units = ye.group(group)
        if not units:
            continue
        head = "".join(_th(_overview_head(ye, y), y == ye.year) for y in years)
        rows = []
        for u in units:
            trend = ye.trend(u.code)
            by_year = {y.year: y for y in trend.years} if trend else {}
            cells = []
            for year in years:
                y = by_year.get(year)
                if y is None:
                    cells.append('<td class="num">—</td>')
                    continue
                cls = "num now" if year == ye.year else "num"
                star = ' <span class="star">★</span>' if y.is_advanced else ""
                cells.append(
                    f'<td class="{cls}">{formats.points(y.total_points)}'
                    f"（{y.rank_in_group}）{star}</td>"
                )
            rows.append(
                f"<tr><td class='name'><a href='#unit-{h(u.code)}'>{h(u.name)}</a></td>"
                f"{''.join(cells)}</tr>"
            )
        out.append(
            f'<table class="history-table"><caption>{h(GROUP_NAMES[group])}</caption>'
            f"<tr><th>单位</th>{head}</tr>{''.join(rows)}</table>"
        )
    out.append("</div>")
    return "\n".join(out)
