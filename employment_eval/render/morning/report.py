"""progress_<year>_<as-of>.html: the morning report, one self-contained page in the look of the
year-end report (its stylesheet, print stylesheet and SVG helpers are reused from
`employment_eval.render.yearend`): no script, no address, every text from the data escaped by
`textsafe.html_text`.

In season: who is behind the next node and by how many (per group, furthest behind first),
the verification backlog, the change since the previous export and since a week before, the
provisional scoreboard, the night's data-quality warnings (counts only) and the provenance.
After the year's last node: that node's results per unit and the scoreboard.

Each progress row carries data-unit / data-degree attributes and each figure a data-col
attribute, so a reader (or a test) can find a figure without parsing the layout."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from employment_eval.render import formats
from employment_eval.render.morning import text
from employment_eval.render.morning.data import (
    BoardRow,
    DegreeProgress,
    Morning,
    UnitFinal,
    UnitProgress,
)
from employment_eval.render.yearend import svg
from employment_eval.render.yearend.data import DEGREE_NAMES, DEGREE_ORDER, GROUP_NAMES, GROUP_ORDER
from employment_eval.render.yearend.report import CSS, PRINT_CSS, source_line
from employment_eval.textsafe import css_string
from employment_eval.textsafe import html_text as h

MORNING_CSS = """
.callout { border-left: 6px solid #1F4E79; background: #F3F7FB; padding: 10px 14px;
           font-size: 16px; margin: 12px 0; }
