"""scoreboard_<year>.xlsx: a sheet per group (rank, total, I1–I9 after adjustment, advanced
units filled green, adjusted cells filled amber with a comment), the milestone rates and the
committee's adjustments. Chinese headers; the title row says 暂定 while not final."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from employment_eval.yearend import labels
from employment_eval.yearend.data import (
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
HEADER_ROW = 2  # 0: title, 1: note, 2: headers


class _Formats:
    """xlsxwriter formats made once per workbook, keyed by their properties."""

    def __init__(self, wb: Workbook):
        self.wb = wb
        self.cache: dict[tuple, object] = {}

    def __call__(self, **props: object):
        key = tuple(sorted(props.items()))
        if key not in self.cache:
            self.cache[key] = self.wb.add_format({"font_name": "等线", "border": 1, **props})
        return self.cache[key]


def write_workbook(ye: YearEnd, path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    wb.set_properties({"title": labels.title(ye), "author": "就业指导中心"})
    fmt = _Formats(wb)
    for group in GROUP_ORDER:
        _group_sheet(wb, fmt, ye, group)
    _milestone_sheet(wb, fmt, ye)
    _adjustment_sheet(wb, fmt, ye)
    wb.close()
    return path


def _title(ws: Worksheet, wb: Workbook, ye: YearEnd, heading: str, width: int) -> None:
    final = ye.is_final
    big = wb.add_format(
        {"bold": True, "font_size": 16, "font_color": "#000000" if final else "#C00000"}
    )
    ws.merge_range(0, 0, 0, width - 1, f"{labels.title(ye)} · {heading}", big)
    note = (
        labels.provisional_note(ye)
        if not final
        else f"最终结果；数据截至 {labels.day(ye.latest_export)}。"
    )
    small = wb.add_format({"font_color": "#C00000" if not final else "#404040", "text_wrap": True})
    ws.merge_range(1, 0, 1, width - 1, note, small)
    ws.set_row(0, 28)
    ws.set_row(1, 32)


def _group_sheet(wb: Workbook, fmt: _Formats, ye: YearEnd, group: str) -> None:
    name = GROUP_NAMES[group]
    ws = wb.add_worksheet(name)
    headers = [
        "名次",
        "单位",
        "总分",
        *[f"{i.label}（{i.base_points}分）" for i in ye.indicators],
        "先进单位",
        "备注",
    ]
    _title(ws, wb, ye, f"{name}（先进名额 {ye.quotas.get(group, 0)}）", len(headers))
    header = fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True, align="center", valign="vcenter")
    ws.write_row(HEADER_ROW, 0, headers, header)
    ws.set_row(HEADER_ROW, 45)
    for r, unit in enumerate(ye.group(group), start=HEADER_ROW + 1):
        fill = {"bg_color": ADVANCED_FILL} if unit.is_advanced else {}
        ws.write_number(r, 0, unit.rank, fmt(align="center", **fill))
        ws.write_string(r, 1, unit.name, fmt(**fill))
        ws.write_number(r, 2, float(unit.total), fmt(num_format="0.00", bold=True, **fill))
        for c, ind in enumerate(ye.indicators, start=3):
            score = unit.scores.get(ind.code)
            if score is None:
                ws.write_blank(r, c, None, fmt(**fill))
                continue
            cell_fill = {"bg_color": ADJUSTED_FILL} if score.adjusted else fill
            ws.write_number(r, c, float(score.points), fmt(num_format="0.00", **cell_fill))
            if score.adjusted:
                ws.write_comment(
                    r, c, labels.adjustment_note(score), {"x_scale": 2.2, "y_scale": 1.6}
                )
        c = 3 + len(ye.indicators)
        ws.write_string(r, c, "先进单位" if unit.is_advanced else "", fmt(align="center", **fill))
        ws.write_string(r, c + 1, unit.remark, fmt(font_color="#C00000", **fill))
    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2 + len(ye.indicators), 10)
    ws.set_column(3 + len(ye.indicators), 3 + len(ye.indicators), 10)
    ws.set_column(4 + len(ye.indicators), 4 + len(ye.indicators), 30)
    ws.freeze_panes(HEADER_ROW + 1, 2)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    legend = HEADER_ROW + 2 + len(ye.group(group))
    ws.write_string(legend, 1, "绿色底纹：先进单位", fmt(bg_color=ADVANCED_FILL))
    ws.write_string(
        legend + 1,
        1,
        "黄色底纹：学指委调整的得分（批注含计算值、理由、审批人）",
        fmt(bg_color=ADJUSTED_FILL),
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
    ws = wb.add_worksheet(MILESTONE_SHEET)
    _title(ws, wb, ye, "时间节点就业率", len(MILESTONE_HEADERS))
    header = fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True, align="center")
    ws.write_row(HEADER_ROW, 0, MILESTONE_HEADERS, header)
    order = {u.code: i for i, u in enumerate(ye.units)}
    nodes = sorted(
        ye.nodes,
        key=lambda n: (order.get(n.unit_code, 99), DEGREE_ORDER.index(n.degree), n.milestone_date),
    )
    text, num, pct = fmt(), fmt(num_format="0"), fmt(num_format="0.00%")
    groups = {u.code: GROUP_NAMES[u.group] for u in ye.units}
    for r, n in enumerate(nodes, start=HEADER_ROW + 1):
        met = n.employed >= n.required
        ws.write_string(r, 0, ye.unit_name(n.unit_code), text)
        ws.write_string(r, 1, groups.get(n.unit_code, ""), text)
        ws.write_string(r, 2, DEGREE_NAMES.get(n.degree, n.degree), text)
        ws.write_string(r, 3, n.milestone_date.isoformat(), text)
        ws.write_number(r, 4, n.graduates, num)
        ws.write_number(r, 5, n.employed, num)
        ws.write_number(r, 6, float(n.rate), pct)
        ws.write_number(r, 7, float(n.target), pct)
        ws.write_number(r, 8, n.required, num)
        ws.write_string(r, 9, labels.yes(met), fmt(font_color="#006100" if met else "#C00000"))
        ws.write_number(r, 10, n.bonus, num)
        ws.write_number(r, 11, float(n.deduction), fmt(num_format="0.00"))
        ws.write_string(r, 12, labels.day(n.snapshot_date), text)
        ws.write_string(r, 13, labels.yes(n.reconstructed), text)
        ws.write_string(r, 14, STATUS_NAMES.get(n.status, n.status), text)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 14)
    ws.set_column(2, 14, 11)
    ws.freeze_panes(HEADER_ROW + 1, 1)
    if nodes:
        ws.autofilter(HEADER_ROW, 0, HEADER_ROW + len(nodes), len(MILESTONE_HEADERS) - 1)


ADJUSTMENT_HEADERS = ("单位", "指标", "计算值", "调整后分值", "理由", "审批人", "日期")


def _adjustment_sheet(wb: Workbook, fmt: _Formats, ye: YearEnd) -> None:
    ws = wb.add_worksheet(ADJUSTMENT_SHEET)
    _title(ws, wb, ye, "学指委审核调整", len(ADJUSTMENT_HEADERS))
    ws.write_row(HEADER_ROW, 0, ADJUSTMENT_HEADERS, fmt(bold=True, bg_color=HEADER_FILL))
    text, wrap, num = fmt(), fmt(text_wrap=True), fmt(num_format="0.00", bg_color=ADJUSTED_FILL)
    r = HEADER_ROW + 1
    for unit, ind, score in ye.adjustments():
        ws.write_string(r, 0, unit.name, text)
        ws.write_string(r, 1, ind.label, text)
        ws.write_number(r, 2, float(score.computed), fmt(num_format="0.00"))
        ws.write_number(r, 3, float(score.points), num)
        ws.write_string(r, 4, score.reason or "", wrap)
        ws.write_string(r, 5, score.approved_by or "", text)
        ws.write_string(r, 6, labels.day(score.adjusted_on), text)
        r += 1
    for unit in ye.units:
        if unit.decided_by_committee:
            ws.write_string(r, 0, unit.name, text)
            ws.write_string(r, 1, "先进单位（名额线并列）", text)
            ws.write_string(r, 2, "并列", text)
            ws.write_string(r, 3, labels.yes(unit.is_advanced), text)
            ws.write_string(r, 4, "学指委决定（理由、审批人见调整文件）", wrap)
            ws.write_string(r, 5, "", text)
            ws.write_string(r, 6, "", text)
            r += 1
    if r == HEADER_ROW + 1:
        ws.write_string(r, 0, "无", text)
        ws.write_string(r, 1, "本年度学指委未调整任何得分", text)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 3, 11)
    ws.set_column(4, 4, 40)
    ws.set_column(5, 6, 12)
