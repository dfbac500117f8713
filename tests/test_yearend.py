"""The year-end flow and its files (README.md, year-end files): the xlsx (sheets, headers,
advanced units filled, adjusted cells filled and commented), the CSV (BOM, 15 rows), the
self-contained HTML report (no address, 暂定 banner only when provisional), and the report
rendered in headless Chromium. The files are built once per module: a final season with one
committee adjustment (flow in process) and a provisional one (the CLI, in process)."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import hashlib
import io
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import duckdb
import openpyxl
import pytest
from ingest_helpers import writable_copy

from employment_eval import cli
from employment_eval.render.yearend import read_year_end, write_files
from employment_eval.render.yearend.workbook import ADJUSTED_FILL, ADVANCED_FILL, HEADER_ROW
from flows.year_end import year_end_scoreboard

pytestmark = pytest.mark.xdist_group("yearend")

YEAR = 2021
GROUP_SHEETS = ["院本部", "附属综合性医院", "附属专科医院"]
TITLE = f"{YEAR} 年度毕业生就业工作评估报告"
REASON = "复核特定群体名单后调整 <名单> & 补录"
APPROVER = "学指委 张老师"
CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def final(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> dict[str, Path]:
    """Final season (as of 20 Dec) with I6 of 基础医学院 adjusted by the committee."""
    base = tmp_path_factory.mktemp("yearend_final")
    raw = writable_copy(sample_raw, base / "raw")
    (raw / "adjustments" / "学指委调整_2021.csv").write_text(
        "单位,年度,指标,调整后分值,理由,审批人,日期\n"
        f'上海交通大学基础医学院,2021,I6,8,"{REASON}",{APPROVER},2021-12-18\n',
        encoding="utf-8",
    )
    marts = base / "marts" / "employment.duckdb"
    paths = year_end_scoreboard(
        str(raw), str(marts), str(base / "work" / "w.duckdb"), YEAR, dt.date(2021, 12, 20)
    )
    return {"marts": marts, "out": marts.parent, "paths": [Path(p) for p in paths]}


@pytest.fixture(scope="module")
def provisional(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> dict[str, object]:
    """Provisional season (as of 1 Sep), through the `scoreboard` command, with --out."""
    base = tmp_path_factory.mktemp("yearend_provisional")
    raw = writable_copy(sample_raw, base / "raw")
    out = base / "files"
    marts = base / "marts" / "m.duckdb"
    argv = ["scoreboard", "--raw", str(raw), "--marts", str(marts), "--work"]
    argv += [str(base / "w" / "w.duckdb"), "--as-of", "2021-09-01", "--out", str(out)]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = cli.main(argv)
    return {"code": code, "stdout": buf.getvalue(), "out": out, "marts": marts}


def _marts(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _header_index(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[HEADER_ROW + 1] if c.value}


def _rgb(cell) -> str:
    return (cell.fill.fgColor.rgb or "")[-6:].upper()


# --- the flow and the command ------------------------------------------------------------


def test_flow_writes_the_three_files_beside_the_marts_by_default(final) -> None:
    names = sorted(p.name for p in final["paths"])
    assert names == ["report_2021.html", "scoreboard_2021.csv", "scoreboard_2021.xlsx"]
    assert all(p.parent == final["out"] and p.stat().st_size > 0 for p in final["paths"])


def test_scoreboard_command_prints_the_board_and_where_the_files_went(provisional) -> None:
    assert provisional["code"] == 0
    stdout = provisional["stdout"]
    assert "2021 年度毕业生就业工作评估记分板（暂定）" in stdout
    assert "年终文件已写入" in stdout
    for name in ("scoreboard_2021.xlsx", "scoreboard_2021.csv", "report_2021.html"):
        assert str(provisional["out"] / name) in stdout
        assert (provisional["out"] / name).is_file()
    assert not (provisional["marts"].parent / "report_2021.html").exists()


# --- xlsx ----------------------------------------------------------------------------------


def test_xlsx_sheets_headers_and_advanced_units(final) -> None:
    wb = openpyxl.load_workbook(final["out"] / "scoreboard_2021.xlsx")
    assert wb.sheetnames == [
        *GROUP_SHEETS, "历年对比", "时间节点就业率", "调整记录", "单位自评对照", "数据来源"
    ]  # fmt: skip
    advanced = {
        name
        for (name,) in _marts(
            final["marts"], "select unit_name from marts.scoreboard where is_advanced"
        )
    }
    seen_units, seen_advanced = set(), set()
    for sheet in GROUP_SHEETS:
        ws = wb[sheet]
        assert "2021" in ws["A1"].value and sheet in ws["A1"].value
        assert "暂定" not in ws["A1"].value
        cols = _header_index(ws)
        for needed in ("名次", "单位", "总分", "先进单位", "备注"):
            assert needed in cols
        assert [h.split()[0] for h in cols if h[0] == "I"] == [f"I{i}" for i in range(1, 10)]
        for row in ws.iter_rows(min_row=HEADER_ROW + 2):
            name = row[cols["单位"] - 1].value
            if not isinstance(row[cols["名次"] - 1].value, int):
                continue
            seen_units.add(name)
            is_adv = row[cols["先进单位"] - 1].value == "先进单位"
            assert (_rgb(row[cols["单位"] - 1]) == ADVANCED_FILL[1:]) == is_adv
            assert (_rgb(row[cols["总分"] - 1]) == ADVANCED_FILL[1:]) == is_adv
            if is_adv:
                seen_advanced.add(name)
    assert len(seen_units) == 15
    assert seen_advanced == advanced


def test_xlsx_marks_the_adjusted_cell_and_lists_the_adjustment(final) -> None:
    wb = openpyxl.load_workbook(final["out"] / "scoreboard_2021.xlsx")
    ws = wb["院本部"]
    cols = _header_index(ws)
    i6 = next(c for h, c in cols.items() if h.startswith("I6"))
    marked = []
    for row in ws.iter_rows(min_row=HEADER_ROW + 2):
        cell = row[i6 - 1]
        if _rgb(cell) == ADJUSTED_FILL[1:]:
            marked.append((row[cols["单位"] - 1].value, cell))
    assert [name for name, _ in marked] == ["上海交通大学基础医学院"]
    cell = marked[0][1]
    assert cell.value == 8
    text = cell.comment.text
    assert "计算值 0 → 调整后 8" in text and REASON in text and APPROVER in text
    # exactly the cells the committee adjusted carry a comment (the sample season's own
    # adjustments file may adjust more than ours)
    commented = {
        (r[cols["单位"] - 1].value, _header_of(wb[s], c))
        for s in GROUP_SHEETS
        for r in wb[s].iter_rows(min_row=HEADER_ROW + 2)
        for c in r
        if c.comment is not None
    }
    expected = set(
        _marts(
            final["marts"],
            "select s.unit_name, i.indicator from marts.indicator_scores i "
            "join marts.scoreboard s using (year, unit_code) where i.adjusted",
        )
    )
    assert commented == expected and ("上海交通大学基础医学院", "I6") in expected

    adj = wb["调整记录"]
    assert [c.value for c in adj[HEADER_ROW + 1]][:7] == [
        "单位",
        "调整项",
        "计算值",
        "调整后",
        "理由",
        "审批人",
        "日期",
    ]
    rows = [r for r in adj.iter_rows(min_row=HEADER_ROW + 2) if r[1].value == "I6 特定群体就业"]
    basic = next(r for r in rows if r[0].value == "上海交通大学基础医学院")
    assert [c.value for c in basic[:7]] == [
        "上海交通大学基础医学院",
        "I6 特定群体就业",
        0,
        8,
        REASON,
        APPROVER,
        dt.datetime(2021, 12, 18),
    ]
    assert basic[6].number_format == "yyyy-mm-dd"  # a real date


def _header_of(ws, cell) -> str:
    """The indicator code (I1…I9) of a cell's column."""
    return str(ws.cell(HEADER_ROW + 1, cell.column).value).split()[0]


