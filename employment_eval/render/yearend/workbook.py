"""scoreboard_<year>.xlsx: a sheet per group (rank, total, I1–I9 after adjustment, advanced
units filled green, adjusted cells filled amber with a comment), 历年对比 (each unit's years
in the marts up to this one: total, rank, advanced, the rate at the last node), the milestone
rates, the committee's adjustments and where the figures come from. Chinese headers; the
title row says 暂定 while not final; every sheet names the policy, the as-of date, the
generation time, the rules version and the run id (second row and printed footer).

Safe by construction: the workbook never turns a text into a formula, a URL or a number
(xlsxwriter's strings_to_* options are off), and every text goes through `_Sheet.text`, which
removes bidi controls and raises TextTooLongError rather than let xlsxwriter cut a text at
Excel's limit. Dates are real Excel dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from employment_eval import textsafe
from employment_eval.render import formats
from employment_eval.render.yearend import labels
from employment_eval.render.yearend.data import (
    DEGREE_NAMES,
    DEGREE_ORDER,
    GROUP_NAMES,
    GROUP_ORDER,
    STATUS_NAMES,
    YearEnd,
)

ADVANCED_FILL = "#C6EFCE"  # 先进单位 rows
ADJUSTED_FILL = "#FFD966"  # cells changed by the committee
HEADER_FILL = "#DDEBF7"
MILESTONE_SHEET = "时间节点就业率"
ADJUSTMENT_SHEET = "调整记录"
PROVENANCE_SHEET = "数据来源"
YEARS_SHEET = "历年对比"
HEADER_ROW = 3  # 0: title, 1: note (暂定 or final), 2: provenance, 3: headers
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# Never interpret a string: no formula, no URL, no number (the defaults are on for the first two).
WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


class _Formats:
    """xlsxwriter formats made once per workbook, keyed by their properties."""

    def __init__(self, wb: Workbook):
        self.wb = wb
        self.cache: dict[tuple, Format] = {}

    def __call__(self, **props: object) -> Format:
        key = tuple(sorted(props.items()))
        if key not in self.cache:
            self.cache[key] = self.wb.add_format({"font_name": "等线", "border": 1, **props})
        return self.cache[key]


class _Sheet:
    """A worksheet written through checked helpers only (text, numbers, dates, comments)."""

    def __init__(self, wb: Workbook, fmt: _Formats, name: str):
        self.ws: Worksheet = wb.add_worksheet(name)
        self.wb, self.fmt, self.name = wb, fmt, name

    def where(self, row: int, col: int) -> str:
        return f"工作表「{self.name}」单元格 {xlsxwriter.utility.xl_rowcol_to_cell(row, col)}"

    def text(self, row: int, col: int, value: object, fmt: Format | None = None) -> None:
        self.ws.write_string(row, col, textsafe.excel_text(value, self.where(row, col)), fmt)

    def texts(self, row: int, values: list[str] | tuple[str, ...], fmt: Format) -> None:
        for col, value in enumerate(values):
            self.text(row, col, value, fmt)

    def merged(self, row: int, last_col: int, value: str, fmt: Format) -> None:
        safe = textsafe.excel_text(value, self.where(row, 0))
        if last_col > 0:
            self.ws.merge_range(row, 0, row, last_col, "", fmt)
        self.ws.write_string(row, 0, safe, fmt)

    def number(self, row: int, col: int, value: int | Decimal, fmt: Format) -> None:
        self.ws.write_number(row, col, float(value) if isinstance(value, Decimal) else value, fmt)

    def date(self, row: int, col: int, value: dt.date | dt.datetime | None, fmt: Format) -> None:
        if value is None:
            self.ws.write_blank(row, col, None, fmt)
        else:
            self.ws.write_datetime(row, col, value, fmt)

    def comment(self, row: int, col: int, value: str, options: dict) -> None:
        safe = textsafe.excel_text(
            value, f"{self.where(row, col)}的批注", textsafe.EXCEL_COMMENT_LIMIT
        )
        self.ws.write_comment(row, col, safe, options)


def document_properties(wb: Workbook, p, title: str, provenance_line: str) -> None:
    """Where the workbook comes from, in its document properties (also the morning report's)."""
    wb.set_properties(
        {
            "title": textsafe.clean(title),
            "subject": textsafe.clean(p.policy),
            "author": "就业指导中心",
            "comments": textsafe.clean(provenance_line),
            "created": p.generated_at,
        }
    )
    for name, value in (("运行编号", p.run_id), ("规则SHA256", p.rules_sha256)):
        wb.set_custom_property(name, textsafe.excel_text(value, f"文档属性「{name}」", 255))


def write_workbook(ye: YearEnd, path: Path) -> Path:
    with xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS) as wb:
        document_properties(wb, ye.provenance, labels.title(ye), labels.provenance_line(ye))
        fmt = _Formats(wb)
        for group in GROUP_ORDER:
            _group_sheet(wb, fmt, ye, group)
        _years_sheet(wb, fmt, ye)
        _milestone_sheet(wb, fmt, ye)
        _adjustment_sheet(wb, fmt, ye)
        _selfcheck_sheet(wb, fmt, ye)
        _provenance_sheet(wb, fmt, ye)
    return path


