"""The blank submissions ledger (docs/输入文件格式.md, 单位材料登记表) for the centre to fill
in: one row per unit with its full name and the year, the Chinese headers ingestion reads,
a note on every header and Excel data validation on every column (the same bounds
ingestion enforces)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

from employment_eval.ingest.schema import SUBMISSION_COLUMNS
from employment_eval.reference import read_seed

SHEET = "单位材料登记表"
UNIT_SHEET = "单位名单"
GUIDE_SHEET = "填写说明"


def _rules(year: int, units: int) -> dict[str, tuple[dict, str]]:
    """Column name → (xlsxwriter validation, header note)."""
    count = {"validate": "integer", "criteria": ">=", "value": 0}

    def between(kind: str, low: object, high: object) -> dict:
        return {"validate": kind, "criteria": "between", "minimum": low, "maximum": high}

    return {
        "unit": (
            {"validate": "list", "source": f"='{UNIT_SHEET}'!$A$2:$A${units + 1}"},
            "单位全称（已预填，可从下拉列表选择）。每个单位一行，不得重复。",
        ),
        "year": (
            {"validate": "integer", "criteria": "==", "value": year},
            f"评估年度（已预填 {year}）。",
        ),
        "i1_review_score": (
            between("decimal", 0, 5),
            "I1 就业工作组织：就业指导中心审核得分，0–5 分，可有小数。空白按 0 分计并提示。",
        ),
        "i2_complaints": (
            count,
            "I2 优秀毕业生评选：合理投诉次数，非负整数（0 表示无投诉）。",
        ),
        "i4_review_score": (
            between("decimal", 0, 20),
            "I4 未就业学生排摸：就业指导中心审核得分，0–20 分，可有小数。",
        ),
        "i4_report_date": (
            {
                **between("date", dt.date(year - 1, 7, 1), dt.date(year, 12, 31)),
                "error_type": "warning",
            },
            "I4 未就业学生调研报告提交日期（如 2021-03-20）；未提交留空。只作标记，不计分。",
        ),
        "i5_meeting_date": (
            {
                **between("date", dt.date(year, 1, 1), dt.date(year, 12, 31)),
                "error_type": "warning",
            },
            "I5 就业动员会召开日期（如 2021-10-15）；未召开留空。",
        ),
        "i5_talks": (count, "I5 职业导师/校友座谈次数，非负整数。"),
        "i7_forms": (count, "I7 《职业咨询与辅导信息登记表》份数，非负整数。"),
        "i8_stories": (count, "I8 成长成才故事篇数，非负整数。"),
    }


def _message(header: str, note: str) -> dict:
    return {
        "input_title": header[:32],
        "input_message": note[:255],
        "error_title": "数值不符合要求",
        "error_message": f"「{header}」：{note}"[:255],
    }


def write_template(path: Path, year: int) -> Path:
    units = sorted(read_seed("units"), key=lambda r: int(r["sort_order"]))
    rules = _rules(year, len(units))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"title": f"{year} 年度单位材料登记表", "author": "就业指导中心"})
    head = wb.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
    )
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet(SHEET)  # the first sheet: the one ingestion reads
    last = len(units)
    for c, col in enumerate(SUBMISSION_COLUMNS):
        validation, note = rules[col.name]
        ws.write_string(0, c, col.header, head)
        ws.write_comment(0, c, note, {"author": "就业指导中心", "x_scale": 1.8, "y_scale": 1.2})
        ws.data_validation(1, c, last, c, {**validation, **_message(col.header, note)})
        width = 40 if col.name == "unit" else max(12, 2 * len(col.header) + 2)
        ws.set_column(c, c, width, date if validation["validate"] == "date" else None)
    for r, unit in enumerate(units, start=1):
        ws.write_string(r, 0, unit["unit_name"])
        ws.write_number(r, 1, year)
    ws.set_row(0, 36)
    ws.freeze_panes(1, 1)

    guide = wb.add_worksheet(GUIDE_SHEET)
    guide.set_column(0, 0, 34)
    guide.set_column(1, 1, 90)
    guide.write_row(0, 0, ["列", "说明"], head)
    for r, col in enumerate(SUBMISSION_COLUMNS, start=1):
        guide.write_string(r, 0, f"{col.header}（{col.name}）")
        guide.write_string(r, 1, rules[col.name][1])
    guide.write_string(
        len(SUBMISSION_COLUMNS) + 2,
        0,
        f"填好后存为 submissions/submissions_{year}.xlsx；只读取第一个工作表。"
        "空白单元格按 0 分计并提示，记分板保持「暂定」，直至每个单位的各项都已填写。",
    )

    names = wb.add_worksheet(UNIT_SHEET)
    names.write_string(0, 0, "单位")
    for r, unit in enumerate(units, start=1):
        names.write_string(r, 0, unit["unit_name"])
    names.hide()
    wb.close()
    return path