def test_xlsx_milestone_sheet_has_rates_as_percentages(final) -> None:
    wb = openpyxl.load_workbook(final["out"] / "scoreboard_2021.xlsx")
    ws = wb["时间节点就业率"]
    cols = _header_index(ws)
    for needed in ("单位", "学历", "时间节点", "毕业生数", "就业人数", "就业率", "目标就业率"):
        assert needed in cols
    rows = [r for r in ws.iter_rows(min_row=HEADER_ROW + 2) if r[0].value]
    (count,) = _marts(final["marts"], "select count(*) from marts.milestone_rates")[0]
    assert len(rows) == count
    rate = rows[0][cols["就业率"] - 1]
    assert rate.number_format == "0.00%" and 0 <= rate.value <= 1
    assert {r[cols["学历"] - 1].value for r in rows} <= {"本科", "硕士", "博士"}


def test_provisional_xlsx_says_so(provisional) -> None:
    wb = openpyxl.load_workbook(provisional["out"] / "scoreboard_2021.xlsx")
    for ws in wb.worksheets:
        assert "暂定" in ws["A1"].value and "暂定" in ws["A2"].value


def test_xlsx_without_adjustments_says_none(final, tmp_path) -> None:
    ye = read_year_end(final["marts"], YEAR)
    assert ye.adjustments()  # the season has some: they are taken away below
    units = tuple(
        dataclasses.replace(
            u,
            decided_by_committee=False,
            standing=dataclasses.replace(u.standing, decided_by_committee=False),
            scores={k: dataclasses.replace(v, adjusted=False) for k, v in u.scores.items()},
        )
        for u in ye.units
    )
    files = write_files(dataclasses.replace(ye, units=units), tmp_path)
    adj = openpyxl.load_workbook(files[0])["调整记录"]
    assert adj.cell(HEADER_ROW + 2, 1).value == "无"
    assert adj.cell(HEADER_ROW + 3, 1).value is None