def title_rows(
    sheet: _Sheet,
    width: int,
    title: str,
    note: str,
    source: str,
    footer: str,
    *,
    warn: bool = False,
    note_height: int = 32,
) -> None:
    """The three rows above every sheet's header (title, note, source line) and the printed
    page's footer (`footer` on the left, page numbers on the right); A4, header row repeated.
    `warn` prints the title and the note in red (provisional year-end results). Shared with
    the morning report's workbook."""
    ws, wb = sheet.ws, sheet.wb
    red = "#C00000"
    big = wb.add_format({"bold": True, "font_size": 16, "font_color": red if warn else "#000000"})
    sheet.merged(0, width - 1, title, big)
    small = wb.add_format({"font_color": red if warn else "#404040", "text_wrap": True})
    sheet.merged(1, width - 1, note, small)
    grey = wb.add_format({"font_color": "#595959", "font_size": 9, "text_wrap": True})
    sheet.merged(2, width - 1, source, grey)
    ws.set_row(0, 28)
    ws.set_row(1, note_height)
    ws.set_row(2, 26)
    left = textsafe.clean(footer).replace("&", "&&")  # '&' is a code in a footer
    if textsafe.utf16_length(left) <= 200:
        ws.set_footer(f"&L&8{left}&R&8第 &P 页，共 &N 页")
    else:
        ws.set_footer("&R&8第 &P 页，共 &N 页")
    ws.set_paper(9)  # A4
    ws.repeat_rows(HEADER_ROW)


def _title(sheet: _Sheet, ye: YearEnd, heading: str, width: int) -> None:
    final = ye.is_final
    note = (
        labels.provisional_note(ye)
        if not final
        else f"最终结果；最新导出数据 {formats.day(ye.latest_export)}。"
    )
    if ye.signature:
        note = f"{ye.signature}。{note}"
    # Printed pages repeat the status and the source in the footer.
    status = "暂定" if not final else "最终"
    footer = (
        f"{status} · {ye.provenance.policy} · 评估日期 {ye.provenance.as_of.isoformat()} · "
        f"运行编号 {ye.provenance.run_id}"
    )
    title_rows(
        sheet,
        width,
        f"{labels.title(ye)} · {heading}",
        note,
        labels.provenance_line(ye),
        footer,
        warn=not final,
    )


def _group_sheet(wb: Workbook, fmt: _Formats, ye: YearEnd, group: str) -> None:
    name = GROUP_NAMES[group]
    sheet = _Sheet(wb, fmt, name)
    ws = sheet.ws
    headers = [
        "名次",
        "单位",
        "总分",
        *[i.header for i in ye.indicators],
        "先进单位",
        "备注",
        "说明",
    ]
    _title(sheet, ye, f"{name}（先进名额 {ye.quotas.get(group, 0)}）", len(headers))
    header = fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True, align="center", valign="vcenter")
    sheet.texts(HEADER_ROW, headers, header)
    ws.set_row(HEADER_ROW, 75)
    for r, unit in enumerate(ye.group(group), start=HEADER_ROW + 1):
        fill = {"bg_color": ADVANCED_FILL} if unit.is_advanced else {}
        sheet.number(r, 0, unit.rank, fmt(align="center", **fill))
        sheet.text(r, 1, unit.name, fmt(**fill))
        sheet.number(r, 2, unit.total, fmt(num_format="0.00", bold=True, **fill))
        for c, ind in enumerate(ye.indicators, start=3):
            score = unit.scores.get(ind.code)
            if score is None:
                ws.write_blank(r, c, None, fmt(**fill))
                continue
            cell_fill = {"bg_color": ADJUSTED_FILL} if score.adjusted else fill
            sheet.number(r, c, score.points, fmt(num_format="0.00", **cell_fill))
            if score.adjusted:
                sheet.comment(r, c, score.note, {"x_scale": 2.2, "y_scale": 1.6})
        c = 3 + len(ye.indicators)
        sheet.text(r, c, "先进单位" if unit.is_advanced else "", fmt(align="center", **fill))
        sheet.text(r, c + 1, unit.remark, fmt(font_color="#C00000", **fill))
        sheet.text(r, c + 2, "；".join(unit.standing.notes), fmt(text_wrap=True, **fill))
    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2 + len(ye.indicators), 10)
    ws.set_column(3 + len(ye.indicators), 3 + len(ye.indicators), 10)
    ws.set_column(4 + len(ye.indicators), 4 + len(ye.indicators), 30)
    ws.set_column(5 + len(ye.indicators), 5 + len(ye.indicators), 60)
    ws.freeze_panes(HEADER_ROW + 1, 2)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    legend = HEADER_ROW + 2 + len(ye.group(group))
    sheet.text(legend, 1, "绿色底纹：先进单位", fmt(bg_color=ADVANCED_FILL))
    sheet.text(
        legend + 1,
        1,
        "黄色底纹：学指委调整的得分（批注含计算值、理由、审批人）",
        fmt(bg_color=ADJUSTED_FILL),
    )
    bonus = [i for i in ye.indicators if i.has_bonus]
    if bonus:
        codes = "、".join(i.code for i in bonus)
        sheet.text(
            legend + 2,
            1,
            f"{codes} 的得分 = 基准分扣减后 + 超额奖励分（每超出目标 1 人加分，不设上限），"
            "故可高于基准分。",
            fmt(text_wrap=True),
        )


