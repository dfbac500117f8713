"""progress_<year>_<as-of>.xlsx: the morning report as a workbook, with the conventions of the
year-end workbook (`employment_eval.render.yearend.workbook`: its checked sheet writer, formats and
options are reused): every text through `textsafe` (never a formula, a URL or a cut text),
real Excel dates, a title row, a note row and a provenance row on every sheet, A4 pages.

Sheets: one per group (in season: each unit and degree against the next node, furthest behind
first; after the last node: that node's results), the scoreboard, the night's data-quality
warnings (counts only), the definitions and the provenance."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter
from xlsxwriter.workbook import Workbook

from employment_eval.render import formats
from employment_eval.render.morning import text
from employment_eval.render.morning.data import Morning
from employment_eval.render.yearend.data import DEGREE_NAMES, GROUP_NAMES, GROUP_ORDER
from employment_eval.render.yearend.workbook import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    HEADER_FILL,
    HEADER_ROW,
    WORKBOOK_OPTIONS,
    _Formats,
    _Sheet,
    document_properties,
    title_rows,
)

BEHIND_FILL = "#FCE4D6"  # rows still short of the next node's target
BOARD_SHEET = "记分板"
QUALITY_SHEET = "数据质量"
DEFINITIONS_SHEET = "口径说明"
PROVENANCE_SHEET = "数据来源"

PROGRESS_HEADERS = (
    "落后排序",
    "单位",
    "学历",
    "下一节点",
    "毕业生数",
    "已就业",
    "就业率",
    "目标就业率",
    "达标需就业",
    "尚差人数",
    "待鉴证",
    "鉴证后仍差",
    "较上次导出：已就业",
    "较上次导出：就业率（个百分点）",
    "较一周前：已就业",
    "较一周前：就业率（个百分点）",
    "节点预计扣分",
    "节点预计加分",
    "单位节点预计得分",
)

FINAL_HEADERS = (
    "名次",
    "单位",
    "学历",
    "时间节点",
    "毕业生数",
    "已就业",
    "就业率",
    "目标就业率",
    "达标需就业",
    "是否达标",
    "加分",
    "扣分",
    "单位节点得分",
    "状态",
)


def write_workbook(m: Morning, path: Path) -> Path:
    with xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS) as wb:
        document_properties(wb, m.provenance, text.title(m), text.provenance_line(m))
        fmt = _Formats(wb)
        for group in GROUP_ORDER:
            if m.in_season:
                _progress_sheet(wb, fmt, m, group)
            else:
                _final_sheet(wb, fmt, m, group)
        _board_sheet(wb, fmt, m)
        _quality_sheet(wb, fmt, m)
        _definitions_sheet(wb, fmt, m)
        _provenance_sheet(wb, fmt, m)
    return path


def _title(sheet: _Sheet, m: Morning, heading: str, width: int) -> None:
    footer = f"就业进度晨报 · 评估日期 {m.as_of.isoformat()} · 运行编号 {m.provenance.run_id}"
    title_rows(
        sheet,
        width,
        f"{text.title(m)} · {heading}",
        text.summary(m),
        text.provenance_line(m),
        footer,
        note_height=48,
    )
    sheet.ws.set_landscape()
    sheet.ws.fit_to_pages(1, 0)


def _header(sheet: _Sheet, fmt: _Formats, headers: tuple[str, ...]) -> None:
    cell = fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True, align="center", valign="vcenter")
    sheet.texts(HEADER_ROW, headers, cell)
    sheet.ws.set_row(HEADER_ROW, 45)


def _progress_sheet(wb: Workbook, fmt: _Formats, m: Morning, group: str) -> None:
    sheet = _Sheet(wb, fmt, GROUP_NAMES[group])
    ws = sheet.ws
    _title(sheet, m, f"{GROUP_NAMES[group]}：距{text.node_label(m)}目标", len(PROGRESS_HEADERS))
    _header(sheet, fmt, PROGRESS_HEADERS)
    r = HEADER_ROW + 1
    for u in m.group_units(group):
        for d in u.degrees:
            fill = {"bg_color": BEHIND_FILL} if d.gap > 0 else {}
            num, pct = fmt(num_format="0", **fill), fmt(num_format="0.0%", **fill)
            change = fmt(num_format="+0;-0;0", **fill)
            pp = fmt(num_format="+0.0;-0.0;0.0", **fill)
            points = fmt(num_format="General", **fill)
            sheet.number(r, 0, u.behind_rank, fmt(align="center", **fill))
            sheet.text(r, 1, u.unit.name, fmt(**fill))
            sheet.text(r, 2, DEGREE_NAMES[d.degree], fmt(**fill))
            sheet.date(r, 3, m.next_node, fmt(num_format=DATE_FORMAT, align="center", **fill))
            sheet.number(r, 4, d.graduates, num)
            sheet.number(r, 5, d.employed, num)
            sheet.number(r, 6, d.rate, pct)
            sheet.number(r, 7, d.target, pct)
            sheet.number(r, 8, d.required, num)
            sheet.number(r, 9, d.gap, fmt(num_format="0", bold=d.gap > 0, **fill))
            sheet.number(r, 10, d.pending, num)
            sheet.number(r, 11, d.gap_after_pending, num)
            _maybe(sheet, r, 12, d.employed_change_previous, change)
            _maybe(sheet, r, 13, _pp(d.rate_change_previous), pp)
            _maybe(sheet, r, 14, d.employed_change_week, change)
            _maybe(sheet, r, 15, _pp(d.rate_change_week), pp)
            sheet.number(r, 16, d.projected_deduction, points)
            sheet.number(r, 17, d.projected_bonus, num)
            sheet.number(r, 18, u.projected_points, points)
            r += 1
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 2, 6)
    ws.set_column(3, 3, 11)
    ws.set_column(4, 18, 10)
    ws.freeze_panes(HEADER_ROW + 1, 3)
    if r > HEADER_ROW + 1:
        ws.autofilter(HEADER_ROW, 0, r - 1, len(PROGRESS_HEADERS) - 1)
    sheet.text(r + 1, 1, "浅红底纹：该学历尚未达到下一节点目标", fmt(bg_color=BEHIND_FILL))


def _pp(rate_change):
    """A change of rate as percentage points (a number, not a percentage)."""
    return None if rate_change is None else rate_change * 100


def _maybe(sheet: _Sheet, row: int, col: int, value, cell) -> None:
    if value is None:
        sheet.ws.write_blank(row, col, None, cell)
    else:
        sheet.number(row, col, value, cell)


def _final_sheet(wb: Workbook, fmt: _Formats, m: Morning, group: str) -> None:
    sheet = _Sheet(wb, fmt, GROUP_NAMES[group])
    ws = sheet.ws
    node = formats.month_day(m.last_node) if m.last_node else ""
    _title(sheet, m, f"{GROUP_NAMES[group]}：{node}节点结果", len(FINAL_HEADERS))
    _header(sheet, fmt, FINAL_HEADERS)
    ranks = {b.unit.code: b.rank for b in m.board}
    num, pct, text_cell = fmt(num_format="0"), fmt(num_format="0.0%"), fmt()
    date = fmt(num_format=DATE_FORMAT, align="center")
    r = HEADER_ROW + 1
    for u in m.group_finals(group):
        for d in u.degrees:
            sheet.number(r, 0, ranks.get(u.unit.code, 0), fmt(align="center"))
            sheet.text(r, 1, u.unit.name, text_cell)
            sheet.text(r, 2, DEGREE_NAMES[d.degree], text_cell)
            sheet.date(r, 3, m.last_node, date)
            sheet.number(r, 4, d.graduates, num)
            sheet.number(r, 5, d.employed, num)
            sheet.number(r, 6, d.rate, pct)
            sheet.number(r, 7, d.target, pct)
            sheet.number(r, 8, d.required, num)
            sheet.text(
                r, 9, formats.yes(d.is_met), fmt(font_color="#006100" if d.is_met else "#C00000")
            )
            sheet.number(r, 10, d.bonus, num)
            sheet.number(r, 11, d.deduction, fmt(num_format="General"))
            sheet.number(r, 12, u.node_points, fmt(num_format="General", bold=True))
            sheet.text(r, 13, "最终" if d.status == "final" else "暂定", text_cell)
            r += 1
    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 13, 10)
    ws.freeze_panes(HEADER_ROW + 1, 3)


def _board_sheet(wb: Workbook, fmt: _Formats, m: Morning) -> None:
    headers = ("组别", "名次", "单位", "总分", "其中 I3", "先进单位", "备注", "状态", "说明")
    sheet = _Sheet(wb, fmt, BOARD_SHEET)
    _title(sheet, m, f"记分板（{m.status_name}）", len(headers))
    _header(sheet, fmt, headers)
    text_cell, points = fmt(), fmt(num_format="0.00")
    for r, b in enumerate(m.board, start=HEADER_ROW + 1):
        sheet.text(r, 0, GROUP_NAMES[b.unit.group], text_cell)
        sheet.number(r, 1, b.rank, fmt(align="center"))
        sheet.text(r, 2, b.unit.name, text_cell)
        sheet.number(r, 3, b.total, fmt(num_format="0.00", bold=True))
        sheet.number(r, 4, b.i3, points)
        sheet.text(r, 5, "先进单位" if b.is_advanced else "", text_cell)
        sheet.text(r, 6, b.standing.label, text_cell)
        sheet.text(r, 7, b.standing.status_label, text_cell)
        sheet.text(r, 8, "；".join(b.standing.notes), fmt(text_wrap=True))
    sheet.ws.set_column(0, 0, 16)
    sheet.ws.set_column(1, 1, 6)
    sheet.ws.set_column(2, 2, 40)
    sheet.ws.set_column(3, 5, 11)
    sheet.ws.set_column(6, 6, 30)
    sheet.ws.set_column(7, 7, 8)
    sheet.ws.set_column(8, 8, 70)


def _quality_sheet(wb: Workbook, fmt: _Formats, m: Morning) -> None:
    headers = ("来源", "文件与列，或检查项", "条数")
    sheet = _Sheet(wb, fmt, QUALITY_SHEET)
    _title(sheet, m, "当晚数据质量提示（只列出处与条数）", len(headers))
    _header(sheet, fmt, headers)
    wrap = fmt(text_wrap=True)
    r = HEADER_ROW + 1
    for note in m.notes:
        sheet.text(r, 0, note.source, fmt())
        sheet.text(r, 1, note.item, wrap)
        _maybe(sheet, r, 2, note.count, fmt(num_format="0"))
        r += 1
    if not m.notes:
        sheet.text(r, 0, "无", fmt())
        sheet.text(r, 1, "当晚没有输入警告，质量检查也没有警告", wrap)
    sheet.ws.set_column(0, 0, 12)
    sheet.ws.set_column(1, 1, 90)
    sheet.ws.set_column(2, 2, 8)


def _definitions_sheet(wb: Workbook, fmt: _Formats, m: Morning) -> None:
    sheet = _Sheet(wb, fmt, DEFINITIONS_SHEET)
    _title(sheet, m, "口径说明", 2)
    _header(sheet, fmt, ("项目", "含义"))
    key, wrap = fmt(bold=True, valign="top"), fmt(text_wrap=True, valign="top")
    for r, (label, meaning) in enumerate(text.definitions(m), start=HEADER_ROW + 1):
        sheet.text(r, 0, label, key)
        sheet.text(r, 1, meaning, wrap)
    sheet.ws.set_column(0, 0, 16)
    sheet.ws.set_column(1, 1, 100)


def _provenance_sheet(wb: Workbook, fmt: _Formats, m: Morning) -> None:
    p = m.provenance
    sheet = _Sheet(wb, fmt, PROVENANCE_SHEET)
    _title(sheet, m, "数据来源", 2)
    _header(sheet, fmt, ("项目", "内容"))
    key, wrap = fmt(bold=True, valign="top"), fmt(text_wrap=True, valign="top")
    day = fmt(num_format=DATE_FORMAT, align="left")
    rows: list[tuple[str, object]] = [
        ("年度", m.year),
        ("记分板状态", m.status_name),
        ("政策文号", p.policy),
        ("政策名称", p.policy_title),
        ("评估日期", m.as_of),
        ("最新导出数据", m.latest_export),
        ("上次导出", m.previous_export),
        ("一周前对比的导出", m.week_ago_export),
        ("下一节点", m.next_node),
        ("生成时间（北京时间）", p.generated_at),
        ("规则文件", p.rules_file),
        ("规则文件 SHA256", p.rules_sha256),
        ("运行编号", p.run_id),
        ("程序版本", p.code_version),
        ("输入文件数", p.input_files),
    ]
    for r, (label, value) in enumerate(rows, start=HEADER_ROW + 1):
        sheet.text(r, 0, label, key)
        if isinstance(value, dt.datetime):
            sheet.date(r, 1, value, fmt(num_format=DATETIME_FORMAT, align="left"))
        elif isinstance(value, dt.date) or value is None:
            sheet.date(r, 1, value, day)
        elif isinstance(value, int):
            sheet.number(r, 1, value, fmt(num_format="0", align="left"))
        else:
            sheet.text(r, 1, value, wrap)
    sheet.ws.set_column(0, 0, 22)
    sheet.ws.set_column(1, 1, 90)
