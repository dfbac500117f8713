"""The morning report (progress_<year>_<as-of>.html / .xlsx beside the published marts).

A season runs through the real nightly flow twice: mid-season (10 Aug, before the 15 Aug
node) and after the last node (20 Dec). The figures of the report are checked against what
the test computes itself from the raw rows of the working database (raw.registrations, the
run's manifest of exports, the destination-code table and the rules file), never from the
marts: for every unit and degree the graduates still to place to reach the next node and the
unverified backlog. The report is also rendered in headless Chromium (screen and A4 print)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from ingest_helpers import writable_copy
from raw_layer import included_registrations

from employment_eval import cli, failures, followup
from employment_eval.render import morning
from employment_eval.render.yearend.data import GROUP_NAMES
from employment_eval.render.yearend.workbook import HEADER_ROW
from employment_eval.rules import load_rules
from flows.nightly_refresh import nightly_refresh

pytestmark = pytest.mark.xdist_group("morning")

YEAR = 2021
MID = dt.date(2021, 8, 10)  # the sample season's exports: …, 15 Jun, 7 Aug, 15 Aug, …
AFTER = dt.date(2021, 12, 20)
CHROMIUM = Path("/usr/bin/chromium")
DEGREES = {"bachelor": "本科", "master": "硕士", "doctor": "博士"}


def _raw_rows(work: Path) -> pl.DataFrame:
    return included_registrations(work, YEAR).rename({"degree_code": "degree"})


def _expected_at(rows: pl.DataFrame, day: dt.date, node: dt.date) -> dict[tuple[str, str], dict]:
    """Per unit and degree, on the latest export dated on or before `day`: N, E (destination
    counts and verified by the export's date), the backlog (destination counts, not counted)
    and the node's required count ⌈t·N⌉ and gap, in integers."""
    rules = load_rules(YEAR)  # the bundled rules file: the run has no rules folder of its own
    targets = next(m.target_bp for m in rules.milestones if m.date == node)
    latest = rows.filter(pl.col("as_of_date") <= day)["as_of_date"].max()
    snap = rows.filter(pl.col("as_of_date") == latest).with_columns(
        counted=pl.col("destination_counts")
        & pl.col("is_verified").fill_null(False)
        & (pl.col("verified_date") <= pl.col("as_of_date")).fill_null(False)
    )
    out = {}
    for (unit, degree), part in snap.group_by(["unit_code", "degree"]):
        n = part.height
        e = int(part["counted"].sum())
        pending = int((part["destination_counts"] & ~part["counted"]).sum())
        required = (targets[degree] * n + 9999) // 10000
        out[(unit, degree)] = {
            "graduates": n,
            "employed": e,
            "required": required,
            "gap": max(0, required - e),
            "pending": pending,
        }
    return out


def _node_counts(rows: pl.DataFrame, node: dt.date) -> dict[tuple[str, str], tuple[int, int]]:
    """(N, E) per unit and degree at a node: the latest export on or before it, verified on or
    before the node date (D2)."""
    snapshot = rows.filter(pl.col("as_of_date") <= node)["as_of_date"].max()
    snap = rows.filter(pl.col("as_of_date") == snapshot).with_columns(
        counted=pl.col("destination_counts")
        & pl.col("is_verified").fill_null(False)
        & (pl.col("verified_date") <= node).fill_null(False)
    )
    return {
        (unit, degree): (part.height, int(part["counted"].sum()))
        for (unit, degree), part in snap.group_by(["unit_code", "degree"])
    }


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> dict[str, object]:
    base = tmp_path_factory.mktemp("morning")
    raw = base / "raw"
    writable_copy(sample_raw, raw)
    marts = base / "marts" / "employment.duckdb"
    work = base / "work" / "warehouse.duckdb"
    place: dict[str, object] = {"raw": raw, "marts": marts, "work": work}
    with failures.unwrapped():
        place["mid_run"] = nightly_refresh(str(raw), str(marts), str(work), YEAR, MID)
    rows = _raw_rows(work)
    place["mid_expected"] = _expected_at(rows, MID, dt.date(2021, 8, 15))
    place["mid_latest"] = rows.filter(pl.col("as_of_date") <= MID)["as_of_date"].max()
    argv = ["run", "--raw", str(raw), "--marts", str(marts), "--work", str(work)]
    argv += ["--year", str(YEAR), "--as-of", AFTER.isoformat()]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # the command line, in process
        place["after_code"] = cli.main(argv)
    place["after_stdout"] = out.getvalue()
    place["dec_expected"] = _node_counts(_raw_rows(work), dt.date(2021, 12, 15))
    return place


def _html(season, day: dt.date) -> str:
    html, _ = morning.report_paths(season["marts"].parent, YEAR, day)
    return html.read_text(encoding="utf-8")


def _rows(html: str) -> dict[tuple[str, str], dict[str, int]]:
    """The figures of each unit and degree row (data-unit / data-degree / data-col)."""
    out = {}
    for unit, degree, body in re.findall(
        r'<tr class="[^"]*" data-unit="([^"]+)" data-degree="([^"]+)">(.*?)</tr>', html, re.S
    ):
        cells = re.findall(r"data-col=[\"'](\w+)[\"']>(\d+)<", body)
        out[(unit, degree)] = {k: int(v) for k, v in cells}
    return out


# --- mid-season ------------------------------------------------------------------------------


def test_files_are_published_beside_the_marts(season) -> None:
    for day in (MID, AFTER):
        for path in morning.report_paths(season["marts"].parent, YEAR, day):
            assert path.is_file() and path.stat().st_size > 0
            assert path.stat().st_mode & 0o777 == 0o644
    assert not list(season["marts"].parent.glob(".*writing"))


def test_mid_season_report_lists_every_unit_behind_with_gap_and_backlog(season) -> None:
    expected = season["mid_expected"]
    behind = {k: v for k, v in expected.items() if v["gap"] > 0}
    assert behind, "the sample season has units behind the 15 Aug node"
    assert any(v["pending"] > 0 for v in behind.values()), "and a verification backlog"
    html = _html(season, MID)
    shown = _rows(html)
    assert set(shown) == set(expected)  # every unit and degree of the latest export
    for key, want in expected.items():
        got = shown[key]
        assert got["gap"] == want["gap"], key
        assert got["pending"] == want["pending"], key
        assert got["graduates"] == want["graduates"] and got["employed"] == want["employed"]
        assert got["required"] == want["required"], key
        assert got["gap_after_pending"] == max(0, want["gap"] - want["pending"]), key
    # the headline adds them up
    gap = sum(v["gap"] for v in behind.values())
    pending = sum(v["pending"] for v in behind.values())
    units = len({unit for unit, _ in behind})
    assert f"{units} 个单位共 {len(behind)} 个学历未达该节点目标，共需再落实 {gap} 人" in html
    assert f"待鉴证 {pending} 人" in html
    assert "下一节点：8月15日（距评估日期 5 天）" in html
    assert f"最新导出数据 {season['mid_latest'].isoformat()}" in html


def test_without_last_year_the_season_section_says_so(season) -> None:
    html = _html(season, MID)
    section = html[html.index('id="season"') : html.index('id="board"')]
    assert "发布数据库中没有去年的数据，图中只有今年的曲线" in section
    assert "没有去年同期的数据，无法与去年比较" in section
    assert 'id="at-risk"' in section and "若到8月15日情况不变" in section
    assert section.count('<svg class="season"') >= 3 and 'class="last"' not in section
    # the bars count graduates: their tooltips say 人, never 分
    chart = html[html.index('<svg class="chart"') : html.index("</svg>")]
    assert re.findall(r"<title>[^<]*：\d+ 人</title>", chart)
    assert not re.findall(r"<title>[^<]*：\d+ 分</title>", chart)


def test_units_are_sorted_by_how_far_behind(season) -> None:
    expected = season["mid_expected"]
    html = _html(season, MID)
    gaps: dict[str, int] = {}
    for (unit, _), v in expected.items():
        gaps[unit] = gaps.get(unit, 0) + v["gap"]
    for group in ("school", "general", "specialty"):
        start = html.index(f"<h3>{GROUP_NAMES[group]}</h3>", html.index('id="behind"'))
        table = html[start : html.index("</table>", start)]
        order = re.findall(r'<tbody data-unit="([^"]+)">', table)
        assert order and [gaps[u] for u in order] == sorted((gaps[u] for u in order), reverse=True)


def test_mid_season_workbook_has_the_same_figures(season) -> None:
    _, xlsx = morning.report_paths(season["marts"].parent, YEAR, MID)
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames[:3] == list(GROUP_NAMES.values())
    names = {name: code for code, name in _unit_names(season["marts"]).items()}
    got = {}
    for sheet in list(GROUP_NAMES.values()):
        ws = wb[sheet]
        head = {c.value: c.column - 1 for c in ws[HEADER_ROW + 1] if c.value}
        assert "运行编号" in ws.cell(3, 1).value and season["mid_run"] in ws.cell(3, 1).value
        for row in ws.iter_rows(min_row=HEADER_ROW + 2, values_only=True):
            if row[head["单位"]] not in names:
                continue
            degree = next(k for k, v in DEGREES.items() if v == row[head["学历"]])
            key = (names[row[head["单位"]]], degree)
            got[key] = (row[head["尚差人数"]], row[head["待鉴证"]])
            assert isinstance(row[head["下一节点"]], dt.datetime)  # a real Excel date
    assert got == {k: (v["gap"], v["pending"]) for k, v in season["mid_expected"].items()}
    source = wb["数据来源"]
    values = {r[0]: r[1] for r in source.iter_rows(min_row=HEADER_ROW + 2, values_only=True)}
    assert values["运行编号"] == season["mid_run"]
    assert values["评估日期"] == dt.datetime(2021, 8, 10)
    assert values["政策文号"] == "沪交医学〔2021〕1号"


def _unit_names(marts: Path) -> dict[str, str]:
    con = duckdb.connect(str(marts), read_only=True)
    try:
        return dict(con.execute("select unit_code, unit_name from reference.units").fetchall())
    finally:
        con.close()


def test_report_names_its_source_and_shows_warnings_as_counts_only(season) -> None:
    html = _html(season, MID)
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert season["mid_run"] in html and "沪交医学〔2021〕1号" in html and "2021.toml" in html
    quality = html[html.index('id="quality"') : html.index('id="source"')]
    # the sample ledger dates its mobilisation meetings after 10 Aug: input warnings, as a count
    assert "submissions/submissions_2021.xlsx 列「就业动员会日期」" in quality
    assert re.search(r"<td class=[\"']num[\"']>\d+</td>", quality)


def test_the_artifact_links_the_report_and_lists_the_furthest_behind(season) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    html, _ = morning.report_paths(season["marts"].parent, YEAR, MID)
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["morning-report-2021"]))
        )
    mine = [a for a in found if html.as_uri() in str(a.data)]
    assert len(mine) == 1
    text = str(mine[0].data)
    gaps: dict[str, int] = {}
    for (unit, _), v in season["mid_expected"].items():
        gaps[unit] = gaps.get(unit, 0) + v["gap"]
    top = max(gaps, key=lambda u: gaps[u])
    short = _short_names(season["marts"])[top]
    assert f"| {short} |" in text and f"| {gaps[top]} |" in text