MILESTONE_HEADERS = (
    "单位",
    "组别",
    "学历",
    "时间节点",
    "毕业生数",
    "就业人数",
    "就业率",
    "目标就业率",
    "达标所需人数",
    "是否达标",
    "超出人数（加分）",
    "扣分",
    "数据日期",
    "按后续数据补算",
    "状态",
)


def _milestone_sheet(wb: Workbook, fmt: _Formats, ye: YearEnd) -> None:
    sheet = _Sheet(wb, fmt, MILESTONE_SHEET)
    ws = sheet.ws
    _title(sheet, ye, "时间节点就业率", len(MILESTONE_HEADERS))
    header = fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True, align="center")
    sheet.texts(HEADER_ROW, MILESTONE_HEADERS, header)
    order = {u.code: i for i, u in enumerate(ye.units)}
    nodes = sorted(
        ye.nodes,
        key=lambda n: (order.get(n.unit_code, 99), DEGREE_ORDER.index(n.degree), n.milestone_date),
    )
    text, num, pct = fmt(), fmt(num_format="0"), fmt(num_format="0.00%")
    date = fmt(num_format=DATE_FORMAT, align="center")
    groups = {u.code: GROUP_NAMES[u.group] for u in ye.units}
    for r, n in enumerate(nodes, start=HEADER_ROW + 1):
        met = n.employed >= n.required
        sheet.text(r, 0, ye.unit_name(n.unit_code), text)
        sheet.text(r, 1, groups.get(n.unit_code, ""), text)
        sheet.text(r, 2, DEGREE_NAMES.get(n.degree, n.degree), text)
        sheet.date(r, 3, n.milestone_date, date)
        sheet.number(r, 4, n.graduates, num)
        sheet.number(r, 5, n.employed, num)
        sheet.number(r, 6, n.rate, pct)
        sheet.number(r, 7, n.target, pct)
        sheet.number(r, 8, n.required, num)
        sheet.text(r, 9, formats.yes(met), fmt(font_color="#006100" if met else "#C00000"))
        sheet.number(r, 10, n.bonus, num)
        sheet.number(r, 11, n.deduction, fmt(num_format="0.00"))
        sheet.date(r, 12, n.snapshot_date, date)
        sheet.text(r, 13, formats.yes(n.reconstructed), text)
        sheet.text(r, 14, STATUS_NAMES.get(n.status, n.status), text)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 14)
    ws.set_column(2, 14, 11)
    ws.freeze_panes(HEADER_ROW + 1, 1)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    if nodes:
        ws.autofilter(HEADER_ROW, 0, HEADER_ROW + len(nodes), len(MILESTONE_HEADERS) - 1)


def years_headers(ye: YearEnd) -> tuple[str, ...]:
    return (
        "单位",
        "组别",
        "年度",
        "总分",
        "组内名次",
        "先进单位",
        labels.final_rate_label(ye),
        "状态",
    )


