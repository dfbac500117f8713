"""Self-check packs (三、评估程序 stage 1, 自评): one workbook per unit, written from the
published marts file alone (opened read-only) — only that unit's figures, no personal data:

- 「自评表」 (first sheet, the one that comes back): the six ledger indicators' eight cells as
  the centre holds them (marts.selfcheck_items) and the points each indicator gets, with a
  column for the unit's own figure (单位自报, with the ledger's bounds as Excel validation) and
  a note (说明); every other cell is locked;
- 「时间节点就业率」: per degree and node, the rate against the target and the points (I3);
- 「特定群体」: the special-group cells against the 15 Dec target (I6);
- 「就业引导单位」: the guided share against its target (I9);
- 「填写说明」: how to fill it in and return it, and where the figures come from.

The packs are public files (no personal data) written into `<marts folder>/selfcheck_<year>/`
by default, one per unit, named as they must come back (layout.pack_name)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import xlsxwriter

from employment_eval import fsmodes
from employment_eval.publish import fetch_dicts, open_published
from employment_eval.render import formats as labels
from employment_eval.render.yearend.data import (
    DEGREE_NAMES,
    DEGREE_ORDER,
    NoDataError,
    NodeRate,
    Provenance,
    _provenance,
    node_rates,
)
from employment_eval.render.yearend.workbook import (
    HEADER_FILL,
    WORKBOOK_OPTIONS,
    _Formats,
    _Sheet,
    document_properties,
)
from employment_eval.selfcheck import layout
from employment_eval.selfcheck.published import ItemFigure, read_items

INPUT_FILL = "#FFF2CC"  # the cells the unit fills in
NODES_SHEET = "时间节点就业率"
GROUPS_SHEET = "特定群体"
GUIDED_SHEET = "就业引导单位"
GUIDE_SHEET = "填写说明"
STATUS = {"final": "最终", "provisional": "暂定"}


@dataclass(frozen=True)
class UnitPack:
    code: str
    name: str
    short_name: str
    items: tuple[ItemFigure, ...]
    points: dict[str, Decimal]  # indicator → points (after adjustments)
    details: dict[str, str]  # indicator → how the points came about
    nodes: tuple[NodeRate, ...]
    groups: tuple[dict, ...]  # marts.special_group_rates rows
    guided: dict | None  # marts.guided_employment row


@dataclass(frozen=True)
class Packs:
    year: int
    status: str
    provenance: Provenance
    bases: dict[str, tuple[str, int]]  # indicator → (name, base points)
    guided_target: Decimal  # I9's target share
    group_names: dict[str, str]
    units: tuple[UnitPack, ...] = field(default_factory=tuple)

    @property
    def as_of(self) -> dt.date:
        return self.provenance.as_of


def read_packs(marts_path: Path, year: int) -> Packs:
    con = open_published(marts_path)
    try:
        return _read(con, year)
    finally:
        con.close()


def _read(con: duckdb.DuckDBPyConnection, year: int) -> Packs:
    units = fetch_dicts(
        con,
        "select s.unit_code, s.unit_name, s.status, u.short_name from marts.scoreboard s "
        "join reference.units u using (unit_code) where s.year = ? order by u.sort_order",
        [year],
    )
    if not units:
        raise NoDataError(f"{year} 年没有可评估的数据（发布数据库中没有该年度的记分板）。")
    provenance, _ = _provenance(con, year)
    bases = {
        r["indicator"]: (r["indicator_name"], int(r["base_points"]))
        for r in fetch_dicts(con, "select * from reference.rule_indicators where year = ?", [year])
    }
    (target_bp,) = con.execute(
        "select i9_target_bp from reference.rule_years where year = ?", [year]
    ).fetchone()
    scores = fetch_dicts(con, "select * from marts.indicator_scores where year = ?", [year])
    items = read_items(con, year)
    nodes = node_rates(con, year)
    groups = fetch_dicts(
        con,
        "select * from marts.special_group_rates where year = ? "
        "order by unit_code, special_group, degree",
        [year],
    )
    guided = {
        r["unit_code"]: r
        for r in fetch_dicts(con, "select * from marts.guided_employment where year = ?", [year])
    }
    names = {
        r["special_group"]: r["special_group_name"]
        for r in fetch_dicts(con, "select * from reference.special_groups")
    }
    return Packs(
        year=year,
        status="final" if all(u["status"] == "final" for u in units) else "provisional",
        provenance=provenance,
        bases=bases,
        guided_target=Decimal(int(target_bp)) / 10000,
        group_names={**names, "pooled": "特定群体合计"},
        units=tuple(
            UnitPack(
                code=u["unit_code"],
                name=u["unit_name"],
                short_name=u["short_name"] or u["unit_name"],
                items=tuple(i for i in items if i.unit_code == u["unit_code"]),
                points={
                    s["indicator"]: s["points"] for s in scores if s["unit_code"] == u["unit_code"]
                },
                details={
                    s["indicator"]: s["detail"] or ""
                    for s in scores
                    if s["unit_code"] == u["unit_code"]
                },
                nodes=tuple(n for n in nodes if n.unit_code == u["unit_code"]),
                groups=tuple(g for g in groups if g["unit_code"] == u["unit_code"]),
                guided=guided.get(u["unit_code"]),
            )
            for u in units
        ),
    )


def write_packs(packs: Packs, out_dir: Path) -> list[Path]:
    """One workbook per unit into out_dir (a published folder); each written under a temporary
    name and renamed into place."""
    fsmodes.public_dir(out_dir)
    paths = []
    for unit in packs.units:
        path = out_dir / layout.pack_name(packs.year, unit.code, unit.short_name)
        temp = path.with_name(f".{path.name}.writing")
        try:
            write_pack(packs, unit, temp)
            fsmodes.make_public(temp)
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        paths.append(path)
    return paths


def _source_line(packs: Packs) -> str:
    p = packs.provenance
    return (
        f"依据 {p.policy} · 数据截至 {p.as_of.isoformat()}（{STATUS[packs.status]}） · "
        f"规则 {p.rules_version} · 运行编号 {p.run_id}"
    )


def write_pack(packs: Packs, unit: UnitPack, path: Path) -> Path:
    with xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS) as wb:
        title = f"{packs.year} 年度毕业生就业工作自评表 · {unit.name}"
        document_properties(wb, packs.provenance, title, _source_line(packs))
        fmt = _Formats(wb)
        _ledger_sheet(wb, fmt, packs, unit)
        _nodes_sheet(wb, fmt, packs, unit)
        _groups_sheet(wb, fmt, packs, unit)
        _guided_sheet(wb, fmt, packs, unit)
        _guide_sheet(wb, fmt, packs)
    return path


def _head(sheet: _Sheet, fmt: _Formats, packs: Packs, unit: UnitPack, heading: str, width: int):
    big = fmt(bold=True, font_size=15, border=0)
    sheet.merged(0, width - 1, f"{packs.year} 年度毕业生就业工作自评 · {heading}", big)
    grey = fmt(font_color="#595959", font_size=9, text_wrap=True, border=0)
    sheet.merged(1, width - 1, f"{unit.name} · {_source_line(packs)}", grey)
    sheet.ws.set_row(1, 26)
    sheet.ws.set_paper(9)
    sheet.ws.set_footer(f"&L&8{unit.short_name} 自评表 · {packs.year} 年度&R&8第 &P 页，共 &N 页")


def _validation(item: ItemFigure, packs: Packs) -> dict:
    if item.value_kind == "score":
        base = packs.bases[item.indicator][1]
        rule = {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": base}
        note = f"0–{base} 分，最多两位小数"
    elif item.value_kind == "count":
        rule = {"validate": "integer", "criteria": ">=", "value": 0}
        note = "不小于 0 的整数"
    else:
        rule = {
            "validate": "date",
            "criteria": "between",
            "minimum": dt.date(packs.year - 1, 1, 1),
            "maximum": dt.date(packs.year, 12, 31),
            "error_type": "warning",
        }
        note = "日期，如 2021-10-15"
    return {
        **rule,
        "input_title": item.label[:32],
        "input_message": f"本单位的数字：{note}。与左边就业中心登记相同可留空。"[:255],
        "error_title": "数值不符合要求",
        "error_message": f"「{item.label}」应为{note}。"[:255],
    }


def _ledger_sheet(wb, fmt: _Formats, packs: Packs, unit: UnitPack) -> None:
    sheet = _Sheet(wb, fmt, layout.SHEET)
    ws = sheet.ws
    width = len(layout.ITEM_HEADERS)
    big = fmt(bold=True, font_size=16, border=0)
    sheet.merged(0, width - 1, f"{packs.year} 年度毕业生就业工作自评表", big)
    policy = packs.provenance.policy_title or packs.provenance.policy
    note = (
        f"请对照《{policy}》自查：在黄色的「单位自报」"
        "列填写本单位的数字（与就业中心登记相同的可留空），有不同意见在「说明」列写明依据。其余"
        "各列是就业中心现有的数据，已锁定。填好后保存，不要改文件名，交回就业中心。"
        "得分以就业中心审核为准，不同之处提交学生工作指导委员会审核。"
    )
    sheet.merged(1, width - 1, note, fmt(text_wrap=True, border=0, font_color="#404040"))
    ws.set_row(0, 28)
    ws.set_row(1, 48)
    key = fmt(bold=True)
    ids = (
        (layout.UNIT_LABEL, unit.name),
        (layout.YEAR_LABEL, packs.year),
        ("数据截至", f"{packs.as_of.isoformat()}（{STATUS[packs.status]}）"),
    )
    for r, (label, value) in enumerate(ids, start=layout.ID_ROWS[layout.UNIT_LABEL] - 1):
        sheet.text(r, 0, label, key)
        if isinstance(value, int):
            ws.write_number(r, 1, value, fmt(align="left"))
        else:
            sheet.text(r, 1, value, fmt())
    header_row = layout.HEADER_ROW - 1
    sheet.texts(
        header_row, layout.ITEM_HEADERS, fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True)
    )
    ws.set_row(header_row, 30)
    unlocked = {"locked": False, "bg_color": INPUT_FILL}
    for r, item in enumerate(unit.items, start=header_row + 1):
        name = packs.bases[item.indicator][0]
        sheet.text(r, layout.INDICATOR_COL, f"{item.indicator} {name}", fmt())
        sheet.text(r, layout.ITEM_COL, item.label, fmt())
        if item.value_kind == "date":
            sheet.date(
                r, layout.CENTRE_COL, item.centre_date, fmt(num_format="yyyy-mm-dd", align="left")
            )
        elif item.centre_number is None:
            ws.write_blank(r, layout.CENTRE_COL, None, fmt())
        else:
            sheet.number(
                r, layout.CENTRE_COL, item.centre_number, fmt(num_format="0.##", align="left")
            )
        sheet.number(
            r,
            layout.POINTS_COL,
            unit.points.get(item.indicator, Decimal(0)),
            fmt(num_format="0.00"),
        )
        value_fmt = (
            fmt(**unlocked, num_format="yyyy-mm-dd")
            if item.value_kind == "date"
            else fmt(**unlocked)
        )
        ws.write_blank(r, layout.VALUE_COL, None, value_fmt)
        ws.write_blank(r, layout.NOTE_COL, None, fmt(**unlocked, text_wrap=True))
        ws.data_validation(r, layout.VALUE_COL, r, layout.VALUE_COL, _validation(item, packs))
    last = header_row + len(unit.items)
    legend = [
        "「就业中心登记」空白：登记表中该项尚未填写，该指标暂按 0 分计。",
        "同一指标的几项（如 I4、I5）共用一个得分；得分的计算见各指标说明：",
    ]
    legend += [
        f"{code} {packs.bases[code][0]}：{unit.details.get(code, '')}"
        for code in dict.fromkeys(i.indicator for i in unit.items)
    ]
    for i, text in enumerate(legend, start=last + 2):
        sheet.merged(i, width - 1, text, fmt(text_wrap=True, border=0, font_size=9))
        ws.set_row(i, 30 if i > last + 3 else 15)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 28)
    ws.set_column(2, 4, 14)
    ws.set_column(5, 5, 40)
    ws.protect("", {"format_columns": True, "format_rows": True})
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_paper(9)
    ws.activate()


def _nodes_sheet(wb, fmt: _Formats, packs: Packs, unit: UnitPack) -> None:
    headers = (
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
        "状态",
    )
    sheet = _Sheet(wb, fmt, NODES_SHEET)
    _head(sheet, fmt, packs, unit, "时间节点就业率（I3）", len(headers))
    sheet.texts(3, headers, fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True))
    nodes = sorted(unit.nodes, key=lambda n: (n.milestone_date, DEGREE_ORDER.index(n.degree)))
    date = fmt(num_format="yyyy-mm-dd", align="center")
    for r, n in enumerate(nodes, start=4):
        sheet.text(r, 0, DEGREE_NAMES.get(n.degree, n.degree), fmt())
        sheet.date(r, 1, n.milestone_date, date)
        sheet.number(r, 2, n.graduates, fmt(num_format="0"))
        sheet.number(r, 3, n.employed, fmt(num_format="0"))
        sheet.number(r, 4, n.rate, fmt(num_format="0.00%"))
        sheet.number(r, 5, n.target, fmt(num_format="0.00%"))
        sheet.number(r, 6, n.required, fmt(num_format="0"))
        sheet.text(r, 7, labels.yes(n.is_met), fmt(font_color="#006100" if n.is_met else "#C00000"))
        sheet.number(r, 8, n.bonus, fmt(num_format="0"))
        sheet.number(r, 9, n.deduction, fmt(num_format="0.00"))
        sheet.date(r, 10, n.snapshot_date, date)
        sheet.text(r, 11, STATUS.get(n.status, n.status), fmt())
    end = 4 + len(nodes) + 1
    sheet.text(
        end,
        0,
        f"I3 得分（就业中心）：{labels.points(unit.points.get('I3'))}",
        fmt(bold=True, border=0),
    )
    sheet.merged(
        end + 1,
        len(headers) - 1,
        unit.details.get("I3", ""),
        fmt(text_wrap=True, border=0, font_size=9),
    )
    sheet.ws.set_row(end + 1, 45)
    sheet.ws.set_column(0, 11, 11)
    sheet.ws.set_landscape()
    sheet.ws.fit_to_pages(1, 0)


def _groups_sheet(wb, fmt: _Formats, packs: Packs, unit: UnitPack) -> None:
    headers = ("特定群体", "学历", "人数", "就业人数", "就业率", "12月15日目标", "是否达标")
    sheet = _Sheet(wb, fmt, GROUPS_SHEET)
    _head(sheet, fmt, packs, unit, "特定群体就业率（I6）", len(headers))
    sheet.texts(3, headers, fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True))
    r = 4
    for g in unit.groups:
        met = bool(g["meets_target"])
        sheet.text(r, 0, packs.group_names.get(g["special_group"], g["special_group"]), fmt())
        sheet.text(r, 1, DEGREE_NAMES.get(g["degree"], g["degree"]), fmt())
        sheet.number(r, 2, int(g["graduates"]), fmt(num_format="0"))
        sheet.number(r, 3, int(g["employed"]), fmt(num_format="0"))
        sheet.number(r, 4, g["employment_rate"], fmt(num_format="0.00%"))
        sheet.number(r, 5, g["target_rate"], fmt(num_format="0.00%"))
        sheet.text(r, 6, labels.yes(met), fmt(font_color="#006100" if met else "#C00000"))
        r += 1
    if not unit.groups:
        sheet.text(r, 0, "本单位本年度没有特定群体毕业生", fmt(border=0))
        r += 1
    sheet.text(
        r + 1,
        0,
        f"I6 得分（就业中心）：{labels.points(unit.points.get('I6'))}",
        fmt(bold=True, border=0),
    )
    sheet.merged(
        r + 2,
        len(headers) - 1,
        unit.details.get("I6", ""),
        fmt(text_wrap=True, border=0, font_size=9),
    )
    sheet.ws.set_row(r + 2, 45)
    sheet.ws.set_column(0, 0, 16)
    sheet.ws.set_column(1, 6, 12)


def _guided_sheet(wb, fmt: _Formats, packs: Packs, unit: UnitPack) -> None:
    sheet = _Sheet(wb, fmt, GUIDED_SHEET)
    _head(sheet, fmt, packs, unit, "到就业引导单位就业比例（I9）", 2)
    g = unit.guided or {}
    rows = [
        ("统计日期", g.get("snapshot_date")),
        ("统计人数（分母）", g.get("denominator")),
        ("其中到就业引导单位就业", g.get("guided")),
        ("比例", g.get("ratio")),
        ("目标比例", packs.guided_target),
        ("I9 得分（就业中心）", unit.points.get("I9")),
        ("说明", unit.details.get("I9", "")),
    ]
    sheet.texts(3, ("项目", "数值"), fmt(bold=True, bg_color=HEADER_FILL))
    for r, (label, value) in enumerate(rows, start=4):
        sheet.text(r, 0, label, fmt(bold=True))
        if value is None:
            sheet.ws.write_blank(r, 1, None, fmt())
        elif isinstance(value, dt.date):
            sheet.date(r, 1, value, fmt(num_format="yyyy-mm-dd", align="left"))
        elif label.endswith("比例"):
            sheet.number(r, 1, value, fmt(num_format="0.00%", align="left"))
        elif isinstance(value, int | Decimal):
            sheet.number(r, 1, value, fmt(num_format="0.##", align="left"))
        else:
            sheet.text(r, 1, value, fmt(text_wrap=True))
    sheet.ws.set_column(0, 0, 26)
    sheet.ws.set_column(1, 1, 70)


def _guide_sheet(wb, fmt: _Formats, packs: Packs) -> None:
    sheet = _Sheet(wb, fmt, GUIDE_SHEET)
    p = packs.provenance
    lines = [
        (
            "这是什么",
            "评估程序第一阶段（自评）：就业中心现有的本单位数据，供各单位对照评估办法自查。",
        ),
        (
            "怎样填写",
            f"只填第一个工作表「{layout.SHEET}」中黄色的两列：「单位自报」写本单位的数字"
            "（与就业中心登记相同的可留空），「说明」写依据或意见（会随结果提交学指委，"
            "请勿写学生的学号、姓名）。其余工作表只供核对。",
        ),
        (
            "怎样交回",
            "保存后不要改文件名，交回就业中心；就业中心把它放入原始数据文件夹的 selfcheck/ "
            "中，随下一次运行检查：数值超出范围、不是本单位或本年度的自评表，都会被退回并"
            "注明工作表和单元格。",
        ),
        (
            "结果怎样用",
            "得分以就业中心审核为准；单位自报与就业中心登记不同之处，列入年终文件，"
            "提交学生工作指导委员会审核。",
        ),
        ("个人信息", "本表只有单位层面的数字，不含学号、姓名等个人信息。"),
        ("评估依据", f"{p.policy_title}（{p.policy}）" if p.policy_title else p.policy),
        ("数据截至", f"{p.as_of.isoformat()}（{STATUS[packs.status]}）"),
        ("生成时间", f"{p.generated}（北京时间）"),
        ("评估规则", p.rules_version),
        ("运行编号", p.run_id),
    ]
    sheet.texts(0, ("项目", "内容"), fmt(bold=True, bg_color=HEADER_FILL))
    for r, (k, v) in enumerate(lines, start=1):
        sheet.text(r, 0, k, fmt(bold=True, valign="top"))
        sheet.text(r, 1, v, fmt(text_wrap=True, valign="top"))
    sheet.ws.set_column(0, 0, 14)
    sheet.ws.set_column(1, 1, 90)
