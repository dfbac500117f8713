"""Each unit's follow-up list (personal data, restricted): every night, one xlsx per unit in
`<work folder>/followup/<year>/<as-of>/<unit_code>_<short name>.xlsx` (folders 0700, files
0600), never beside the published marts. A run writes only its own year's folder: the lists of
another year are never replaced.

A unit's file lists its own graduates who are not counted as employed on the latest export,
in three groups (intermediate.int_followup_graduates; each graduate in exactly one):
  已登记就业、待鉴证         destination counts toward the rate, record not yet verified;
  未就业                     destination does not count (with the code's meaning);
  上一节点已计入、此后被取消  counted at the last node on or before --as-of, not any more
                             (checked first: such a graduate is in this group only).
Rows show 学号, 姓名, 学历, the destination (code and label), the employer, the verification
status and date, and the export on which the record last changed. Only the last N nights are
kept (RunOptions.keep_followup)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import xlsxwriter

from employment_eval import fsmodes, textsafe
from employment_eval.render.yearend.data import DEGREE_NAMES, DEGREE_ORDER
from employment_eval.render.yearend.workbook import (
    DATE_FORMAT,
    HEADER_FILL,
    WORKBOOK_OPTIONS,
    _Formats,
    _Sheet,
)

FOLDER = "followup"
NIGHT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SHEET = "跟进名单"
NOTES_SHEET = "说明"
# (group code, heading, what it means) in the order the file shows them
GROUPS = (
    (
        "pending_verification",
        "已登记就业、待鉴证",
        "毕业去向计入就业率，但尚未鉴证（或鉴证日期晚于该次导出日期）：请尽快完成鉴证。",
    ),
    (
        "not_employed",
        "未就业",
        "毕业去向不计入就业率（如待就业、不就业拟升学、其他暂不就业）：请跟进落实去向。",
    ),
    (
        "cancelled_since_node",
        "上一节点已计入、此后被取消",
        "在上一时间节点已计入就业，最新导出中不再计入（去向改变或鉴证被撤销）：请核实原因。",
    ),
)
GROUP_NAMES = {code: name for code, name, _ in GROUPS}
HEADERS = (
    "序号",
    "学号",
    "姓名",
    "学历",
    "毕业去向代码",
    "毕业去向",
    "就业单位",
    "鉴证状态",
    "鉴证日期",
    "最近变动的导出",
    "计入就业的节点",
)
HEADING_FILL = "#FCE4D6"
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


@dataclass(frozen=True)
class Graduate:
    student_id: str
    name: str
    degree: str
    group: str
    destination_code: str
    destination_label: str
    employer: str
    is_verified: bool
    verification_date: dt.date | None
    last_changed_on: dt.date | None
    counted_at_node: dt.date | None


@dataclass(frozen=True)
class UnitList:
    code: str
    name: str
    short_name: str
    graduates: tuple[Graduate, ...]

    def group(self, code: str) -> list[Graduate]:
        return [g for g in self.graduates if g.group == code]


@dataclass(frozen=True)
class Header:
    """What every file says about itself (no personal data)."""

    year: int
    as_of: dt.date
    latest_export: dt.date | None
    run_id: str
    generated_at: dt.datetime | None


def root(work_dir: Path) -> Path:
    return work_dir / FOLDER


def year_dir(work_dir: Path, year: int) -> Path:
    return root(work_dir) / str(year)


def night_dir(work_dir: Path, year: int, as_of: dt.date) -> Path:
    return year_dir(work_dir, year) / as_of.isoformat()


def previous_night(work_dir: Path, year: int, as_of: dt.date) -> Path | None:
    """The newest night's lists of `year` on or before `as_of`, if any."""
    base = year_dir(work_dir, year)
    if not base.is_dir():
        return None
    nights = sorted(
        p for p in base.iterdir() if p.is_dir() and NIGHT.match(p.name) and p.name <= str(as_of)
    )
    return nights[-1] if nights else None


def file_name(code: str, short_name: str) -> str:
    """`<unit_code>_<short name>.xlsx`, with no character a file system would refuse."""
    safe = _UNSAFE_NAME.sub("_", textsafe.clean(short_name)).strip(" .") or code
    return f"{code}_{safe}.xlsx"