def _short_names(marts: Path) -> dict[str, str]:
    con = duckdb.connect(str(marts), read_only=True)
    try:
        return dict(con.execute("select unit_code, short_name from reference.units").fetchall())
    finally:
        con.close()


# --- after the last node -------------------------------------------------------------------


def test_after_the_last_node_the_report_says_so_and_shows_the_final_position(season) -> None:
    html = _html(season, AFTER)
    assert "本年度最后一个时间节点（12月15日）已过" in html
    assert 'id="behind"' not in html and "下一节点：" not in html
    shown = _rows(html)
    assert {k: (v["graduates"], v["employed"]) for k, v in shown.items()} == season["dec_expected"]
    for code in _unit_names(season["marts"]):
        assert f'<tbody data-unit="{code}">' in html
    assert 'id="board"' in html and "先进单位" in html
    _, xlsx = morning.report_paths(season["marts"].parent, YEAR, AFTER)
    wb = openpyxl.load_workbook(xlsx)
    assert "12月15日节点结果" in wb[GROUP_NAMES["school"]].cell(1, 1).value
    # each unit's sheet of that night shows its results at the last node
    night = followup.night_dir(season["work"].parent, YEAR, AFTER)
    sheets = sorted(night.glob("*/*_进度单_*.html"))
    assert len(sheets) == len(_unit_names(season["marts"]))
    for path in sheets:
        page = path.read_text(encoding="utf-8")
        assert "本年度最后一个时间节点（12月15日）已过，进度跟踪结束。" in page
        assert "12月15日节点结果" in page and 'data-col="node_points"' in page


