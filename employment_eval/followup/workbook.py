"""A unit's follow-up list as an xlsx the unit's employment secretary can work from and hand back.

Sheet 跟进名单: the title, the gap per degree to the next node (and what verification alone
would close), a count of the list, then one table — a row per graduate, filterable — saying
what is missing and since which export, the change since the previous export, and the column
跟进记录 the unit fills in (carried forward from the last list it returned, with that list's
date and whether the record changed since). Sheet 说明: what every column means, how to return
the list, and the list's identity (unit code, year, dates) that a returned list is checked
against. Every text goes through the checked writer of the year-end workbook (never a formula,
a URL or a cut text); dates are real Excel dates."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from employment_eval import fsmodes, textsafe
from employment_eval.followup.data import MISSING, MISSING_ORDER, Header, UnitList
from employment_eval.render import formats
from employment_eval.render.yearend.data import DEGREE_NAMES
from employment_eval.render.yearend.workbook import (
    DATE_FORMAT,
    HEADER_FILL,
    WORKBOOK_OPTIONS,
    _Formats,
    _Sheet,
)

SHEET = "跟进名单"
NOTES_SHEET = "说明"
NOTE_HEADER = "跟进记录"
ID_HEADER = "学号"
# the list's identity on the 说明 sheet (label, key): read back from a returned list
IDENTITY = (("单位代码", "unit_code"), ("年度", "year"), ("评估日期", "as_of"),
            ("最新导出", "latest_export"))  # fmt: skip
IDENTITY_TITLE = "名单标识（退回时用于核对，请勿修改）"
HEADERS = (
    "序号",
    ID_HEADER,
    "姓名",
    "学历",
    "缺什么",
    "自哪次导出起",
    "较上次导出",
    "毕业去向代码",
    "毕业去向",
    "就业单位",
    "鉴证状态",
    "鉴证日期",
    "上一节点已计入",
    NOTE_HEADER,
    "跟进记录来自",
)
WIDTHS = (6, 15, 10, 6, 14, 12, 20, 10, 16, 26, 9, 11, 12, 40, 20)
GAP_HEADERS = ("学历", "下一节点", "目标就业率", "毕业生", "已就业", "达标需就业", "尚差人数",
               "待鉴证", "鉴证可补上", "鉴证后仍差")  # fmt: skip
NOTE_FILL = "#FFF2CC"
CHANGED_FILL = "#FCE4D6"


def write_unit_file(unit: UnitList, header: Header, path: Path) -> Path:
    with xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS) as wb:
        wb.set_properties(
            {
                "title": textsafe.clean(f"{header.year} 年度就业跟进名单 · {unit.short_name}"),
                "author": "就业指导中心",
                "comments": "含个人信息，仅限本单位就业工作使用，请勿外传",
            }
        )
        fmt = _Formats(wb)
        _list_sheet(wb, fmt, unit, header)
        _notes_sheet(wb, fmt, unit, header)
    return fsmodes.make_private(path)


def title(unit: UnitList, header: Header) -> str:
    return f"{header.year} 年度就业跟进名单 · {unit.name}"


def source_line(header: Header) -> str:
    generated = header.generated_at.strftime("%Y-%m-%d %H:%M:%S") if header.generated_at else ""
    latest = header.latest_export.isoformat() if header.latest_export else "无"
    return (
        f"评估日期 {header.as_of.isoformat()} · 最新导出 {latest} · 生成于 {generated} · "
        f"运行编号 {header.run_id}"
    )


def count_line(unit: UnitList, header: Header) -> str:
    parts = "，".join(f"{MISSING[k][0]} {len(unit.missing(k))} 人" for k in MISSING_ORDER)
    line = f"名单共 {len(unit.graduates)} 人（最新导出中尚未计入就业的本单位毕业生）：{parts}。"
    cancelled = [g for g in unit.graduates if g.counted_at_node is not None]
    if header.last_node is not None:
        line += (
            f"其中 {len(cancelled)} 人在上一节点（{formats.month_day(header.last_node)}）"
            "已计入就业、此后不再计入，请核实原因。"
        )
    if header.previous_export is not None:
        new = sum(1 for g in unit.graduates if g.change_note.startswith("新列入"))
        changed = sum(1 for g in unit.graduates if g.change_note) - new
        line += (
            f"与上次导出（{header.previous_export.isoformat()}）相比：新列入 {new} 人，"
            f"情况有变 {changed} 人（见“较上次导出”列）。"
        )
    noted = sum(1 for g in unit.graduates if g.note)
    if noted:
        line += f"{noted} 人带有本单位退回名单中的跟进记录。"
    return line


def _list_sheet(wb, fmt: _Formats, unit: UnitList, header: Header) -> None:
    sheet = _Sheet(wb, fmt, SHEET)
    ws = sheet.ws
    last = len(HEADERS) - 1
    plain = wb.add_format({"text_wrap": True, "valign": "top"})
    sheet.merged(0, last, title(unit, header), wb.add_format({"bold": True, "font_size": 16}))
    warn = wb.add_format({"font_color": "#C00000", "bold": True})
    sheet.merged(1, last, "含个人信息，仅限本单位就业工作使用，请勿外传。", warn)
    grey = wb.add_format({"font_color": "#595959", "font_size": 9})
    sheet.merged(2, last, source_line(header), grey)
    r = 3
    if unit.today_note:
        today = wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F4E79"})
        sheet.merged(r, last, unit.today_note, today)
        r += 1
    r += 1
    r = _gap_table(sheet, fmt, unit, r)
    sheet.merged(r, last, count_line(unit, header), plain)
    ws.set_row(r, 48)
    r += 2
    head = fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True, align="center", valign="vcenter")
    sheet.texts(r, HEADERS, head)
    ws.set_row(r, 30)
    first = r
    text, day = fmt(valign="top"), fmt(num_format=DATE_FORMAT, align="center", valign="top")
    changed = fmt(valign="top", bg_color=CHANGED_FILL)
    note = fmt(valign="top", text_wrap=True, bg_color=NOTE_FILL)
    for i, g in enumerate(unit.graduates, start=1):
        r += 1
        sheet.number(r, 0, i, fmt(align="center", valign="top"))
        sheet.text(r, 1, g.student_id, text)
        sheet.text(r, 2, g.name, text)
        sheet.text(r, 3, DEGREE_NAMES.get(g.degree, g.degree), text)
        sheet.text(r, 4, g.missing_label, text)
        sheet.date(r, 5, g.missing_since, day)
        sheet.text(r, 6, g.change_note, changed if g.change_note else text)
        sheet.text(r, 7, g.destination_code, text)
        sheet.text(r, 8, g.destination_label, text)
        sheet.text(r, 9, g.employer, text)
        sheet.text(r, 10, "已鉴证" if g.is_verified else "未鉴证", text)
        sheet.date(r, 11, g.verification_date, day)
        sheet.date(r, 12, g.counted_at_node, day)
        sheet.text(r, 13, g.note, note)
        sheet.text(r, 14, _note_source(g), changed if g.changed_since_note else text)
    if not unit.graduates:
        sheet.merged(r + 1, last, "无：最新导出中本单位的毕业生均已计入就业。", text)
    for col, width in enumerate(WIDTHS):
        ws.set_column(col, col, width)
    ws.autofilter(first, 0, max(r, first), last)
    ws.freeze_panes(first + 1, 3)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(first)
    ws.set_footer("&L&8含个人信息，请勿外传&R&8第 &P 页，共 &N 页")


def _note_source(g) -> str:
    if not g.note or g.note_list_date is None:
        return ""
    since = "；此后记录有变化" if g.changed_since_note else ""
    return f"{g.note_list_date.isoformat()} 的名单{since}"


def _gap_table(sheet: _Sheet, fmt: _Formats, unit: UnitList, r: int) -> int:
    """The gap per degree to the next node; returns the row after it."""
    last = len(HEADERS) - 1
    bold = fmt(bold=True, border=0)
    if not unit.gaps:
        sheet.merged(r, last, "本年度各时间节点已过：名单供核实最终去向。", bold)
        return r + 2
    node = formats.month_day(unit.gaps[0].next_node)
    sheet.merged(r, last, f"距{node}节点目标（按最新导出数据）", bold)
    r += 1
    head = fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True, align="center")
    sheet.texts(r, GAP_HEADERS, head)
    num, day = fmt(align="center"), fmt(num_format=DATE_FORMAT, align="center")
    for g in unit.gaps:
        r += 1
        sheet.text(r, 0, DEGREE_NAMES.get(g.degree, g.degree), fmt(align="center"))
        sheet.date(r, 1, g.next_node, day)
        sheet.text(r, 2, formats.percent(g.target), num)
        for col, value in enumerate(
            (g.graduates, g.employed, g.required, g.gap, g.pending, g.verification_closes,
             g.gap_after),
            start=3,
        ):  # fmt: skip
            sheet.number(r, col, value, num)
    return r + 2


def _notes_sheet(wb, fmt: _Formats, unit: UnitList, header: Header) -> None:
    sheet = _Sheet(wb, fmt, NOTES_SHEET)
    key, wrap = fmt(bold=True, valign="top"), fmt(text_wrap=True, valign="top")
    identity = {
        "unit_code": unit.code,
        "year": str(header.year),
        "as_of": header.as_of.isoformat(),
        "latest_export": header.latest_export.isoformat() if header.latest_export else "",
    }
    rows = [
        ("名单", "最新导出中本单位尚未计入就业的本届毕业生（不含结业），每人一行。"),
        ("计入就业", "毕业去向计入就业率，且已鉴证、鉴证日期不晚于该次导出日期。"),
        *[(label, meaning) for label, meaning in MISSING.values()],
        ("自哪次导出起", "该生从哪一次导出起一直处于“缺什么”列所写的情况（中间没有变过）。"),
        ("较上次导出", "与上一次导出相比：新列入（上次没有该生，或上次已计入就业）、"
                       "原为某情况（情况有变），或记录有更新（去向、单位、鉴证等有改动）。"),
        ("上一节点已计入", "该生在上一时间节点已计入就业，最新导出中不再计入：请核实原因。"),
        (NOTE_HEADER, "本单位填写的跟进情况（联系时间、结果、下一步）。填好后把本文件原样交回"
                      "就业中心，下一次名单会在同一毕业生旁带上这条记录。清空某人的记录即删除它。"
                      "每条不超过 500 字。"),
        ("跟进记录来自", "这条记录来自哪一天的名单；“此后记录有变化”表示该名单之后"
                         "该生的登记记录有改动，请核对记录是否仍然适用。"),
        ("交回", "只改“跟进记录”一列；不要改学号、不要把其他单位的学生加进来，"
                 "也不要改本页下方的名单标识。名单中只要有一行无法核对（学号不在导出中、"
                 "不是本单位的毕业生、同一学号出现两次等），整份名单都不会读入，"
                 "原有记录保持不变，就业中心会告知是哪一行。"),
        ("标题", title(unit, header)),
        ("来源", source_line(header)),
    ]  # fmt: skip
    sheet.texts(0, ("项目", "含义"), fmt(bold=True, bg_color=HEADER_FILL))
    r = 0
    for r, (label, meaning) in enumerate(rows, start=1):
        sheet.text(r, 0, label, key)
        sheet.text(r, 1, meaning, wrap)
    r += 2
    sheet.text(r, 0, IDENTITY_TITLE, fmt(bold=True, bg_color=HEADER_FILL))
    sheet.text(r, 1, "", fmt(bg_color=HEADER_FILL))
    for label, name in IDENTITY:
        r += 1
        sheet.text(r, 0, label, key)
        sheet.text(r, 1, identity[name], wrap)
    sheet.ws.set_column(0, 0, 30)
    sheet.ws.set_column(1, 1, 100)
