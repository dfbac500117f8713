"""report_<year>.html: one self-contained page (inline CSS and SVG, no script, no address of
any kind), opening offline with Chinese text rendered by the system's CJK font. Every text
from the data goes through `textsafe.html_text` (escaped, bidi controls removed). A 暂定
banner heads the page whenever the scoreboard is not final; the page names the policy, the
as-of date, the generation time, the rules version and the run id (head of the page, the last
section and the footer of every printed page). Each unit's section and the ranking put the
unit's last years beside this one (`yearend.years`, from marts.unit_trends).

Printing: A4 pages (the browser's own header and footer replaced by the source and the page
number), a page per group of the ranking and per unit section, charts never cut across pages,
no dark backgrounds (the banner and the tags become outlined), light highlights kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from employment_eval.textsafe import css_string
from employment_eval.textsafe import html_text as h
from employment_eval.yearend import labels, svg, years
from employment_eval.yearend.data import (
    DEGREE_NAMES,
    DEGREE_ORDER,
    GROUP_NAMES,
    GROUP_ORDER,
    Indicator,
    Provenance,
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
.source { color: #555; font-size: 12px; margin: 0 0 12px; }
.source span { white-space: nowrap; margin-right: 14px; }
.banner { background: #C00000; color: #fff; padding: 12px 16px; border-radius: 6px;
          font-size: 18px; margin: 12px 0; }
.banner strong { font-size: 30px; margin-right: 12px; letter-spacing: 4px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #bbb; padding: 4px 8px; }
th { background: #DDEBF7; font-weight: 600; }
th small { font-weight: normal; }
td.name, td.ind, .tag, th.rank, .nw { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.adv td { background: #E2F0D9; }
td.adj { background: #FFD966 !important; font-weight: 600; }
.tag { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 12px; }
.tag.adv { background: #548235; color: #fff; }
.tag.tie { background: #C00000; color: #fff; }
.legend span { margin-right: 16px; white-space: nowrap; }
.swatch { display: inline-block; width: 22px; height: 4px; vertical-align: middle;
          margin-right: 4px; }
figure { margin: 0; }
.grid { display: flex; flex-wrap: wrap; gap: 8px; }
.grid svg { border: 1px solid #e5e5e5; background: #fff; }
svg { display: block; }
svg text { font-family: inherit; }
article { border-top: 1px solid #ddd; padding-top: 8px; }
td.detail { max-width: 760px; font-size: 13px; }
.note { color: #7F6000; font-size: 13px; }
.miss { color: #C00000; }
dl.provenance { display: grid; grid-template-columns: max-content auto; gap: 2px 16px;
                font-size: 13px; }
dl.provenance dt { font-weight: 600; color: #444; }
dl.provenance dd { margin: 0; word-break: break-all; }
.signed { color: #1F4E79; border: 2px solid #1F4E79; padding: 6px 10px; display: inline-block; }
"""

# The printed page: A4, the source and page numbers in the margin, a page per group and per
# unit, nothing dark, nothing cut.
PRINT_CSS = """
@page { size: A4; margin: 14mm 12mm 16mm 12mm;
  @bottom-left { content: SOURCE; font-size: 7.5pt; color: #555;
                 font-family: "Noto Sans CJK SC", sans-serif; }
  @bottom-right { content: "第 " counter(page) " 页，共 " counter(pages) " 页"; font-size: 7.5pt;
                  color: #555; font-family: "Noto Sans CJK SC", sans-serif; } }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; line-height: 1.4; }
  h1 { font-size: 20pt; }
  h2 { margin-top: 0; font-size: 15pt; }
  h3 { font-size: 12pt; margin: 10px 0 4px; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
  .banner { background: none; color: #C00000; border: 2px solid #C00000; padding: 6px 10px;
            font-size: 11pt; }
  .banner strong { font-size: 18pt; }
  .tag.adv { background: none; color: #385723; border: 1px solid #548235; }
  .tag.tie { background: none; color: #C00000; border: 1px solid #C00000; }
  th, tr.adv td, td.adj { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  table { font-size: 8.5pt; width: 100%; }
  th, td { padding: 2px 3px; }
  td.name { white-space: normal; min-width: 9em; }
  .tag { font-size: 7.5pt; padding: 0 3px; }
  td.remark { min-width: 8em; }
  th small { font-size: 7pt; }
  td.ind { white-space: nowrap; }
  td.detail { max-width: none; font-size: 8.5pt; }
  .note { font-size: 8.5pt; }
  tr, figure, dl, .legend { break-inside: avoid; }
  h2, h3, .meta { break-after: avoid; }
  section { break-before: page; }
  section:first-of-type, section#source { break-before: auto; }
  .group + .group, article + article { break-before: page; }
  .group, article { break-inside: avoid-page; }
  article { border-top: none; padding-top: 0; }
  figure.bars svg { width: 100%; height: auto; }
  .grid { gap: 6px; }
  .grid figure { width: calc((100% - 12px) / 3); }
  .grid svg { width: 100%; height: auto; }
}
"""


def write_report(ye: YearEnd, path: Path) -> Path:
    path.write_text(render(ye), encoding="utf-8")
    return path


