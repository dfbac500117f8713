"""The comparison as files for the committee: `whatif_<year>.xlsx` (sheets 对比, 变化明细,
规则差异) and `whatif_<year>.html` (one self-contained page, written by the template
templates/whatif.html.j2). Both hold unit-level figures only (no personal data); each is
written to a temporary name and renamed into place. Every change is a number in the workbook."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from employment_eval import fsmodes
from employment_eval.render import templates
from employment_eval.render.whatif import text as fmt
from employment_eval.whatif.compare import Comparison, IndicatorChange
from employment_eval.whatif.scratch import WhatIfError

TEMPLATE = "whatif.html.j2"


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
        signed = "+0.00;−0.00;0"  # a change: a number, its sign shown
        delta = wb.add_format({"border": 1, "num_format": signed})
        changed_delta = wb.add_format({"border": 1, "bg_color": "#FFF2A8", "num_format": signed})
        wrap = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})

        ws = wb.add_worksheet("对比")
        ws.write(0, 0, f"试算：{cmp.year} 年度，评估日期 {cmp.as_of}", title)
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
            header = ["单位", "正式总分", "正式名次", "正式备注"]
            for d in cmp.drafts:
                header += [f"{d.label}总分", f"{d.label}变化", f"{d.label}名次", f"{d.label}备注"]
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
                    ws.write_number(
                        r, c + 1, float(d.delta), changed_delta if d.points_changed else delta
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
                        ws.write_number(r, 6, float(ch.delta), delta)
                        ws.write(r, 7, ch.official.detail, wrap)
                        ws.write(r, 8, ch.draft.detail, wrap)
                        r += 1
        if r == 1:
            ws.write(1, 0, "各草案下没有任何指标得分变化。")
        ws.set_column(0, 1, 12)
        ws.set_column(2, 2, 6)
        ws.set_column(3, 6, 12)
        ws.set_column(7, 8, 70)
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


@dataclass(frozen=True)
class ChangeRow:
    """One indicator whose points a draft changes, with the details that differ (and, when they
    were shortened, both in full)."""

    unit: str
    change: IndicatorChange
    official: str
    draft: str
    full: tuple[str, str] | None


def _change_rows(cmp: Comparison, i: int) -> list[ChangeRow]:
    rows = []
    for g in cmp.groups:
        for row in g.rows:
            for ch in row.drafts[i].changes:
                short = fmt.differing(ch.official.detail, ch.draft.detail)
                full = (ch.official.detail, ch.draft.detail)
                rows.append(
                    ChangeRow(row.official.short_name, ch, *short, full if short != full else None)
                )
    return rows


def _html(cmp: Comparison, sources: list[str]) -> str:
    return templates.render(
        TEMPLATE,
        WhatIfError,
        f"{cmp.year} 年度的试算文件",
        cmp=cmp,
        head_title=f"试算 {cmp.year} 年度",
        source_items=[],  # the page says what it compares in `sources`
        footer=f"试算 {cmp.year} 年度 · 评估日期 {cmp.as_of.isoformat()}",
        sources=sources,
        quotas=[
            "，".join(
                f"{label} {q}"
                for label, q in zip(["正式", *(d.label for d in cmp.drafts)], g.quotas, strict=True)
            )
            for g in cmp.groups
        ],
        changes=[_change_rows(cmp, i) for i in range(len(cmp.drafts))],
        fmt=fmt,
    )
