"""One truth in every file: a season with a pending tie at a quota line (院本部: 基础 and 护理), a
decided tie (专科: 胸科 评为, 精总 not), an equal total ranked by I3 (综合: 市六 above 九院), an
indicator adjusted by the committee (市六 I1) and a provisional status is published, then every
output is rendered from the published file — the console summary, the morning report (html,
xlsx), the year-end report, workbook and csv — and each unit's rank, remark (label) and
explanations (the committee's decision with reason, approver and date; the rank note; the
adjustment) are read back from each of them and compared with marts.unit_standing, the one
place they are computed."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import openpyxl
import pytest
from warehouse_factory import build_scenario, default_cohort, one_export

from employment_eval import publish
from employment_eval.render import morning
from employment_eval.render.console import scoreboard_text
from employment_eval.render.yearend import read_year_end, write_files

AS_OF = dt.date(2021, 12, 20)
HEADER_ROW = 4  # the workbooks' header row (1-based: three title rows, then the header)


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> dict:
    grads = (
        default_cohort("basic", 45)
        + default_cohort("nursing", 45)  # identical to basic: tied across the quota line (2)
        + default_cohort("chest", 135)
        + default_cohort("smhc", 135)  # identical to chest: tied at rank 3 (quota 3)
        + default_cohort("sixth", 110)
        + default_cohort("first", 110)
    )
    scenario = one_export(grads)
    scenario.adjustments = [
        # 市六 and 市一 are equal; 5 → 3 puts 市六 level with 九院, above it on I3
        {"unit_code": "sixth", "indicator_code": "I1", "new_points": Decimal("3"),
         "reason": "材料复核后扣减", "approved_by": "学指委主任"},
        {"unit_code": "chest", "indicator_code": "ADVANCED", "advanced_decision": True,
         "reason": "并列于名额线，经审议评为先进单位", "approved_by": "学生工作指导委员会"},
        {"unit_code": "smhc", "indicator_code": "ADVANCED", "advanced_decision": False,
         "reason": "并列于名额线，经审议不评为先进单位", "approved_by": "学生工作指导委员会"},
    ]  # fmt: skip
    con = build_scenario(scenario)
    root = tmp_path_factory.mktemp("agree")
    marts = root / "marts" / "employment.duckdb"
    publish.publish(publish.export_candidate(con, marts, "agree"), marts)
    con.close()
    out = root / "out"
    yearend = write_files(read_year_end(marts, 2021), out)
    _, morning_files = morning.write_morning_report(marts, 2021, AS_OF)
    return {"marts": marts, "yearend": yearend, "morning": morning_files}


def standing(marts: Path) -> tuple[list[dict], str]:
    con = duckdb.connect(str(marts), read_only=True)
    try:
        cur = con.execute(
            "select * from marts.unit_standing where year = 2021 "
            "order by group_order, rank_in_group, unit_order"
        )
        names = [d[0] for d in cur.description]
        units = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        (reasons,) = con.execute(
            "select provisional_reasons from marts.year_standing where year = 2021"
        ).fetchone()
    finally:
        con.close()
    return units, reasons


def notes(u: dict) -> list[str]:
    return [
        n
        for n in (u["decision_note"], u["rank_note"], u["adjustments_note"], u["ledger_note"])
        if n
    ]


def test_the_season_has_every_case(season) -> None:
    units, reasons = standing(season["marts"])
    by = {u["short_name"]: u for u in units}
    assert (
        by["基础"]["standing_label"] == by["护理"]["standing_label"] == "名额线并列，待学指委决定"
    )
    assert by["胸科"]["standing_label"] == "先进单位（名额线并列，学指委决定）"
    assert by["精总"]["standing_label"] == "名额线并列，学指委决定不评为先进单位"
    assert (by["市六"]["rank_in_group"], by["九院"]["rank_in_group"]) == (2, 3)
    assert by["市六"]["total_points"] == by["九院"]["total_points"]
    assert "按 I3 得分 66 > 64 排在其前" in by["市六"]["rank_note"]
    assert "计算值 5 → 调整后 3" in by["市六"]["adjustments_note"]
    assert "院本部名额线并列（基础、护理），待学指委决定" in reasons


class _Html(HTMLParser):
    """Each table row's cell texts and the remark labels in it, and every list item's text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[list[str], list[str]]] = []
        self.items: list[str] = []
        self.text: list[str] = []
        self._cells: list[str] | None = None
        self._labels: list[str] = []
        self._cell: list[str] | None = None
        self._item: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr":
            self._cells, self._labels = [], []
        elif tag in ("td", "th") and self._cells is not None:
            self._cell = []
        elif tag == "li":
            self._item = []
        if "data-label" in a and self._cells is not None:
            self._labels.append(a["data-label"] or "")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._cells is not None:
            self._cells.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._cells is not None:
            self.rows.append((self._cells, self._labels))
            self._cells = None
        elif tag == "li" and self._item is not None:
            self.items.append("".join(self._item).strip())
            self._item = None

    def handle_data(self, data):
        self.text.append(data)
        for part in (self._cell, self._item):
            if part is not None:
                part.append(data)