# --- csv -----------------------------------------------------------------------------------


def test_csv_has_a_bom_and_fifteen_units(final) -> None:
    path = final["out"] / "scoreboard_2021.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 15
    totals = dict(_marts(final["marts"], "select unit_code, total_points from marts.scoreboard"))
    assert {r["单位代码"]: r["总分"] for r in rows} == {k: f"{v:f}" for k, v in totals.items()}
    basic = next(r for r in rows if r["单位代码"] == "basic")
    assert basic["I6 特定群体就业（满分10分）"] == "8.00" and basic["学指委调整"] == "是"
    assert {r["状态"] for r in rows} == {"最终"}


# --- where the files come from, and what the headers say -------------------------------------


def _provenance(marts: Path) -> dict:
    """marts.run_info (one row) and the year's rules, as the analysts would read them."""
    con = duckdb.connect(str(marts), read_only=True)
    try:
        cur = con.execute(
            "select r.*, y.policy_title, y.rules_file as year_rules_file, "
            "y.rules_sha256 as year_rules_sha256 from marts.run_info r "
            "join reference.rule_years y on y.year = r.year"
        )
        names = [d[0] for d in cur.description]
        (row,) = cur.fetchall()
        return dict(zip(names, row, strict=True))
    finally:
        con.close()


def _expected_provenance(marts: Path) -> tuple[dict, list[str]]:
    info = _provenance(marts)
    generated = info["generated_at"].strftime("%Y-%m-%d %H:%M:%S")
    shown = [
        info["policy_number"],
        info["as_of_date"].isoformat(),
        generated,
        info["rules_sha256"][:12],
        info["run_id"],
    ]
    return info, shown