def _css(ye: YearEnd) -> str:
    status = "最终" if ye.is_final else "暂定"
    p = ye.provenance
    source = (
        f"{ye.year} 年度评估报告（{status}） · {p.policy} · 评估日期 {p.as_of.isoformat()} · "
        f"运行编号 {p.run_id}"
    )
    return CSS + years.CSS + PRINT_CSS.replace("SOURCE", css_string(source)) + years.PRINT_CSS


def render(ye: YearEnd) -> str:
    head_title = f"{ye.year} 年度毕业生就业工作评估报告（{ye.status_name}）"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{h(head_title)}</title>",
        f"<style>{_css(ye)}</style>",
        "</head>",
        "<body>",
        f'<h1 id="title">{ye.year} 年度毕业生就业工作评估报告</h1>',
        f'<p class="meta">上海交通大学医学院 · {len(ye.units)} 个单位 · 状态：'
        f"{h(ye.status_name)} · 评估日期 {h(ye.provenance.as_of.isoformat())} · "
        f"最新导出数据 {h(labels.day(ye.latest_export) or '无')}</p>",
        source_line(ye.provenance),
    ]
    if ye.signature:
        parts.append(f'<p class="signed"><strong>{h(ye.signature)}</strong></p>')
    if not ye.is_final:
        parts.append(
            f'<div class="banner" role="alert"><strong>暂定</strong>'
            f"{h(labels.provisional_reasons(ye))}</div>"
        )
    parts += [
        "<nav><a href='#ranking'>一、各组排名</a>（<a href='#history'>近年总分与名次</a>） · "
        "<a href='#points'>二、得分构成</a> · "
        "<a href='#rates'>三、时间节点就业率</a> · <a href='#units'>四、各单位得分说明</a> · "
        "<a href='#selfcheck'>单位自评差异</a> · <a href='#source'>五、数据来源</a></nav>",
        _ranking(ye),
        _points(ye),
        _rates(ye),
        _units(ye),
        _selfcheck(ye),
        _source(ye),
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def source_line(p: Provenance) -> str:
    """The line under the title: policy, rules, generation time and run id (also the morning
    report's)."""
    items = [
        f"依据 {p.policy}",
        f"规则 {p.rules_version}",
        f"生成于 {p.generated}",
        f"运行编号 {p.run_id}",
    ]
    return '<p class="source">' + "".join(f"<span>{h(i)}</span>" for i in items) + "</p>"


def _source(ye: YearEnd) -> str:
    p = ye.provenance
    items = [
        *labels.provenance_items(ye),
        ("规则文件", p.rules_file),
        ("规则文件 SHA256", p.rules_sha256),
        ("输入文件", f"{p.input_files} 个"),
    ]
    rows = "".join(f"<dt>{h(k)}</dt><dd>{h(v)}</dd>" for k, v in items)
    return (
        '<section id="source"><h2>五、数据来源</h2>\n'
        f'<dl class="provenance">{rows}</dl>\n</section>'
    )


def _selfcheck(ye: YearEnd) -> str:
    """单位自评差异 (marts.selfcheck_items): the ledger items where a unit's returned pack
    states another figure than the centre's, for the committee; the centre's figure stays the
    score."""
    returned = [i for i in ye.selfcheck if i.has_pack]
    units = len({i.unit_code for i in returned})
    differing = [i for i in returned if i.is_different]
    out = [
        '<section id="selfcheck"><h2>单位自评与就业中心登记的差异</h2>',
        f'<p class="meta">交回自评表的单位 {units} 个；与就业中心登记不同之处 {len(differing)} 处，'
        "提交学指委审核（得分以就业中心的审核为准）。</p>",
    ]
    if differing:
        out.append(
            "<table><tr><th>单位</th><th>指标</th><th>项目</th><th>就业中心登记</th>"
            "<th>该指标得分</th><th>单位自报</th><th>单位说明</th><th>自评表（单元格）</th></tr>"
        )
        for i in differing:
            out.append(
                f"<tr><td class='name'>{h(ye.unit_name(i.unit_code))}</td><td>{h(i.indicator)}</td>"
                f"<td>{h(i.label)}</td><td class='num'>{h(i.centre or '（空）')}</td>"
                f"<td class='num'>{labels.points(i.indicator_points)}</td>"
                f"<td class='num adj'>{h(i.stated)}</td><td class='detail'>{h(i.note or '')}</td>"
                f"<td>{h(i.pack_file)}（{h(i.value_cell)}）</td></tr>"
            )
        out.append("</table>")
    out.append("</section>")
    return "\n".join(out)


def _legend() -> str:
    return (
        '<p class="legend"><span><span class="tag adv">先进单位</span> 绿色底纹行</span>'
        '<span><span class="tag tie">并列</span> 名额线并列</span>'
        "<span>黄色底纹 * ：学指委调整后的得分（悬停可见计算值、理由与审批人）</span></p>"
    )


def _ranking(ye: YearEnd) -> str:
    out = ['<section id="ranking"><h2>一、各组排名</h2>', _legend()]
    head = "".join(
        f'<th title="{h(i.header)}">{h(i.code)}<br><small>{h(i.name)}<br>'
        f"{_points_note(i)}</small></th>"
        for i in ye.indicators
    )
    for group in GROUP_ORDER:
        units = ye.group(group)
        out.append('<div class="group">')
        out.append(f"<h3>{h(GROUP_NAMES[group])}（先进名额 {ye.quotas.get(group, 0)}）</h3>")
        out.append(
            f"<table><tr><th class='rank'>名次</th><th>单位</th><th class='nw'>总分</th>{head}"
            "<th>备注</th></tr>"
        )
        for u in units:
            cells = []
            for ind in ye.indicators:
                s = u.scores.get(ind.code)
                if s is None:
                    cells.append("<td></td>")
                elif s.adjusted:
                    note = h(labels.adjustment_note(s))
                    cells.append(
                        f'<td class="num adj" title="{note}">{labels.points(s.points)}*</td>'
                    )
                else:
                    cells.append(f'<td class="num">{labels.points(s.points)}</td>')
            cls = ' class="adv"' if u.is_advanced else ""
            out.append(
                f"<tr{cls}><td class='num'>{u.rank}</td>"
                f"<td class='name'><a href='#unit-{h(u.code)}'>{h(u.name)}</a></td>"
                f"<td class='num'><b>{labels.points(u.total)}</b></td>{''.join(cells)}"
                f"<td class='remark'>{_tags(u)}</td></tr>"
            )
        out.append("</table>")
        out.append("</div>")
    bonus = [i for i in ye.indicators if i.has_bonus]
    if bonus:
        codes = "、".join(i.code for i in bonus)
        out.append(
            f'<p class="note">{h(codes)} 的得分 = 基准分（扣减后）+ 超额奖励分：每超出节点目标'
            " 1 人加分，不设上限，故可高于基准分，总分亦可高于各项基准分之和。</p>"
        )
    out.append(years.overview(ye))
    out.append("</section>")
    return "\n".join(out)


def _points_note(i: Indicator) -> str:
    """Under a header: '（5 分）', or I3's base and its uncapped bonus on two lines."""
    if i.has_bonus:
        return f"<span class='nw'>（基准 {i.base_points} 分</span><br>另加超额奖励分）"
    return f"<span class='nw'>（{i.base_points} 分）</span>"


def _tags(u: UnitResult) -> str:
    tags = []
    if u.is_advanced:
        tags.append('<span class="tag adv">先进单位</span>')
    if u.tie_at_cutoff:
        tags.append(f'<span class="tag tie">并列</span> {h(u.remark)}')
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
        out.append(f'<figure class="bars"><h3>{h(GROUP_NAMES[group])}</h3>')
        out.append(svg.stacked_bars(bars, series, title, scale_to=top))
        out.append("</figure>")
    out.append("</section>")
    return "\n".join(out)


def _season(ye: YearEnd) -> tuple[dt.date, dt.date]:
    dates = [p.as_of for p in ye.history] + ye.milestone_dates()
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
        for point in ye.history:
            if point.unit_code == u.code:
                curves.setdefault(point.degree, []).append((point.as_of, point.rate))
        marks = [
            svg.NodeMark(n.milestone_date, n.degree, n.rate, n.target, n.employed >= n.required)
            for n in ye.nodes
            if n.unit_code == u.code
        ]
        out.append("<figure>")
        out.append(svg.rate_chart(u.short_name or u.name, curves, marks, start, end))
        out.append("</figure>")
    out.append("</div></section>")
    return "\n".join(out)


def _units(ye: YearEnd) -> str:
    out = ['<section id="units"><h2>四、各单位得分说明</h2>']
    for u in ye.units:
        advanced = "，先进单位" if u.is_advanced else ""
        out.append(
            f'<article id="unit-{h(u.code)}"><h3>{h(u.name)}</h3>'
            f'<p class="meta">{h(GROUP_NAMES[u.group])} 第 {u.rank} 名{advanced}，'
            f"总分 {labels.points(u.total)} {_tags(u)}</p>"
        )
        out.append(
            "<table><tr><th>指标</th><th class='nw'>基准分</th><th class='nw'>得分</th>"
            "<th>说明</th></tr>"
        )
        for ind in ye.indicators:
            s = u.scores.get(ind.code)
            if s is None:
                continue
            detail = h(s.detail)
            if s.needs_review:
                detail += '<br><span class="note">（此项需复核）</span>'
            if s.adjusted:
                cell = f'<td class="num adj">{labels.points(s.points)}*</td>'
                note = h(labels.adjustment_note(s)).replace("\n", "；")
                detail += f'<br><span class="note">{note}</span>'
            else:
                cell = f'<td class="num">{labels.points(s.points)}</td>'
            base = f"{ind.base_points}"
            if ind.has_bonus:
                base += "<br><small class='nw'>+超额奖励</small>"
            out.append(
                f"<tr><td class='ind'>{h(ind.label)}</td><td class='num'>{base}</td>"
                f"{cell}<td class='detail'>{detail}</td></tr>"
            )
        out.append("</table>")
        out.append(_node_table(ye, u))
        out.append(years.unit_section(ye, u))
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
