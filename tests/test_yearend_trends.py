"""A unit's last years beside this one, in the year-end files: the small multiple per unit and
the overview 近年总分与名次 in report_<year>.html, the sheet 历年对比 in scoreboard_<year>.xlsx.

A multi-year marts is built by a real run (the generator's three seasons, 2020-2022, scored by
the year-end flow as of 20 Dec 2022); a one-year marts by the warehouse factory. The figures
are read back from the HTML (the SVG's text nodes and the tables) and the xlsx, and compared
with marts.unit_trends."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import subprocess
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import openpyxl
import pytest

from employment_eval import build, publish
from employment_eval.generate import generate
from employment_eval.render.yearend import read_year_end, write_files, years
from employment_eval.render.yearend.data import GROUP_NAMES, STATUS_NAMES
from employment_eval.render.yearend.report import render
from employment_eval.render.yearend.workbook import ADVANCED_FILL, HEADER_ROW, YEARS_SHEET
from employment_eval.rules import load_rules
from flows.year_end import year_end_scoreboard
from tests.warehouse_factory import build_scenario, season

pytestmark = pytest.mark.xdist_group("yearend")

YEAR = 2022
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three generated seasons (2020-2022, each under its own rules file written beside the raw
    folder) and the year-end files of 2022, written by the flow beside the marts."""
    base = tmp_path_factory.mktemp("trends")
    raw = base / "raw"
    generate(raw, years="2020-2022", seed=11, scale=0.3, exports=5)
    marts = base / "marts" / "employment.duckdb"
    paths = year_end_scoreboard(
        str(raw), str(marts), str(base / "work" / "w.duckdb"), YEAR, dt.date(YEAR, 12, 20)
    )
    files = {Path(p).suffix: Path(p) for p in paths}
    return {"marts": marts, "html": files[".html"], "xlsx": files[".xlsx"], "base": base}