def test_the_run_info_is_the_run_s_own(final) -> None:
    """What the files will print is true: the policy of the rules file, its real sha256."""
    info = _provenance(final["marts"])
    assert info["policy_number"] == "沪交医学〔2021〕1号"
    assert info["as_of_date"] == dt.date(2021, 12, 20)
    rules = Path(info["year_rules_file"])
    assert hashlib.sha256(rules.read_bytes()).hexdigest() == info["year_rules_sha256"]
    assert info["year_rules_sha256"] == info["rules_sha256"]


@pytest.mark.parametrize("season", ["final", "provisional"])
def test_xlsx_names_its_source_on_every_sheet(season, request) -> None:
    place = request.getfixturevalue(season)
    info, shown = _expected_provenance(place["marts"])
    wb = openpyxl.load_workbook(place["out"] / "scoreboard_2021.xlsx")
    for ws in wb.worksheets:
        line = ws.cell(HEADER_ROW, 1).value  # the row above the headers
        assert all(item in line for item in shown), (ws.title, line)
        assert info["run_id"] in ws.oddFooter.left.text
        assert ("暂定" in ws["A1"].value) == (season == "provisional")
    src = wb["数据来源"]
    items = {r[0].value: r[1] for r in src.iter_rows(min_row=HEADER_ROW + 2) if r[0].value}
    assert items["政策文号"].value == info["policy_number"]
    assert items["政策名称"].value == info["policy_title"]
    assert items["评估日期"].value == dt.datetime.combine(info["as_of_date"], dt.time())
    assert items["评估日期"].number_format == "yyyy-mm-dd"
    assert items["生成时间（北京时间）"].value == info["generated_at"].replace(microsecond=0)
    assert items["规则文件"].value == info["year_rules_file"]
    assert items["规则文件 SHA256"].value == info["year_rules_sha256"]
    assert items["运行编号"].value == info["run_id"]
    assert items["程序版本"].value == info["code_version"]
    assert items["输入文件数"].value == info["input_files"]
    assert items["状态"].value == ("暂定" if season == "provisional" else "最终")
    assert wb.properties.subject == info["policy_number"]


@pytest.mark.parametrize("season", ["final", "provisional"])
def test_csv_carries_its_source_in_columns(season, request) -> None:
    place = request.getfixturevalue(season)
    info, _ = _expected_provenance(place["marts"])
    text = (place["out"] / "scoreboard_2021.csv").read_text(encoding="utf-8-sig")
    assert not text.startswith("#")  # no comment line: the first line is the header
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == 15
    for row in rows:
        assert row["政策文号"] == info["policy_number"]
        assert row["评估日期"] == info["as_of_date"].isoformat()
        assert row["生成时间"] == info["generated_at"].strftime("%Y-%m-%d %H:%M:%S")
        assert row["规则文件"] == info["year_rules_file"]
        assert row["规则SHA256"] == info["year_rules_sha256"]
        assert row["运行编号"] == info["run_id"]
        assert row["状态"] == ("暂定" if season == "provisional" else "最终")


@pytest.mark.parametrize("season", ["final", "provisional"])
def test_report_names_its_source(season, request) -> None:
    place = request.getfixturevalue(season)
    info, shown = _expected_provenance(place["marts"])
    html = (place["out"] / "report_2021.html").read_text(encoding="utf-8")
    head, source = html.split('<section id="ranking">')[0], html.split('id="source"')[1]
    for item in shown:
        assert item in head and item in source
    assert info["year_rules_sha256"] in source and info["policy_title"] in source
    page = html.split("@page")[1].split("@media")[0]
    assert "size: A4" in page and "@bottom-left" in page
    footer = "".join(
        chr(int(code, 16)) if code else char
        for code, char in re.findall(r"\\([0-9a-f]{6})|(.)", page.split("@bottom-left")[1])
    )
    assert info["run_id"] in footer and info["policy_number"] in footer
    assert ("暂定" in footer) == (season == "provisional")