def _years_sheet(wb: Workbook, fmt: _Formats, ye: YearEnd) -> None:
    """历年对比: each unit (in the ranking's order) and each year the marts hold up to the
    evaluation year (marts.unit_trends): total, rank, advanced, the rate at the year's last node
    as a real percentage; the evaluation year in bold, advanced years filled green."""
    sheet = _Sheet(wb, fmt, YEARS_SHEET)
    ws = sheet.ws
    headers = years_headers(ye)
    years = ye.trend_years()
    span = f"{years[0]}—{years[-1]} 年度" if len(years) > 1 else f"{ye.year} 年度"
    _title(sheet, ye, f"历年对比（{span}，各年按当年规则评分）", len(headers))
    sheet.texts(HEADER_ROW, headers, fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True))
    r = HEADER_ROW + 1
    for unit in ye.units:
        trend = ye.trend(unit.code)
        for y in trend.years if trend else ():
            now = {"bold": True} if y.year == ye.year else {}
            fill = {"bg_color": ADVANCED_FILL} if y.is_advanced else {}
            sheet.text(r, 0, unit.name, fmt(**now, **fill))
            sheet.text(r, 1, GROUP_NAMES.get(unit.group, unit.group), fmt(**now, **fill))
            sheet.number(r, 2, y.year, fmt(num_format="0", align="center", **now, **fill))
            sheet.number(r, 3, y.total_points, fmt(num_format="0.00", **now, **fill))
            sheet.number(r, 4, y.rank_in_group, fmt(num_format="0", align="center", **now, **fill))
            sheet.text(r, 5, formats.yes(y.is_advanced), fmt(align="center", **now, **fill))
            pct = fmt(num_format="0.00%", **now, **fill)
            if y.final_rate is None:
                ws.write_blank(r, 6, None, pct)
            else:
                sheet.number(r, 6, y.final_rate, pct)
            sheet.text(r, 7, STATUS_NAMES.get(y.status, y.status), fmt(**now, **fill))
            r += 1
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 14)
    ws.set_column(2, 7, 11)
    ws.freeze_panes(HEADER_ROW + 1, 1)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    if r > HEADER_ROW + 1:
        ws.autofilter(HEADER_ROW, 0, r - 1, len(headers) - 1)
    note = (
        f"发布的数据中只有 {ye.year} 年度，暂无往年可比。"
        if len(years) <= 1
        else f"粗体：本年度（{ye.year}）；绿色底纹：当年为先进单位。"
    )
    sheet.text(r + 1, 0, note, fmt(border=0))


ADJUSTMENT_HEADERS = ("单位", "调整项", "计算值", "调整后", "理由", "审批人", "日期")


def _adjustment_sheet(wb: Workbook, fmt: _Formats, ye: YearEnd) -> None:
    sheet = _Sheet(wb, fmt, ADJUSTMENT_SHEET)
    ws = sheet.ws
    _title(sheet, ye, "学指委审核调整", len(ADJUSTMENT_HEADERS))
    sheet.texts(HEADER_ROW, ADJUSTMENT_HEADERS, fmt(bold=True, bg_color=HEADER_FILL))
    text, wrap = fmt(), fmt(text_wrap=True)
    num = fmt(num_format="0.00", bg_color=ADJUSTED_FILL)
    date = fmt(num_format=DATE_FORMAT, align="center")
    r = HEADER_ROW + 1
    for row in ye.committee_rows():
        sheet.text(r, 0, row.unit.name, text)
        sheet.text(r, 1, row.item, text)
        if row.points is not None:  # an indicator: the points as numbers
            sheet.number(r, 2, row.points[0], fmt(num_format="0.00"))
            sheet.number(r, 3, row.points[1], num)
        else:
            sheet.text(r, 2, row.before, text)
            sheet.text(r, 3, row.after, fmt(bg_color=ADJUSTED_FILL))
        sheet.text(r, 4, row.reason, wrap)
        sheet.text(r, 5, row.approved_by, text)
        sheet.date(r, 6, row.decided_on, date)
        r += 1
    if r == HEADER_ROW + 1:
        sheet.text(r, 0, "无", text)
        sheet.text(r, 1, "本年度学指委未调整任何得分", text)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 3, 11)
    ws.set_column(4, 4, 40)
    ws.set_column(5, 6, 12)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)


SELFCHECK_SHEET = "单位自评对照"
SELFCHECK_HEADERS = (
    "单位",
    "指标",
    "项目",
    "就业中心登记",
    "该指标得分（就业中心）",
    "单位自报",
    "是否不同",
    "单位说明",
    "自评表（单元格）",
)