@pytest.fixture(scope="module")
def one_year(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A marts file holding one year (2021), built by the warehouse factory."""
    base = tmp_path_factory.mktemp("one_year")
    con = build_scenario(season([]))
    try:
        build.build_models(con, [load_rules(2021)])
        marts = base / "marts" / "employment.duckdb"
        publish.publish(publish.export_candidate(con, marts, "test"), marts)
    finally:
        con.close()
    files = write_files(read_year_end(marts, 2021), base / "out")
    return {"marts": marts, "xlsx": files[0], "html": files[2]}


def _trends(marts: Path, up_to: int = YEAR) -> list[dict]:
    con = duckdb.connect(str(marts), read_only=True)
    try:
        cur = con.execute(
            "select t.*, u.unit_name from marts.unit_trends t "
            "join reference.units u using (unit_code) where t.year <= ? order by all",
            [up_to],
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def _per_unit(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["year"]):
        out[r["unit_code"]].append(r)
    return out


def _one_place(rate: Decimal) -> Decimal:
    return (rate * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


class _Blocks(HTMLParser):
    """Per `<div class="years" id="years-…">`: the texts of the SVG's text nodes by class
    (year, total, rate, advanced), the bold year labels, the table cells by row header and
    the one-line notes; the overview's table rows (unit name, cells)."""

    def __init__(self) -> None:
        super().__init__()
        self.units: dict[str, dict] = {}
        self.overview: list[list[str]] = []
        self.stack: list[str] = []
        self.unit: str | None = None
        self.depth = 0
        self.text_class: str | None = None
        self.bold = False
        self.in_overview = False
        self.cell: list[str] | None = None
        self.row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "div":
            if a.get("class") == "years":
                self.unit = (a.get("id") or "")[len("years-") :]
                self.units[self.unit] = {"svg": 0, "text": defaultdict(list), "bold": [],
                                         "rows": {}, "notes": []}  # fmt: skip
                self.depth = 0
            elif self.unit is not None:
                self.depth += 1
        if tag == "table" and a.get("class") == "history-table":
            self.in_overview = True
        if tag == "svg" and self.unit is not None:
            self.units[self.unit]["svg"] += 1
        if tag == "text" and self.unit is not None:
            self.text_class = a.get("class") or ""
            self.bold = a.get("font-weight") == "bold"
        if tag == "tr":
            self.row = []
        if tag in ("td", "th"):
            self.cell = []
        if tag == "p" and self.unit is not None and a.get("class") == "years-none":
            self.units[self.unit]["notes"].append("")
            self.text_class = "note"

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.unit is not None:
            if self.depth == 0:
                self.unit = None
            else:
                self.depth -= 1
        if tag == "text":
            self.text_class = None
        if tag == "p" and self.text_class == "note":
            self.text_class = None
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        if tag == "tr" and self.row is not None:
            if self.unit is not None and self.row:
                self.units[self.unit]["rows"][self.row[0]] = self.row[1:]
            elif self.in_overview and self.row:
                self.overview.append(self.row)
            self.row = None
        if tag == "table":
            self.in_overview = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
        if self.unit is None or self.text_class is None:
            return
        block = self.units[self.unit]
        if self.text_class == "note":
            block["notes"][-1] += data
        elif self.text_class:
            block["text"][self.text_class].append(data)
            if self.text_class == "year" and self.bold:
                block["bold"].append(data)


def _blocks(html: str) -> _Blocks:
    parser = _Blocks()
    parser.feed(html)
    return parser


# --- the report --------------------------------------------------------------------------


def test_each_unit_shows_its_years_in_a_small_multiple(history) -> None:
    expected = _per_unit(_trends(history["marts"]))
    assert len(expected) == 15 and all(len(v) == 3 for v in expected.values())
    html = history["html"].read_text(encoding="utf-8")
    blocks = _blocks(html).units
    assert set(blocks) == set(expected)
    for code, rows in expected.items():
        block = blocks[code]
        assert block["svg"] == 1 and not block["notes"], code
        text = block["text"]
        assert text["year"] == [str(r["year"]) for r in rows] * 2  # under each panel
        assert [Decimal(t) for t in text["total"]] == [r["total_points"] for r in rows]
        assert [Decimal(t.rstrip("%")) for t in text["rate"]] == [
            _one_place(r["final_rate"]) for r in rows
        ]
        assert len(text["advanced"]) == sum(r["is_advanced"] for r in rows)
        assert block["bold"] == [str(YEAR)] * 2  # the evaluation year stands out
        # the compact table: the same figures, a column per year
        table = block["rows"]
        assert table["年度"] == [str(r["year"]) for r in rows]
        assert [Decimal(t) for t in table["总分"]] == [r["total_points"] for r in rows]
        assert [int(t) for t in table["组内名次"]] == [r["rank_in_group"] for r in rows]
        assert [t.endswith("是") for t in table["先进单位"]] == [r["is_advanced"] for r in rows]
        assert [Decimal(t.rstrip("%")) for t in table["12月15日就业率"]] == [
            _one_place(r["final_rate"]) for r in rows
        ]
    # the bars by indicator per group, a rate chart and a small multiple per unit
    assert html.count("<svg") == 3 + 15 + 15
    assert "暂定" not in html  # every year is final


def test_the_ranking_has_an_overview_of_totals_and_ranks(history) -> None:
    expected = _per_unit(_trends(history["marts"]))
    names = {rows[0]["unit_name"]: code for code, rows in expected.items()}
    html = history["html"].read_text(encoding="utf-8")
    overview = html.split('<section id="ranking">')[1].split("</section>")[0]
    assert "近年总分与名次（2020—2022 年度）" in overview
    rows = [r for r in _blocks(html).overview if r[0] in names]
    assert sorted(r[0] for r in rows) == sorted(names)
    for name, *cells in rows:
        want = expected[names[name]]
        assert len(cells) == len(want)
        for cell, r in zip(cells, want, strict=True):
            total, rank = re.fullmatch(r"([\d.]+)（(\d+)）( ★)?", cell).group(1, 2)
            assert (Decimal(total), int(rank)) == (r["total_points"], r["rank_in_group"])
            assert cell.endswith("★") == r["is_advanced"]


def test_an_earlier_year_shows_the_years_up_to_it(history, tmp_path) -> None:
    ye = read_year_end(history["marts"], 2021)
    assert ye.trend_years() == [2020, 2021]
    html = write_files(ye, tmp_path)[2].read_text(encoding="utf-8")
    expected = _per_unit(_trends(history["marts"], up_to=2021))
    for code, block in _blocks(html).units.items():
        assert block["text"]["year"] == ["2020", "2021"] * 2
        assert [Decimal(t) for t in block["text"]["total"]] == [
            r["total_points"] for r in expected[code]
        ]
        assert block["bold"] == ["2021"] * 2
    sheet = openpyxl.load_workbook(tmp_path / "scoreboard_2021.xlsx")[YEARS_SHEET]
    shown = {r[2] for r in sheet.iter_rows(min_row=HEADER_ROW + 2, values_only=True) if r[1]}
    assert shown == {2020, 2021}


def test_only_the_last_years_are_drawn(history, monkeypatch) -> None:
    monkeypatch.setattr(years, "TREND_YEARS", 2)
    html = render(read_year_end(history["marts"], YEAR))
    for block in _blocks(html).units.values():
        assert block["text"]["year"] == ["2021", "2022"] * 2
        assert block["rows"]["年度"] == ["2021", "2022"]
    assert "近年总分与名次（2021—2022 年度）" in html


def test_a_unit_with_only_this_year_says_so_in_one_line(history) -> None:
    ye = read_year_end(history["marts"], YEAR)
    new = ye.units[0].code
    trends = tuple(
        dataclasses.replace(t, years=t.years[-1:]) if t.unit_code == new else t for t in ye.trends
    )
    blocks = _blocks(render(dataclasses.replace(ye, trends=trends))).units
    assert blocks[new]["svg"] == 0
    assert blocks[new]["notes"] == ["近年对比：" + years.UNIT_ONE_YEAR.format(year=YEAR)]
    assert all(b["svg"] == 1 for code, b in blocks.items() if code != new)


def test_one_year_in_the_marts_is_said_in_one_line(one_year) -> None:
    html = one_year["html"].read_text(encoding="utf-8")
    note = years.ONE_YEAR.format(year=2021)
    blocks = _blocks(html).units
    assert len(blocks) == 15
    assert all(b["svg"] == 0 and b["notes"] == ["近年对比：" + note] for b in blocks.values())
    assert 'class="years-chart"' not in html and 'class="history-table"' not in html
    assert f"近年总分与名次：{note}" in html
    assert html.count("<svg") == 3 + 15  # no empty chart
    sheet = openpyxl.load_workbook(one_year["xlsx"])[YEARS_SHEET]
    rows = [r for r in sheet.iter_rows(min_row=HEADER_ROW + 2, values_only=True) if r[0]]
    assert rows[-1][0] == note
    assert len(rows) == 15 + 1 and {r[2] for r in rows[:-1]} == {2021}


# --- the workbook --------------------------------------------------------------------------


def test_the_years_sheet_equals_unit_trends_cell_for_cell(history) -> None:
    wb = openpyxl.load_workbook(history["xlsx"])
    assert wb.sheetnames.index(YEARS_SHEET) == 3  # after the three group sheets
    ws = wb[YEARS_SHEET]
    headers = [c.value for c in ws[HEADER_ROW + 1]]
    assert headers == ["单位", "组别", "年度", "总分", "组内名次", "先进单位", "12月15日就业率",
                       "状态"]  # fmt: skip
    con = duckdb.connect(str(history["marts"]), read_only=True)
    try:
        run_id = con.execute("select run_id from marts.run_info").fetchone()[0]
    finally:
        con.close()
    expected = [
        (
            r["unit_name"],
            GROUP_NAMES[r["unit_group"]],
            r["year"],
            r["total_points"],
            r["rank_in_group"],
            "是" if r["is_advanced"] else "否",
            r["final_rate"],
            STATUS_NAMES[r["status"]],
        )
        for r in _trends(history["marts"])
    ]
    cells = [row for row in ws.iter_rows(min_row=HEADER_ROW + 2) if row[2].value is not None]
    got = [
        (
            *(c.value for c in row[:3]),
            Decimal(str(row[3].value)),
            row[4].value,
            row[5].value,
            Decimal(str(row[6].value)),
            row[7].value,
        )
        for row in cells
    ]
    assert sorted(got) == sorted(expected)
    for row in cells:
        assert row[6].number_format == "0.00%" and isinstance(row[6].value, int | float)
        assert isinstance(row[3].value, int | float) and isinstance(row[4].value, int)
        is_advanced = row[5].value == "是"
        assert ((row[0].fill.fgColor.rgb or "")[-6:].upper() == ADVANCED_FILL[1:]) == is_advanced
        assert bool(row[0].font.b) == (row[2].value == YEAR)
    # each unit's years together and in order, the units in the order of the group sheets
    order = [(row[0].value, row[2].value) for row in cells]
    first: dict[str, int] = {}
    for i, (name, _) in enumerate(order):
        first.setdefault(name, i)
    assert order == sorted(order, key=lambda k: (first[k[0]], k[1]))
    ranked = [
        row[1]
        for sheet in GROUP_NAMES.values()
        for row in wb[sheet].iter_rows(min_row=HEADER_ROW + 2, values_only=True)
        if isinstance(row[0], int)
    ]
    assert list(first) == ranked
    assert run_id in ws.cell(HEADER_ROW, 1).value and run_id in ws.oddFooter.left.text
    assert ws.auto_filter.ref == f"A{HEADER_ROW + 1}:H{HEADER_ROW + 1 + len(cells)}"


# --- in a browser -------------------------------------------------------------------------


@pytest.mark.skipif(
    not (CHROMIUM.exists() and shutil.which("pdftotext")),
    reason="needs /usr/bin/chromium and pdftotext (apt-get install -y chromium poppler-utils)",
)
def test_each_unit_s_years_print_on_its_page(history, tmp_path) -> None:
    """Printed on A4, a unit's section — its scores, its nodes and its years — stays on one
    page, and the overview has a page of its own."""
    pdf = tmp_path / "report.pdf"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer"]  # fmt: skip
    done = subprocess.run(
        [str(CHROMIUM), *flags, f"--print-to-pdf={pdf}", history["html"].as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pdf.is_file(), done.stderr[-2000:]
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60
    ).stdout
    pages = text.split("\f")
    expected = _per_unit(_trends(history["marts"]))
    for rows in expected.values():
        title = re.compile(rf"^\s*{re.escape(rows[0]['unit_name'])}\s*$", re.M)
        page = next(p for p in pages if title.search(p) and "近年对比" in p)
        section = page.split("近年对比", 1)[1]
        for r in rows:
            assert str(r["year"]) in section
    assert sum("近年对比" in p for p in pages) == 15  # one unit a page
    overview = [p for p in pages if "近年总分与名次（" in p]
    assert len(overview) == 1 and "先进名额" not in overview[0]