def test_headers_explain_the_base_and_the_bonus_of_i3(final) -> None:
    indicators = dict(
        _marts(final["marts"], "select indicator, base_points from reference.rule_indicators")
    )
    names = dict(
        _marts(final["marts"], "select indicator, indicator_name from reference.rule_indicators")
    )
    expected = {
        code: f"{code} {names[code]}（基准{base}分，另加超额奖励分）"
        if code == "I3"
        else f"{code} {names[code]}（满分{base}分）"
        for code, base in indicators.items()
    }
    assert expected["I3"] == "I3 时间节点就业率（基准35分，另加超额奖励分）"
    wb = openpyxl.load_workbook(final["out"] / "scoreboard_2021.xlsx")
    for sheet in GROUP_SHEETS:
        headers = [h for h in _header_index(wb[sheet]) if h.startswith("I")]
        assert headers == [expected[f"I{i}"] for i in range(1, 10)]
    with open(final["out"] / "scoreboard_2021.csv", encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh))
    assert [h for h in header if h[:1] == "I"] == [expected[f"I{i}"] for i in range(1, 10)]
    html = (final["out"] / "report_2021.html").read_text(encoding="utf-8")
    assert html.count("另加超额奖励分") >= 3  # the I3 header of each group's ranking


def test_xlsx_node_dates_are_real_dates(final) -> None:
    wb = openpyxl.load_workbook(final["out"] / "scoreboard_2021.xlsx")
    ws = wb["时间节点就业率"]
    cols = _header_index(ws)
    cells = [r[cols["时间节点"] - 1] for r in ws.iter_rows(min_row=HEADER_ROW + 2) if r[0].value]
    assert cells and all(isinstance(c.value, dt.datetime) for c in cells)
    assert {c.number_format for c in cells} == {"yyyy-mm-dd"}
    dates = {
        d for (d,) in _marts(final["marts"], "select milestone_date from marts.milestone_rates")
    }
    assert {c.value.date() for c in cells} == dates
    snapshots = [r[cols["数据日期"] - 1].value for r in ws.iter_rows(min_row=HEADER_ROW + 2)]
    assert all(v is None or isinstance(v, dt.datetime) for v in snapshots)


# --- html ----------------------------------------------------------------------------------


def test_report_is_self_contained_escaped_and_final(final) -> None:
    html = (final["out"] / "report_2021.html").read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html and "<script" not in html and "@font-face" not in html
    assert '<html lang="zh-CN">' in html and '<meta charset="utf-8">' in html
    assert '"Noto Sans CJK SC"' in html and "sans-serif" in html
    assert TITLE in html
    assert 'class="banner"' not in html and "暂定" not in html
    assert html.count("<svg") == 3 + 15  # points by indicator per group, a rate chart per unit
    for (name,) in _marts(final["marts"], "select unit_name from marts.scoreboard"):
        assert name in html
    assert "复核特定群体名单后调整 &lt;名单&gt; &amp; 补录" in html
    assert REASON not in html
    assert APPROVER in html


def test_report_shows_the_provisional_banner(provisional) -> None:
    html = (provisional["out"] / "report_2021.html").read_text(encoding="utf-8")
    assert 'class="banner"' in html and "<strong>暂定</strong>" in html
    assert "http://" not in html and "https://" not in html


def test_ties_at_the_cutoff_are_marked(final, tmp_path) -> None:
    ye = read_year_end(final["marts"], YEAR)
    tied = {u.code for u in ye.group("school")[1:3]}
    pending = "名额线并列，待学指委决定"
    units = tuple(
        dataclasses.replace(
            u,
            tie_at_cutoff=True,
            is_advanced=False,
            status="provisional",
            standing=dataclasses.replace(
                u.standing, tie_at_cutoff=True, is_advanced=False, label=pending
            ),
        )
        if u.code in tied
        else u
        for u in ye.units
    )
    standing = dataclasses.replace(
        ye.standing, status="provisional", provisional_reasons=f"院本部{pending}"
    )
    provisional = dataclasses.replace(ye, units=units, status="provisional", standing=standing)
    files = write_files(provisional, tmp_path)
    ws = openpyxl.load_workbook(files[0])["院本部"]
    cols = _header_index(ws)
    remarks = {
        r[cols["单位"] - 1].value: r[cols["备注"] - 1].value
        for r in ws.iter_rows(min_row=HEADER_ROW + 2)
        if isinstance(r[0].value, int)
    }
    assert sum(v == pending for v in remarks.values()) == 2
    html = files[2].read_text(encoding="utf-8")
    # the legend, then each tied unit in the ranking and in its own section
    ties = sum(u.tie_at_cutoff for u in units)
    assert ties >= 2
    assert html.count('<span class="tag tie">并列</span>') == 1 + 2 * ties
    assert "<strong>暂定</strong>" in html


