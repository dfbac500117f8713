"""The comparison as files for the committee: `whatif_<year>.xlsx` (sheets 对比, 变化明细,
规则差异) and `whatif_<year>.html` (one self-contained page). Both hold unit-level figures only
(no personal data); each is written to a temporary name and renamed into place."""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import xlsxwriter

from employment_eval import fsmodes
from employment_eval.whatif import text as fmt
from employment_eval.whatif.compare import Comparison


def write_files(cmp: Comparison, out_dir: Path, sources: list[str]) -> list[Path]:
    """Write both files into `out_dir`; `sources` are the lines saying what was compared."""
    fsmodes.public_dir(out_dir)  # no personal data: readable like the published files
    xlsx = out_dir / f"whatif_{cmp.year}.xlsx"
    page = out_dir / f"whatif_{cmp.year}.html"
    _atomic(xlsx, lambda tmp: _workbook(cmp, tmp, sources))
    _atomic(page, lambda tmp: tmp.write_text(_html(cmp, sources), encoding="utf-8"))
    return [xlsx, page]


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        fsmodes.make_public(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --- xlsx -----------------------------------------------------------------------------------------


def _workbook(cmp: Comparison, path: Path, sources: list[str]) -> None:
    wb = xlsxwriter.Workbook(str(path))
    try:
        title = wb.add_format({"bold": True, "font_size": 13})
        head = wb.add_format({"bold": True, "bg_color": "#DDE5F0", "border": 1, "text_wrap": True})
        cell = wb.add_format({"border": 1})
        num = wb.add_format({"border": 1, "num_format": "0.00"})
        changed = wb.add_format({"border": 1, "bg_color": "#FFF2A8"})
        changed_num = wb.add_format({"border": 1, "bg_color": "#FFF2A8", "num_format": "0.00"})
        wrap = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})

        ws = wb.add_worksheet("对比")
        ws.write(0, 0, f"What-if 试算：{cmp.year} 年度，评估日期 {cmp.as_of}", title)
        for i, line in enumerate(sources, start=1):
            ws.write(i, 0, line)
        r = len(sources) + 2
        ws.write(r, 0, "黄色：草案下与正式规则不同的单元格。")
        r += 2
        for group in cmp.groups:
            quotas = "，".join(
                f"{label} {q}"
                for label, q in zip(
                    ["正式", *(d.label for d in cmp.drafts)], group.quotas, strict=True
                )
            )
            ws.write(r, 0, f"{group.name}（先进名额：{quotas}）", title)
            r += 1
            header = ["单位", "正式总分", "正式名次", "正式先进"]
            for d in cmp.drafts:
                header += [f"{d.label}总分", f"{d.label}变化", f"{d.label}名次", f"{d.label}先进"]
            ws.write_row(r, 0, header, head)
            r += 1
            for row in group.rows:
                o = row.official
                ws.write(r, 0, o.short_name, cell)
                ws.write_number(r, 1, float(o.total), num)
                ws.write_number(r, 2, o.rank, cell)
                ws.write(r, 3, fmt.advanced(o), cell)
                c = 4
                for d in row.drafts:
                    ws.write_number(
                        r, c, float(d.score.total), changed_num if d.points_changed else num
                    )
                    ws.write(
                        r,
                        c + 1,
                        fmt.delta(d.delta) if d.points_changed else "",
                        changed if d.points_changed else cell,
                    )
                    ws.write_number(r, c + 2, d.score.rank, changed if d.rank_changed else cell)
                    ws.write(
                        r, c + 3, fmt.draft_advanced(d), changed if d.advanced_changed else cell
                    )
                    c += 4
                r += 1
            r += 1
        ws.set_column(0, 0, 16)
        ws.set_column(1, 4 + 4 * len(cmp.drafts), 11)

        ws = wb.add_worksheet("变化明细")
        header = [
            "草案",
            "单位",
            "指标",
            "指标名称",
            "正式得分",
            "草案得分",
            "变化",
            "计算模型",
            "正式说明",
            "草案说明",
        ]
        ws.write_row(0, 0, header, head)
        r = 1
        for i, draft in enumerate(cmp.drafts):
            for group in cmp.groups:
                for row in group.rows:
                    for ch in row.drafts[i].changes:
                        ws.write_row(
                            r, 0, [draft.label, row.official.short_name, ch.code, ch.name], wrap
                        )
                        ws.write_number(r, 4, float(ch.official.points), num)
                        ws.write_number(r, 5, float(ch.draft.points), changed_num)
                        ws.write(r, 6, fmt.delta(ch.delta), wrap)
                        ws.write(r, 7, ch.model, wrap)
                        ws.write(r, 8, ch.official.detail, wrap)
                        ws.write(r, 9, ch.draft.detail, wrap)
                        r += 1
        if r == 1:
            ws.write(1, 0, "各草案下没有任何指标得分变化。")
        ws.set_column(0, 1, 12)
        ws.set_column(2, 2, 6)
        ws.set_column(3, 7, 12)
        ws.set_column(8, 9, 70)
        ws.freeze_panes(1, 0)

        ws = wb.add_worksheet("规则差异")
        ws.write_row(0, 0, ["草案", "文件", "sha256", "与正式规则的不同"], head)
        r = 1
        for i, draft in enumerate(cmp.drafts):
            notes = tuple(f"注意：学指委的这项决定将不再成立：{n}" for n in draft.decision_notes)
            items = (*cmp.rule_changes[i], *notes) or ("（设置完全相同）",)
            for item in items:
                ws.write_row(
                    r, 0, [draft.label, str(draft.rules.path), draft.rules.sha256, item], wrap
                )
                r += 1
        ws.set_column(0, 0, 10)
        ws.set_column(1, 1, 50)
        ws.set_column(2, 2, 20)
        ws.set_column(3, 3, 60)
    finally:
        wb.close()


