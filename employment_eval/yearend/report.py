"""report_<year>.html: one self-contained page (inline CSS and SVG, no script, no address of
any kind), opening offline with Chinese text rendered by the system's CJK font. Every text
from the data is escaped. A 暂定 banner heads the page whenever the scoreboard is not final."""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

from employment_eval.yearend import labels, svg
from employment_eval.yearend.data import (
    DEGREE_NAMES,
    DEGREE_ORDER,
    GROUP_NAMES,
    GROUP_ORDER,
    UnitResult,
    YearEnd,
)

CSS = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC",
       "Microsoft YaHei", sans-serif; margin: 0 auto; max-width: 1240px; padding: 16px 24px;
       color: #222; line-height: 1.5; }
h1 { font-size: 28px; margin: 8px 0 4px; }
h2 { border-bottom: 2px solid #1F4E79; padding-bottom: 4px; margin-top: 36px; }
.meta { color: #555; margin: 0 0 12px; }
.banner { background: #C00000; color: #fff; padding: 12px 16px; border-radius: 6px;
          font-size: 18px; margin: 12px 0; }
.banner strong { font-size: 30px; margin-right: 12px; letter-spacing: 4px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #bbb; padding: 4px 8px; }
th { background: #DDEBF7; font-weight: 600; }
th small { font-weight: normal; }
td.name, .tag, th.rank { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.adv td { background: #E2F0D9; }
td.adj { background: #FFD966 !important; font-weight: 600; }
.tag { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 12px; }
.tag.adv { background: #548235; color: #fff; }
.tag.tie { background: #C00000; color: #fff; }
.legend span { margin-right: 16px; white-space: nowrap; }
.swatch { display: inline-block; width: 22px; height: 4px; vertical-align: middle;
          margin-right: 4px; }
.grid { display: flex; flex-wrap: wrap; gap: 8px; }
.grid svg { border: 1px solid #e5e5e5; background: #fff; }
svg text { font-family: inherit; }
article { border-top: 1px solid #ddd; padding-top: 8px; }
td.detail { max-width: 760px; font-size: 13px; }
.note { color: #7F6000; font-size: 13px; }
.miss { color: #C00000; }
"""


def write_report(ye: YearEnd, path: Path) -> Path:
    path.write_text(render(ye), encoding="utf-8")
    return path


def render(ye: YearEnd) -> str:
    head_title = f"{ye.year} 年度毕业生就业工作评估报告（{ye.status_name}）"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(head_title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f'<h1 id="title">{ye.year} 年度毕业生就业工作评估报告</h1>',
        f'<p class="meta">上海交通大学医学院 · {len(ye.units)} 个单位 · 状态：'
        f"{escape(ye.status_name)} · 数据截至 {escape(labels.day(ye.latest_export))}</p>",
    ]
    if not ye.is_final:
        parts.append(
            f'<div class="banner" role="alert"><strong>暂定</strong>'
            f"{escape(labels.provisional_reasons(ye))}</div>"
        )
    parts += [
        "<nav><a href='#ranking'>一、各组排名</a> · <a href='#points'>二、得分构成</a> · "
        "<a href='#rates'>三、时间节点就业率</a> · <a href='#units'>四、各单位得分说明</a></nav>",
        _ranking(ye),
        _points(ye),
        _rates(ye),
        _units(ye),
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _ranking(ye: YearEnd) -> str:
    out = ['<section id="ranking"><h2>一、各组排名</h2>']
    for group in GROUP_ORDER:
        units = ye.group(group)
        out.append(f"<h3>{escape(GROUP_NAMES[group])}（先进名额 {ye.quotas.get(group, 0)}）</h3>")
        head = "".join(
            f'<th title="{escape(i.name)}">{escape(i.code)}<br><small>{escape(i.name)}'
            f"<br>（{i.base_points} 分）</small></th>"
            for i in ye.indicators
        )
        out.append(
            f"<table><tr><th class='rank'>名次</th><th>单位</th><th>总分</th>{head}"
            "<th>备注</th></tr>"
        )
        for u in units:
            cells = []
            for ind in ye.indicators:
                s = u.scores.get(ind.code)
                if s is None:
                    cells.append("<td></td>")
                elif s.adjusted:
                    note = escape(labels.adjustment_note(s))
                    cells.append(
                        f'<td class="num adj" title="{note}">{labels.points(s.points)}*</td>'
                    )
                else:
                    cells.append(f'<td class="num">{labels.points(s.points)}</td>')
            cls = ' class="adv"' if u.is_advanced else ""
            out.append(
                f"<tr{cls}><td class='num'>{u.rank}</td>"
                f"<td class='name'><a href='#unit-{escape(u.code)}'>{escape(u.name)}</a></td>"
                f"<td class='num'><b>{labels.points(u.total)}</b></td>{''.join(cells)}"
                f"<td>{_tags(u)}</td></tr>"
            )
        out.append("</table>")
    out.append(
        '<p class="legend"><span><span class="tag adv">先进单位</span> 绿色底纹行</span>'
        '<span><span class="tag tie">并列</span> 名额线并列</span>'
        "<span>黄色底纹 * ：学指委调整后的得分（悬停可见计算值、理由与审批人）</span></p>"
    )
    out.append("</section>")
    return "\n".join(out)


def _tags(u: UnitResult) -> str:
    tags = []
    if u.is_advanced:
        tags.append('<span class="tag adv">先进单位</span>')
    if u.tie_at_cutoff:
        tags.append(f'<span class="tag tie">并列</span> {escape(u.remark)}')
    return " ".join(tags)


def _points(ye: YearEnd) -> str:
    series = [i.label for i in ye.indicators]
    top = max([float(u.total) for u in ye.units] + [1.0])
    out = ['<section id="points"><h2>二、各指标得分构成</h2>']
    for group in GROUP_ORDER:
        bars = [
            svg.Bar(
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
        out.append(f"<h3>{escape(GROUP_NAMES[group])}</h3>")
        out.append(svg.stacked_bars(bars, series, title, scale_to=top))
    out.append("</section>")
    return "\n".join(out)


def _season(ye: YearEnd) -> tuple[dt.date, dt.date]:
    dates = [h.as_of for h in ye.history] + ye.milestone_dates()
    if not dates:
        return dt.date(ye.year, 6, 1), dt.date(ye.year, 12, 31)
    start = min(dates).replace(day=1)
    return start, max(dates) + dt.timedelta(days=10)


def _rates(ye: YearEnd) -> str:
    start, end = _season(ye)
    legend = "".join(
        f'<span><i class="swatch" style="background:{svg.DEGREE_COLORS[d]}"></i>'
        f"{DEGREE_NAMES[d]}</span>"
        for d in DEGREE_ORDER
    )
    out = [
        '<section id="rates"><h2>三、时间节点就业率与目标</h2>',
        f'<p class="legend">{legend}<span>曲线：每次导出的就业率</span>'
        "<span>短横：节点目标</span><span>实心点：达标</span><span>红圈：未达标</span></p>",
        '<div class="grid">',
    ]
    for u in ye.units:
        curves: dict[str, list] = {}
        for h in ye.history:
            if h.unit_code == u.code:
                curves.setdefault(h.degree, []).append((h.as_of, h.rate))
        marks = [
            svg.NodeMark(n.milestone_date, n.degree, n.rate, n.target, n.employed >= n.required)
            for n in ye.nodes
            if n.unit_code == u.code
        ]
        out.append(svg.rate_chart(u.short_name or u.name, curves, marks, start, end))
    out.append("</div></section>")
    return "\n".join(out)


def _units(ye: YearEnd) -> str:
    out = ['<section id="units"><h2>四、各单位得分说明</h2>']
    for u in ye.units:
        advanced = "，先进单位" if u.is_advanced else ""
        out.append(
            f'<article id="unit-{escape(u.code)}"><h3>{escape(u.name)}</h3>'
            f'<p class="meta">{escape(GROUP_NAMES[u.group])} 第 {u.rank} 名{advanced}，'
            f"总分 {labels.points(u.total)} {_tags(u)}</p>"
        )
        out.append("<table><tr><th>指标</th><th>基准分</th><th>得分</th><th>说明</th></tr>")
        for ind in ye.indicators:
            s = u.scores.get(ind.code)
            if s is None:
                continue
            detail = escape(s.detail)
            if s.needs_review:
                detail += '<br><span class="note">（此项需复核）</span>'
            if s.adjusted:
                cell = f'<td class="num adj">{labels.points(s.points)}*</td>'
                note = escape(labels.adjustment_note(s)).replace("\n", "；")
                detail += f'<br><span class="note">{note}</span>'
            else:
                cell = f'<td class="num">{labels.points(s.points)}</td>'
            out.append(
                f"<tr><td>{escape(ind.label)}</td><td class='num'>{ind.base_points}</td>"
                f"{cell}<td class='detail'>{detail}</td></tr>"
            )
        out.append("</table>")
        out.append(_node_table(ye, u))
        out.append("</article>")
    out.append("</section>")
    return "\n".join(out)


def _node_table(ye: YearEnd, u: UnitResult) -> str:
    nodes = [n for n in ye.nodes if n.unit_code == u.code]
    dates = sorted({n.milestone_date for n in nodes})
    if not nodes:
        return ""
    head = "".join(f"<th>{labels.month_day(d)}</th>" for d in dates)
    rows = []
    for degree in DEGREE_ORDER:
        cells = []
        for d in dates:
            n = next((n for n in nodes if n.degree == degree and n.milestone_date == d), None)
            if n is None:
                cells.append("<td></td>")
                continue
            cls = "num" if n.employed >= n.required else "num miss"
            flag = "（暂定）" if n.status != "final" else ""
            cells.append(
                f"<td class='{cls}'>{n.employed}/{n.graduates} = {labels.percent(n.rate)}"
                f"<br><small>目标 {labels.percent(n.target)}{flag}</small></td>"
            )
        if any(c != "<td></td>" for c in cells):
            rows.append(f"<tr><td>{DEGREE_NAMES[degree]}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>学历</th>{head}</tr>{''.join(rows)}</table>"