def read_lists(con: duckdb.DuckDBPyConnection, year: int) -> tuple[dt.date | None, list[UnitList]]:
    """Every unit of the reference data with its graduates to follow up (latest export)."""
    units = con.execute(
        "select unit_code, unit_name, short_name from reference.units order by sort_order"
    ).fetchall()
    cur = con.execute(
        """select unit_code, student_id, student_name, degree, followup_group, destination_code,
                  destination_label, employer_name, is_verified, verification_date,
                  last_changed_on, counted_at_node, as_of_date
           from intermediate.int_followup_graduates where year = ?""",
        [year],
    )
    by_unit: dict[str, list[Graduate]] = {}
    latest: dt.date | None = None
    for row in cur.fetchall():
        latest = row[12]
        by_unit.setdefault(row[0], []).append(
            Graduate(
                student_id=row[1] or "",
                name=row[2] or "",
                degree=row[3],
                group=row[4],
                destination_code=row[5] or "",
                destination_label=row[6] or "",
                employer=row[7] or "",
                is_verified=bool(row[8]),
                verification_date=row[9],
                last_changed_on=row[10],
                counted_at_node=row[11],
            )
        )
    if latest is None:
        found = con.execute(
            "select max(as_of_date) from intermediate.int_graduates where year = ?", [year]
        ).fetchone()
        latest = found[0] if found else None
    order = {d: i for i, d in enumerate(DEGREE_ORDER)}
    return latest, [
        UnitList(
            code,
            name,
            short or name,
            tuple(sorted(by_unit.get(code, []), key=lambda g: (order[g.degree], g.student_id))),
        )
        for code, name, short in units
    ]


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


def _intro(unit: UnitList, header: Header) -> list[str]:
    counts = "，".join(f"{name} {len(unit.group(code))} 人" for code, name, _ in GROUPS)
    generated = header.generated_at.strftime("%Y-%m-%d %H:%M:%S") if header.generated_at else ""
    latest = header.latest_export.isoformat() if header.latest_export else "无"
    return [
        f"{header.year} 年度就业跟进名单 · {unit.name}",
        f"最新导出 {latest} 中尚未计入就业的本单位毕业生 {len(unit.graduates)} 人：{counts}。"
        "含个人信息，仅限本单位就业工作使用，请勿外传。",
        f"评估日期 {header.as_of.isoformat()} · 生成于 {generated} · 运行编号 {header.run_id}",
    ]


def _list_sheet(wb, fmt: _Formats, unit: UnitList, header: Header) -> None:
    sheet = _Sheet(wb, fmt, SHEET)
    ws = sheet.ws
    last = len(HEADERS) - 1
    title, note, source = _intro(unit, header)
    sheet.merged(0, last, title, wb.add_format({"bold": True, "font_size": 16}))
    sheet.merged(1, last, note, wb.add_format({"font_color": "#C00000", "text_wrap": True}))
    grey = wb.add_format({"font_color": "#595959", "font_size": 9})
    sheet.merged(2, last, source, grey)
    ws.set_row(1, 32)
    heading = fmt(bold=True, bg_color=HEADING_FILL, text_wrap=True, valign="vcenter")
    head = fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True, align="center")
    text, day = fmt(), fmt(num_format=DATE_FORMAT, align="center")
    r = 4
    for number, (code, name, meaning) in enumerate(GROUPS, start=1):
        rows = unit.group(code)
        sheet.merged(r, last, f"{_ordinal(number)}、{name}（{len(rows)} 人）——{meaning}", heading)
        ws.set_row(r, 30)
        sheet.texts(r + 1, HEADERS, head)
        r += 2
        if not rows:
            sheet.merged(r, last, "无", text)
            r += 2
            continue
        for i, g in enumerate(rows, start=1):
            sheet.number(r, 0, i, fmt(align="center"))
            sheet.text(r, 1, g.student_id, text)
            sheet.text(r, 2, g.name, text)
            sheet.text(r, 3, DEGREE_NAMES.get(g.degree, g.degree), text)
            sheet.text(r, 4, g.destination_code, text)
            sheet.text(r, 5, g.destination_label, text)
            sheet.text(r, 6, g.employer, text)
            sheet.text(r, 7, "已鉴证" if g.is_verified else "未鉴证", text)
            sheet.date(r, 8, g.verification_date, day)
            sheet.date(r, 9, g.last_changed_on, day)
            sheet.date(r, 10, g.counted_at_node, day)
            r += 1
        r += 1
    for col, width in enumerate((6, 16, 12, 6, 12, 20, 30, 10, 12, 14, 14)):
        ws.set_column(col, col, width)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_footer("&L&8含个人信息，请勿外传&R&8第 &P 页，共 &N 页")


