"""The year-end flow and its files (OUTPUTS.md, year-end files): the xlsx (sheets, headers,
advanced units filled, adjusted cells filled and commented), the CSV (BOM, 15 rows), the
self-contained HTML report (no address, 暂定 banner only when provisional), and the report
rendered in headless Chromium. The files are built once per module: a final season with one
committee adjustment (flow in process) and a provisional one (the CLI, in process)."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import io
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import duckdb
import openpyxl
import pytest

from employment_eval import cli
from employment_eval.yearend import read_year_end, write_files
from employment_eval.yearend.workbook import ADJUSTED_FILL, ADVANCED_FILL, HEADER_ROW
from flows.year_end import year_end_scoreboard

pytestmark = pytest.mark.xdist_group("yearend")

YEAR = 2021
GROUP_SHEETS = ["院本部", "附属综合性医院", "附属专科医院"]
TITLE = f"{YEAR} 年度毕业生就业工作评估报告"
REASON = "复核特定群体名单后调整 <名单> & 补录"
APPROVER = "学指委 张老师"
CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent


def _copy_raw(sample_raw: Path, target: Path) -> Path:
    shutil.copytree(sample_raw, target)
    for p in target.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    return target


@pytest.fixture(scope="module")
def final(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> dict[str, Path]:
    """Final season (as of 20 Dec) with I6 of 基础医学院 adjusted by the committee."""
    base = tmp_path_factory.mktemp("yearend_final")
    raw = _copy_raw(sample_raw, base / "raw")
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
    raw = _copy_raw(sample_raw, base / "raw")
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
    assert wb.sheetnames == [*GROUP_SHEETS, "时间节点就业率", "调整记录"]
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
    # only one adjusted cell in the whole workbook's group sheets
    adjusted = [
        c for s in GROUP_SHEETS for r in wb[s].iter_rows() for c in r if c.comment is not None
    ]
    assert len(adjusted) == 1

    adj = wb["调整记录"]
    rows = [[c.value for c in r] for r in adj.iter_rows(min_row=HEADER_ROW + 1)]
    assert [c.value for c in adj[HEADER_ROW + 1]][:7] == [
        "单位",
        "指标",
        "计算值",
        "调整后分值",
        "理由",
        "审批人",
        "日期",
    ]
    assert rows[1][:7] == [
        "上海交通大学基础医学院",
        "I6 特定群体就业",
        0,
        8,
        REASON,
        APPROVER,
        "2021-12-18",
    ]


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


def test_provisional_xlsx_says_so_and_lists_no_adjustment(provisional) -> None:
    wb = openpyxl.load_workbook(provisional["out"] / "scoreboard_2021.xlsx")
    for sheet in GROUP_SHEETS:
        assert "暂定" in wb[sheet]["A1"].value
    adj = wb["调整记录"]
    assert adj.cell(HEADER_ROW + 2, 1).value == "无"


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
    assert basic["I6 特定群体就业"] == "8.00" and basic["学指委调整"] == "是"
    assert {r["状态"] for r in rows} == {"最终"}


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
    units = tuple(
        dataclasses.replace(u, tie_at_cutoff=True, is_advanced=False, status="provisional")
        if u.code in tied
        else u
        for u in ye.units
    )
    files = write_files(dataclasses.replace(ye, units=units, status="provisional"), tmp_path)
    ws = openpyxl.load_workbook(files[0])["院本部"]
    cols = _header_index(ws)
    remarks = {
        r[cols["单位"] - 1].value: r[cols["备注"] - 1].value
        for r in ws.iter_rows(min_row=HEADER_ROW + 2)
        if isinstance(r[0].value, int)
    }
    assert sum("并列" in (v or "") for v in remarks.values()) == 2
    html = files[2].read_text(encoding="utf-8")
    # the legend, then each tied unit in the ranking and in its own section
    assert html.count('<span class="tag tie">并列</span>') == 1 + 2 * 2
    assert "<strong>暂定</strong>" in html


# --- the report in a browser -----------------------------------------------------------------


def _png_colours(png: bytes, rows: int = 400) -> int:
    """Distinct colours in the first `rows` rows of an 8-bit RGB/RGBA PNG (pure Python)."""
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
    colours: set[bytes] = set()
    for y in range(min(rows, height)):
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
        colours.update(bytes(line[i : i + 3]) for i in range(0, stride, bpp))
        prev = line
    return len(colours)


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