.callout.done { border-left-color: #548235; background: #F1F8EC; }
.tag.provisional { background: #C00000; color: #fff; }
.tag.ok { background: #548235; color: #fff; }
td.gap, td.pending { font-weight: 600; }
td.gap.zero, td.pending.zero { font-weight: normal; color: #888; }
td.gap:not(.zero) { color: #C00000; }
td.pending:not(.zero) { color: #7F6000; }
tr.unit-first td { border-top: 2px solid #888; }
tr.met td { color: #555; }
td.unit { white-space: nowrap; font-weight: 600; vertical-align: top; }
td.unit small { font-weight: normal; color: #555; }
.board { display: flex; flex-wrap: wrap; gap: 0 24px; align-items: flex-start; }
dl.defs { display: grid; grid-template-columns: max-content auto; gap: 2px 16px;
          font-size: 13px; margin: 8px 0 16px; }
dl.defs dt { font-weight: 600; color: #444; }
dl.defs dd { margin: 0; }
.up { color: #385723; }
.down { color: #C00000; }
"""

MORNING_PRINT_CSS = """
@media print {
  .callout { font-size: 10.5pt; padding: 6px 10px; -webkit-print-color-adjust: exact;
             print-color-adjust: exact; }
  .tag.provisional { background: none; color: #C00000; border: 1px solid #C00000; }
  .tag.ok { background: none; color: #385723; border: 1px solid #548235; }
  dl.defs { font-size: 8pt; }
  td.unit { white-space: normal; }
  .board table { width: auto; }
  .group { break-inside: auto; }
  .group + .group { break-before: auto; }
  tbody { break-inside: avoid; }
  section#quality { break-before: auto; }
}
"""


def write_report(m: Morning, path: Path) -> Path:
    path.write_text(render(m), encoding="utf-8")
    return path


def _css(m: Morning) -> str:
    p = m.provenance
    source = (
        f"{m.year} 年度就业进度晨报 · 评估日期 {m.as_of.isoformat()} · {p.policy} · "
        f"运行编号 {p.run_id}"
    )
    return CSS + MORNING_CSS + PRINT_CSS.replace("SOURCE", css_string(source)) + MORNING_PRINT_CSS


def render(m: Morning) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{h(text.title(m))}</title>",
        f"<style>{_css(m)}</style>",
        "</head>",
        "<body>",
        f'<h1 id="title">{m.year} 年度就业进度晨报</h1>',
        f'<p class="meta">上海交通大学医学院 · 评估日期 {h(m.as_of.isoformat())} · '
        f"最新导出数据 {h(text.export_label(m.latest_export))} · "
        f"上次导出 {h(text.export_label(m.previous_export))} · "
        f"一周前对比 {h(text.export_label(m.week_ago_export))}</p>",
        source_line(m.provenance),
        f'<div class="callout{"" if m.in_season else " done"}" id="summary">'
        f"{h(text.summary(m))}</div>",
    ]
    if m.in_season:
        parts += [
            "<nav><a href='#behind'>一、距下一节点目标</a> · <a href='#board'>二、暂定记分板</a> · "
            "<a href='#quality'>三、数据质量提示</a> · <a href='#source'>四、数据来源</a></nav>",
            _behind(m),
        ]
    else:
        parts += [
            "<nav><a href='#final'>一、最后节点结果</a> · <a href='#board'>二、记分板</a> · "
            "<a href='#quality'>三、数据质量提示</a> · <a href='#source'>四、数据来源</a></nav>",
            _finals(m),
        ]
    parts += [_board(m), _quality(m), _source(m), "</body>", "</html>"]
    return "\n".join(parts) + "\n"


# --- in season ---------------------------------------------------------------------------


def _behind(m: Morning) -> str:
    node = text.node_label(m)
    out = [f'<section id="behind"><h2>一、距下一节点（{h(node)}）目标</h2>']
    behind = m.behind()
    if behind:
        bars = [
            svg.Bar(
                label=u.unit.short_name,
                segments=tuple(
                    (DEGREE_NAMES[d.degree], Decimal(d.gap)) for d in u.degrees if d.gap > 0
                ),
                total=Decimal(u.gap),
            )
            for u in behind
        ]
        series = [DEGREE_NAMES[d] for d in DEGREE_ORDER]
        out.append('<figure class="bars">')
        title = f"各单位距{node}目标尚差人数（按学历堆叠）"
        out.append(svg.stacked_bars(bars, series, title, width=860))
        out.append("</figure>")
    for group in GROUP_ORDER:
        units = m.group_units(group)
        if not units:
            continue
        out.append('<div class="group">')
        out.append(f"<h3>{h(GROUP_NAMES[group])}</h3>")
        out.append(_progress_table(units))
        out.append("</div>")
    out.append("<h3>口径说明</h3>")
    out.append(_definitions(m))
    out.append("</section>")
    return "\n".join(out)


PROGRESS_HEAD = (
    "<thead><tr><th>单位<br><small>按落后程度排序</small></th><th>学历</th><th>毕业生</th><th>已就业</th><th>就业率</th>"
    "<th>目标</th><th>达标<br>需就业</th><th>尚差<br>人数</th><th>待鉴证</th>"
    "<th>鉴证后<br>仍差</th><th>较上次导出</th><th>较一周前</th><th>节点预计</th></tr></thead>"
)


def _progress_table(units: list[UnitProgress]) -> str:
    rows = [f"<table class='progress'>{PROGRESS_HEAD}"]
    for u in units:
        rows.append(f'<tbody data-unit="{h(u.unit.code)}">')
        span = len(u.degrees)
        for i, d in enumerate(u.degrees):
            cls = ["unit-first"] if i == 0 else []
            if d.gap == 0:
                cls.append("met")
            head = ""
            if i == 0:
                status = f"尚差 {u.gap} 人" if u.is_behind else '<span class="tag ok">已达标</span>'
                head = (
                    f"<td class='unit' rowspan='{span}'>{u.behind_rank}. {h(u.unit.short_name)}"
                    f"<br><small>{status}<br>节点预计 {formats.points(u.projected_points)}"
                    f"/{u.base_points} 分</small></td>"
                )
            rows.append(
                f'<tr class="{" ".join(cls)}" data-unit="{h(u.unit.code)}" '
                f'data-degree="{h(d.degree)}">{head}{_degree_cells(d)}</tr>'
            )
        rows.append("</tbody>")
    rows.append("</table>")
    return "\n".join(rows)


def _num(col: str, value: int, extra: str = "") -> str:
    zero = " zero" if value == 0 else ""
    return f"<td class='num {extra}{zero}' data-col='{col}'>{value}</td>"


def _change(employed: int | None, rate: Decimal | None) -> str:
    if employed is None and rate is None:
        return "<td class='num'>—</td>"
    direction = "up" if (employed or 0) > 0 else ("down" if (employed or 0) < 0 else "")
    return (
        f"<td class='num nw {direction}'>{h(text.signed(employed))} 人"
        f"<br><small>{h(text.points_change(rate))} 个百分点</small></td>"
    )


def _degree_cells(d: DegreeProgress) -> str:
    if d.projected_deduction > 0:
        projected = f"扣 {formats.points(d.projected_deduction)} 分"
    elif d.projected_bonus > 0:
        projected = f"加 {d.projected_bonus} 分"
    else:
        projected = "—"
    return (
        f"<td class='nw'>{h(DEGREE_NAMES[d.degree])}</td>"
        + _num("graduates", d.graduates)
        + _num("employed", d.employed)
        + f"<td class='num'>{formats.percent(d.rate)}</td>"
        + f"<td class='num'>{formats.percent(d.target)}</td>"
        + _num("required", d.required)
        + _num("gap", d.gap, "gap")
        + _num("pending", d.pending, "pending")
        + _num("gap_after_pending", d.gap_after_pending)
        + _change(d.employed_change_previous, d.rate_change_previous)
        + _change(d.employed_change_week, d.rate_change_week)
        + f"<td class='nw'>{projected}</td>"
    )


def _definitions(m: Morning) -> str:
    rows = "".join(f"<dt>{h(k)}</dt><dd>{h(v)}</dd>" for k, v in text.definitions(m))
    return f'<dl class="defs">{rows}</dl>'


# --- after the last node -------------------------------------------------------------------


def _finals(m: Morning) -> str:
    node = formats.month_day(m.last_node) if m.last_node else ""
    out = [f'<section id="final"><h2>一、{h(node)}节点结果（最终位置）</h2>']
    for group in GROUP_ORDER:
        units = m.group_finals(group)
        if not units:
            continue
        out.append('<div class="group">')
        out.append(f"<h3>{h(GROUP_NAMES[group])}</h3>")
        out.append(_final_table(units, {b.unit.code: b.rank for b in m.group_board(group)}))
        out.append("</div>")
    out.append("</section>")
    return "\n".join(out)


FINAL_HEAD = (
    "<thead><tr><th>单位<br><small>按记分板名次</small></th><th>学历</th><th>毕业生</th><th>已就业</th><th>就业率</th>"
    "<th>目标</th><th>达标需就业</th><th>是否达标</th><th>加分</th><th>扣分</th>"
    "<th>节点得分</th></tr></thead>"
)


def _final_table(units: list[UnitFinal], ranks: dict[str, int]) -> str:
    rows = [f"<table class='final'>{FINAL_HEAD}"]
    for u in units:
        rows.append(f'<tbody data-unit="{h(u.unit.code)}">')
        for i, d in enumerate(u.degrees):
            head = tail = ""
            if i == 0:
                span = len(u.degrees)
                rank = ranks.get(u.unit.code)
                head = f"<td class='unit' rowspan='{span}'>{rank}. {h(u.unit.short_name)}</td>"
                tail = (
                    f"<td class='num' rowspan='{span}'><b>{formats.points(u.node_points)}</b>"
                    f"/{u.base_points}</td>"
                )
            met = "<td class='nw'>达标</td>" if d.is_met else "<td class='nw miss'>未达标</td>"
            flag = "（暂定）" if d.status != "final" else ""
            rows.append(
                f'<tr class="{"unit-first" if i == 0 else ""}" data-unit="{h(u.unit.code)}" '
                f'data-degree="{h(d.degree)}">{head}'
                f"<td class='nw'>{h(DEGREE_NAMES[d.degree])}</td>"
                + _num("graduates", d.graduates)
                + _num("employed", d.employed)
                + f"<td class='num'>{formats.percent(d.rate)}{flag}</td>"
                + f"<td class='num'>{formats.percent(d.target)}</td>"
                + _num("required", d.required)
                + met
                + f"<td class='num'>{d.bonus}</td>"
                + f"<td class='num'>{formats.points(d.deduction)}</td>"
                + f"{tail}</tr>"
            )
        rows.append("</tbody>")
    rows.append("</table>")
    return "\n".join(rows)


# --- shared sections -------------------------------------------------------------------------


def _board(m: Morning) -> str:
    status = m.status_name
    tag = "" if m.status == "final" else ' <span class="tag provisional">暂定</span>'
    out = [
        f'<section id="board"><h2>二、记分板（{h(status)}）{tag}</h2>',
        '<p class="note">按评估日期的数据计算；尚未到来的节点按最新导出数据预计，'
        "结果可能变动，不作为最终评定。</p>"
        if m.status != "final"
        else "",
        '<div class="board">',
    ]
    for group in GROUP_ORDER:
        rows = m.group_board(group)
        if not rows:
            continue
        out.append('<div class="group">')
        out.append(f"<h3>{h(GROUP_NAMES[group])}</h3>")
        out.append(
            "<table><tr><th class='rank'>名次</th><th>单位</th><th class='nw'>总分</th>"
            "<th class='nw'>其中 I3</th><th>备注</th></tr>"
        )
        out += [_board_row(r) for r in rows]
        out.append("</table></div>")
    out.append("</div></section>")
    return "\n".join(out)


def _board_row(r: BoardRow) -> str:
    tags = []
    if r.is_advanced:
        tags.append('<span class="tag adv">先进单位</span>')
    if r.tie_at_cutoff:
        tags.append('<span class="tag tie">并列</span>')
    cls = ' class="adv"' if r.is_advanced else ""
    return (
        f"<tr{cls}><td class='num'>{r.rank}</td><td class='name'>{h(r.unit.short_name)}</td>"
        f"<td class='num'><b>{formats.points(r.total)}</b></td>"
        f"<td class='num'>{formats.points(r.i3)}</td><td>{' '.join(tags)}</td></tr>"
    )


def _quality(m: Morning) -> str:
    out = ['<section id="quality"><h2>三、当晚数据质量提示</h2>']
    if not m.notes:
        out.append("<p>当晚没有输入警告，质量检查也没有警告。</p>")
    else:
        out.append(
            '<p class="note">只列出处与条数；警告全文（可能含个人信息）'
            "见工作文件夹中本次运行的报告。</p>"
        )
        out.append(
            "<table><tr><th>来源</th><th>文件与列，或检查项</th><th class='nw'>条数</th></tr>"
        )
        for n in m.notes:
            count = "" if n.count is None else str(n.count)
            out.append(
                f"<tr><td class='nw'>{h(n.source)}</td><td>{h(n.item)}</td>"
                f"<td class='num'>{count}</td></tr>"
            )
        out.append("</table>")
    out.append("</section>")
    return "\n".join(out)


def _source(m: Morning) -> str:
    rows = "".join(f"<dt>{h(k)}</dt><dd>{h(v)}</dd>" for k, v in text.provenance_items(m))
    return (
        '<section id="source"><h2>四、数据来源</h2>\n'
        f'<dl class="provenance">{rows}</dl>\n</section>'
    )