# --- html ------------------------------------------------------------------------------------

CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #bbb; padding: 3px 8px; vertical-align: top; }
th { background: #dde5f0; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.chg { background: #fff2a8; font-weight: bold; }
td.detail { max-width: 46em; font-size: 0.9em; }
p.meta { color: #555; margin: 0.2em 0; }
span.model { display: block; color: #777; font-size: 0.85em; }
details { margin-top: 0.3em; color: #444; }
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _td(value: object, *, num: bool = False, chg: bool = False) -> str:
    classes = " ".join(c for c, on in (("n", num), ("chg", chg)) if on)
    attr = f' class="{classes}"' if classes else ""
    return f"<td{attr}>{_e(value)}</td>"


def _detail_cell(official: str, draft: str, label: str, model: str) -> str:
    """The sentences that differ, then both details in full (folded)."""
    short_official, short_draft = fmt.differing(official, draft)
    full = ""
    if (short_official, short_draft) != (official, draft):
        full = (
            f"<details><summary>全文</summary><b>正式：</b>{_e(official)}<br>"
            f"<b>{_e(label)}：</b>{_e(draft)}</details>"
        )
    return (
        f'<td class="detail"><b>正式：</b>{_e(short_official)}<br>'
        f"<b>{_e(label)}：</b>{_e(short_draft)}{full}"
        f'<span class="model">计算模型 {_e(model)}</span></td>'
    )


def _html(cmp: Comparison, sources: list[str]) -> str:
    out = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>What-if 试算 {cmp.year}</title><style>{CSS}</style></head><body>",
        f"<h1>What-if 试算：{cmp.year} 年度（评估日期 {cmp.as_of}）</h1>",
        *(f'<p class="meta">{_e(line)}</p>' for line in sources),
        "<h2>草案与正式规则的不同</h2>",
    ]
    for i, draft in enumerate(cmp.drafts):
        items = cmp.rule_changes[i]
        out.append(f"<p><b>{_e(draft.label)}</b>（{_e(draft.rules.path)}）：</p><ul>")
        out += [f"<li>{_e(item)}</li>" for item in items] or ["<li>设置完全相同</li>"]
        out.append("</ul>")
        for note in draft.decision_notes:
            out.append(
                f"<p><b>注意：</b>按{_e(draft.label)}，学指委的这项决定将不再成立：{_e(note)}</p>"
            )
    out.append('<p class="meta">黄色：草案下与正式规则不同的单元格。</p>')
    for group in cmp.groups:
        quotas = "，".join(
            f"{label} {q}"
            for label, q in zip(["正式", *(d.label for d in cmp.drafts)], group.quotas, strict=True)
        )
        out.append(f"<h2>{_e(group.name)}（先进名额：{_e(quotas)}）</h2><table><tr>")
        out.append('<th rowspan="2">单位</th><th colspan="3">正式规则</th>')
        out += [f'<th colspan="3">{_e(d.label)}</th>' for d in cmp.drafts]
        out.append("</tr><tr>" + "<th>总分</th><th>名次</th><th>先进</th>" * (1 + len(cmp.drafts)))
        out.append("</tr>")
        for row in group.rows:
            o = row.official
            cells = [
                _td(o.short_name),
                _td(fmt.points(o.total), num=True),
                _td(o.rank, num=True),
                _td(fmt.advanced(o)),
            ]
            for d in row.drafts:
                cells += [
                    _td(fmt.draft_points(d), num=True, chg=d.points_changed),
                    _td(fmt.draft_rank(d), num=True, chg=d.rank_changed),
                    _td(fmt.draft_advanced(d), chg=d.advanced_changed),
                ]
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</table>")
    for i, draft in enumerate(cmp.drafts):
        out.append(f"<h2>{_e(draft.label)}：得分有变化的指标</h2>")
        rows = [
            (row.official, ch) for g in cmp.groups for row in g.rows for ch in row.drafts[i].changes
        ]
        if not rows:
            out.append("<p>没有任何指标的得分变化。</p>")
            continue
        out.append(
            "<table><tr><th>单位</th><th>指标</th><th>正式</th><th>草案</th><th>变化</th>"
            "<th>说明（正式 / 草案）</th></tr>"
        )
        for unit, ch in rows:
            out.append(
                "<tr>"
                + _td(unit.short_name)
                + _td(f"{ch.code} {ch.name}")
                + _td(fmt.points(ch.official.points), num=True)
                + _td(fmt.points(ch.draft.points), num=True, chg=True)
                + _td(fmt.delta(ch.delta), num=True)
                + _detail_cell(ch.official.detail, ch.draft.detail, draft.label, ch.model)
                + "</tr>"
            )
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