def test_the_command_line_says_where_the_report_and_the_lists_are(season) -> None:
    assert season["after_code"] == 0
    stdout = season["after_stdout"]
    html, xlsx = morning.report_paths(season["marts"].parent, YEAR, AFTER)
    lists = followup.night_dir(season["work"].parent, YEAR, AFTER)
    assert stdout.index("记分板") < stdout.index(f"晨报：{html}")
    shown = f"各单位跟进名单与进度单（每个单位一个文件夹，含个人信息，仅限本机）：{lists}"
    assert str(xlsx) in stdout and shown in stdout
    assert lists.is_dir()


# --- rendering -------------------------------------------------------------------------------


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run(
        [str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium not installed")
def test_report_renders_on_screen_and_prints_on_a4(season, tmp_path) -> None:
    html, _ = morning.report_paths(season["marts"].parent, YEAR, MID)
    png = tmp_path / "shot.png"
    _chromium(
        f"--screenshot={png}", "--window-size=1280,1600", html.as_uri(), profile=tmp_path / "a"
    )
    assert png.is_file() and png.stat().st_size > 50_000
    pdf = tmp_path / "report.pdf"
    done = _chromium(
        "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri(), profile=tmp_path / "b"
    )
    assert pdf.is_file(), done.stderr[-2000:]
    data = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert boxes and all(
        abs(float(w) - 595.28) < 2 and abs(float(h) - 841.89) < 2 for w, h in boxes
    )
    assert 2 <= len(boxes) <= 8  # the progress tables, the board, warnings and source


def test_texts_from_the_data_are_escaped_everywhere(season, tmp_path) -> None:
    where = "registrations/<img src=x>&\u202egpj.csv"
    notes = [morning.QualityNote("输入文件", f"{where} 列「=1+1」", 2)]
    m = morning.read_morning(season["marts"], YEAR, MID, notes)
    html, xlsx = morning.write_files(m, tmp_path)
    page = html.read_text(encoding="utf-8")
    assert "<img" not in page and "&lt;img src=x&gt;&amp;gpj.csv" in page
    assert "\u202e" not in page
    cells = [
        c
        for row in openpyxl.load_workbook(xlsx)["数据质量"].iter_rows()
        for c in row
        if isinstance(c.value, str) and "gpj.csv" in c.value
    ]
    assert [c.value for c in cells] == ["registrations/<img src=x>&gpj.csv 列「=1+1」"]
    assert cells[0].data_type == "s"  # text, never a formula
    markdown = morning.artifact_markdown(m, [html, xlsx])
    assert "<img" not in markdown and "\u202e" not in markdown


def test_a_year_without_data_yet_has_no_report_and_says_so(season, tmp_path) -> None:
    marts = tmp_path / "m.duckdb"
    shutil.copy(season["marts"], marts)
    said: list[str] = []
    assert morning.publish_report(marts, 2022, MID, (), said.append) == []
    assert said == ["2022 年没有可评估的数据（发布的数据中没有该年度的记分板），未生成晨报。"]
    assert not list(tmp_path.glob("*progress_*"))