def _selfcheck_sheet(wb: Workbook, fmt: _Formats, ye: YearEnd) -> None:
    """单位自评对照 (marts.selfcheck_items): for each unit whose self-check pack came back, each
    ledger item as the centre scored it beside what the unit stated; differences filled amber
    and counted in the note for the committee. The centre's figure stays the score."""
    sheet = _Sheet(wb, fmt, SELFCHECK_SHEET)
    ws = sheet.ws
    _title(sheet, ye, "单位自评与就业中心登记对照", len(SELFCHECK_HEADERS))
    sheet.texts(HEADER_ROW, SELFCHECK_HEADERS, fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True))
    returned = [i for i in ye.selfcheck if i.has_pack]
    r = HEADER_ROW + 1
    for item in returned:
        fill = {"bg_color": ADJUSTED_FILL} if item.is_different else {}
        sheet.text(r, 0, ye.unit_name(item.unit_code), fmt(**fill))
        sheet.text(r, 1, item.indicator, fmt(align="center", **fill))
        sheet.text(r, 2, item.label, fmt(**fill))
        sheet.text(r, 3, item.centre or "（空）", fmt(**fill))
        sheet.number(r, 4, item.indicator_points, fmt(num_format="0.00", **fill))
        sheet.text(r, 5, item.stated if item.is_stated else "（未填）", fmt(**fill))
        sheet.text(r, 6, labels.yes(item.is_different), fmt(align="center", **fill))
        sheet.text(r, 7, item.note or "", fmt(text_wrap=True, **fill))
        sheet.text(r, 8, f"{item.pack_file}（{item.value_cell}）", fmt(**fill))
        r += 1
    units = {i.unit_code for i in ye.selfcheck}
    back = {i.unit_code for i in returned}
    for unit in ye.units:  # one row per unit whose pack did not come back
        if unit.code in units - back:
            sheet.text(r, 0, unit.name, fmt(font_color="#7F7F7F"))
            sheet.text(r, 2, "未交回自评表", fmt(font_color="#7F7F7F"))
            r += 1
    differing = sum(1 for i in returned if i.is_different)
    note = (
        f"交回自评表的单位 {len(back)} 个，未交回 {len(units - back)} 个；与就业中心登记不同之处"
        f" {differing} 处（黄色底纹），提交学指委审核。得分以就业中心的审核为准。"
    )
    sheet.text(r + 1, 0, note, fmt(border=0))
    ws.set_column(0, 0, 36)
    ws.set_column(1, 1, 6)
    ws.set_column(2, 2, 26)
    ws.set_column(3, 6, 12)
    ws.set_column(7, 7, 40)
    ws.set_column(8, 8, 44)
    ws.freeze_panes(HEADER_ROW + 1, 1)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)


def _provenance_sheet(wb: Workbook, fmt: _Formats, ye: YearEnd) -> None:
    """Every item of the provenance on its own row, the as-of date and the generation time as
    real dates."""
    sheet = _Sheet(wb, fmt, PROVENANCE_SHEET)
    ws = sheet.ws
    p = ye.provenance
    _title(sheet, ye, "数据来源", 2)
    sheet.texts(HEADER_ROW, ("项目", "内容"), fmt(bold=True, bg_color=HEADER_FILL))
    key, text = fmt(bold=True, valign="top"), fmt(text_wrap=True, valign="top")
    rows: list[tuple[str, object, Format]] = [
        ("年度", ye.year, fmt(num_format="0", align="left")),
        ("状态", ye.status_name, text),
        ("政策文号", p.policy, text),
        ("政策名称", p.policy_title, text),
        ("评估日期", p.as_of, fmt(num_format=DATE_FORMAT, align="left")),
        ("最新导出数据", ye.latest_export, fmt(num_format=DATE_FORMAT, align="left")),
        ("生成时间（北京时间）", p.generated_at, fmt(num_format=DATETIME_FORMAT, align="left")),
        ("规则文件", p.rules_file, text),
        ("规则文件 SHA256", p.rules_sha256, text),
        ("运行编号", p.run_id, text),
        ("程序版本", p.code_version, text),
        ("输入文件数", p.input_files, fmt(num_format="0", align="left")),
    ]
    for r, (label, value, cell) in enumerate(rows, start=HEADER_ROW + 1):
        sheet.text(r, 0, label, key)
        if isinstance(value, dt.date | dt.datetime) or value is None:
            sheet.date(r, 1, value, cell)
        elif isinstance(value, int):
            sheet.number(r, 1, value, cell)
        else:
            sheet.text(r, 1, value, cell)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 90)