# --- the report in a browser -----------------------------------------------------------------


def _png_rows(png: bytes, rows: int | None = None) -> list[bytes]:
    """The first `rows` pixel rows (RGB, 3 bytes a pixel) of an 8-bit RGB/RGBA PNG, decoded
    in pure Python."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, bpp = 8, b"", 0, 0, 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    data = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    out: list[bytes] = []
    for y in range(height if rows is None else min(rows, height)):
        start = y * (stride + 1)
        ftype, line = data[start], bytearray(data[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
            elif ftype == 4:
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        out.append(b"".join(bytes(line[i : i + 3]) for i in range(0, stride, bpp)))
        prev = line
    return out


def _png_colours(png: bytes, rows: int = 400) -> int:
    """Distinct colours in the first `rows` rows."""
    return len({row[i : i + 3] for row in _png_rows(png, rows) for i in range(0, len(row), 3)})


def _dark_share(png: bytes) -> float:
    """Share of the page's pixels that are dark ink (all channels under 110, or saturated
    dark red like the banner's fill)."""
    dark = total = 0
    for row in _png_rows(png):
        for i in range(0, len(row), 3):
            r, g, b = row[i], row[i + 1], row[i + 2]
            total += 1
            dark += (r < 110 and g < 110 and b < 110) or (r > 150 and g < 60 and b < 60)
    return dark / total


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run(
        [str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium not installed (apt-get install -y chromium fonts-noto-cjk)",
)
def test_report_renders_in_headless_chromium(provisional, tmp_path) -> None:
    report = provisional["out"] / "report_2021.html"
    png = tmp_path / "report.png"
    shot = _chromium(
        f"--screenshot={png}", "--window-size=1280,2000", report.as_uri(), profile=tmp_path / "p1"
    )
    assert png.is_file(), shot.stderr[-2000:]
    data = png.read_bytes()
    assert len(data) > 50_000  # a blank page of this size compresses to a few kB
    assert _png_colours(data) > 50  # text, banner, tables: far more than a blank page
    dom = _chromium("--dump-dom", report.as_uri(), profile=tmp_path / "p2")
    assert TITLE in dom.stdout
    assert "暂定" in dom.stdout


A4_POINTS = (595.28, 841.89)


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium not installed (apt-get install -y chromium fonts-noto-cjk)",
)
def test_report_prints_on_a4_a_page_per_group_and_per_unit(provisional, tmp_path) -> None:
    report = provisional["out"] / "report_2021.html"
    pdf = tmp_path / "report.pdf"
    done = _chromium(
        "--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri(), profile=tmp_path / "p"
    )
    assert pdf.is_file(), done.stderr[-2000:]
    data = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    assert boxes and pages == len(boxes)
    assert all(
        abs(float(w) - A4_POINTS[0]) < 2 and abs(float(h) - A4_POINTS[1]) < 2 for w, h in boxes
    )
    # each of the 3 groups and each of the 15 unit sections starts a page; charts on their own
    assert pages >= 3 + 15 + 2
    if shutil.which("pdftoppm"):  # poppler-utils: look at the first page's ink
        subprocess.run(
            ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "pg")],
            check=True,
            timeout=60,
        )
        first = next(tmp_path.glob("pg*.png")).read_bytes()
        # the 暂定 banner is outlined, not filled: text and thin rules only
        assert _dark_share(first) < 0.03