def parse_html(path: Path) -> _Html:
    parser = _Html()
    parser.feed(path.read_text("utf-8"))
    return parser


def sheet_rows(path: Path, sheet: str) -> list[dict]:
    ws = openpyxl.load_workbook(path)[sheet]
    header = [c.value for c in ws[HEADER_ROW]]
    return [
        dict(zip(header, (c.value for c in row), strict=False))
        for row in ws.iter_rows(min_row=HEADER_ROW + 1)
        if isinstance(row[header.index("名次")].value, int)
    ]


def test_console_says_the_same(season) -> None:
    units, reasons = standing(season["marts"])
    text = scoreboard_text(season["marts"], 2021)
    lines = text.splitlines()
    for u in units:
        (row,) = [line for line in lines if f" {u['unit_name']} " in f" {line} "]
        assert row.split()[0] == str(u["rank_in_group"])
        assert row.rstrip().endswith(u["standing_label"] or f"{u['total_points']}")
        for note in notes(u):
            assert f"{u['short_name']}——{note}" in text
    assert f"暂定原因：{reasons}。" in text


def test_year_end_report_says_the_same(season) -> None:
    units, reasons = standing(season["marts"])
    html = parse_html(season["yearend"][2])
    page = "".join(html.text)
    for u in units:
        ranking = [(c, labels) for c, labels in html.rows if u["unit_name"] in c[1:2]]
        (cells, labels) = ranking[0]  # the ranking table: rank, unit, total, …, remark
        assert cells[0] == str(u["rank_in_group"])
        assert labels == [u["standing_label"] or ""]
        for note in notes(u):  # in the unit's own section
            assert note in html.items
        if u["rank_note"]:  # and under its group's table
            assert f"{u['short_name']}：{u['rank_note']}" in html.items
        if u["decision_reason"]:  # the committee's section: reason, approver, date
            (row,) = [
                c for c, _ in html.rows if c[:2] == [u["unit_name"], "先进单位（名额线并列）"]
            ]
            assert row[4:] == [
                u["decision_reason"],
                u["decision_approved_by"],
                u["decision_date"].isoformat(),
            ]
    assert reasons in page


def test_year_end_workbook_and_csv_say_the_same(season) -> None:
    units, reasons = standing(season["marts"])
    xlsx, csv_path = season["yearend"][0], season["yearend"][1]
    rows = {}
    for sheet in ("院本部", "附属综合性医院", "附属专科医院"):
        for r in sheet_rows(xlsx, sheet):
            rows[r["单位"]] = r
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        table = {r["单位"]: r for r in csv.DictReader(fh)}
    for u in units:
        r, c = rows[u["unit_name"]], table[u["unit_name"]]
        assert r["名次"] == u["rank_in_group"] and int(c["组内名次"]) == u["rank_in_group"]
        assert (r["备注"] or "") == (c["备注"] or "") == (u["standing_label"] or "")
        assert (r["说明"] or "") == "；".join(notes(u))
        assert c["名次说明"] == (u["rank_note"] or "")
        assert c["调整说明"] == (u["adjustments_note"] or "")
        assert c["学指委决定理由"] == (u["decision_reason"] or "")
        assert c["决定审批人"] == (u["decision_approved_by"] or "")
        assert c["决定日期"] == (u["decision_date"].isoformat() if u["decision_date"] else "")
        assert c["暂定原因"] == reasons and c["状态"] == "暂定"
    adjustments = sheet_rows_any(xlsx, "调整记录")
    decided = [u for u in units if u["decision_reason"]]
    for u in decided:
        (row,) = [a for a in adjustments if a[:2] == [u["unit_name"], "先进单位（名额线并列）"]]
        assert row[4:6] == [u["decision_reason"], u["decision_approved_by"]]
        assert row[6].date() == u["decision_date"]


def sheet_rows_any(path: Path, sheet: str) -> list[list]:
    ws = openpyxl.load_workbook(path)[sheet]
    return [[c.value for c in row] for row in ws.iter_rows(min_row=HEADER_ROW + 1)]


def test_morning_report_says_the_same(season) -> None:
    units, reasons = standing(season["marts"])
    html_path, xlsx_path = season["morning"]
    html = parse_html(html_path)
    board = {r["单位"]: r for r in sheet_rows(xlsx_path, "记分板")}
    for u in units:
        rows = [(c, labels) for c, labels in html.rows if labels and c[1:2] == [u["short_name"]]]
        (cells, labels) = rows[0]
        assert cells[0] == str(u["rank_in_group"]) and labels == [u["standing_label"] or ""]
        for note in notes(u):
            assert f"{u['short_name']}：{note}" in html.items
        r = board[u["unit_name"]]
        assert r["名次"] == u["rank_in_group"]
        assert (r["备注"] or "") == (u["standing_label"] or "")
        assert (r["说明"] or "") == "；".join(notes(u))
        assert r["状态"] == "暂定"
    assert f"暂定原因：{reasons}。" in "".join(html.text)