def _notes_sheet(wb, fmt: _Formats, unit: UnitList, header: Header) -> None:
    sheet = _Sheet(wb, fmt, NOTES_SHEET)
    key, wrap = fmt(bold=True, valign="top"), fmt(text_wrap=True, valign="top")
    rows = [
        ("名单", "最新导出中本单位尚未计入就业的毕业生（本年度毕业、不含结业），每人只列一次。"),
        ("计入就业", "毕业去向计入就业率，且已鉴证、鉴证日期不晚于该次导出日期（评估规则 D2）。"),
        *[(name, meaning) for _, name, meaning in GROUPS],
        ("分组顺序", "先看上一节点是否已计入（第三组），"
                     "其余按毕业去向是否计入就业率分为第一、二组。"),
        ("最近变动的导出", "该生记录（单位、学历、毕业去向、就业单位、鉴证状态或日期）"
                           "最近一次发生变化的导出日期。"),
        ("计入就业的节点", "第三组：该生计入就业的上一时间节点。"),
        *[(k, v) for k, v in zip(("标题", "说明", "来源"), _intro(unit, header), strict=True)],
    ]  # fmt: skip
    sheet.texts(0, ("项目", "含义"), fmt(bold=True, bg_color=HEADER_FILL))
    for r, (label, meaning) in enumerate(rows, start=1):
        sheet.text(r, 0, label, key)
        sheet.text(r, 1, meaning, wrap)
    sheet.ws.set_column(0, 0, 18)
    sheet.ws.set_column(1, 1, 100)


def _ordinal(n: int) -> str:
    return "一二三四五六七八九十"[n - 1]


def write_followup_lists(
    con: duckdb.DuckDBPyConnection,
    work_dir: Path,
    year: int,
    as_of: dt.date,
    run_id: str,
    keep: int,
    generated_at: dt.datetime | None = None,
) -> Path:
    """Write the night's lists (one file per unit) into followup/<year>/<as-of>/, replacing
    that night's previous lists of the year as a whole, then keep only the year's `keep` most
    recent nights."""
    fsmodes.private_dir(root(work_dir))
    base = fsmodes.private_dir(year_dir(work_dir, year))
    if generated_at is None:
        found = con.execute(
            "select generated_at from meta.run_facts where run_id = ?", [run_id]
        ).fetchone()
        generated_at = found[0] if found else None
    latest, units = read_lists(con, year)
    header = Header(year, as_of, latest, run_id, generated_at)
    target = night_dir(work_dir, year, as_of)
    temp = fsmodes.private_dir(base / f".{as_of.isoformat()}.{run_id}.writing")
    try:
        for unit in units:
            write_unit_file(unit, header, temp / file_name(unit.code, unit.short_name))
        old = base / f".{as_of.isoformat()}.{run_id}.old"
        if target.exists():
            os.replace(target, old)
        os.replace(temp, target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    prune(base, keep, current=target)
    return target


def prune(base: Path, keep: int, current: Path | None = None) -> list[Path]:
    """Keep the `keep` most recent nights (folder names are the as-of dates); the night just
    written is always kept. Leftovers of an interrupted run (hidden folders) are removed (the
    caller holds the run lock of the working database)."""
    nights = sorted(p for p in base.iterdir() if p.is_dir() and NIGHT.match(p.name))
    removed = [p for p in nights[: max(len(nights) - keep, 0)] if p != current]
    removed += [p for p in base.iterdir() if p.name.startswith(".") and p.is_dir()]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed
