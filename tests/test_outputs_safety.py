"""Safe outputs: the year-end files (xlsx, csv, html) and the Prefect artifacts, written from a
marts file whose units carry hostile names (formulas, a HYPERLINK, HTML, a Markdown link, bidi
overrides) taken from a temporary copy of the reference data, built through every SQL model.

Checked: no CSV cell a spreadsheet would evaluate (numbers untouched), no xlsx formula or
hyperlink, no text cut at Excel's limit (an error instead, previous files untouched), no HTML
tag or link from the data, Markdown that renders as the same text, and no bidi control in any
output."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import re
import shutil
import zipfile
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from employment_eval import artifacts, build, publish, textsafe
from employment_eval.paths import REFERENCE_DIR
from employment_eval.render.yearend import read_year_end, write_files
from employment_eval.render.yearend.data import MissingProvenanceError
from employment_eval.render.yearend.workbook import HEADER_ROW
from employment_eval.rules import load_rules
from employment_eval.textsafe import BIDI_CONTROLS, TextTooLongError
from tests.warehouse_factory import Grad, Scenario, build_scenario, fill_units, season, unemployed

pytestmark = pytest.mark.xdist_group("yearend")

YEAR = 2021
RLO, PDF_, LRI, PDI = "\u202e", "\u202c", "\u2066", "\u2069"
# unit code -> (unit name, short name); every other unit keeps its reference name
HOSTILE = {
    "ug_branch": ("=1+1", "=2+2"),
    "basic": ('=HYPERLINK("http://evil.example/x","点我")', "@SUM(A1:A9)"),
    "nursing": ("@SUM(1+1)*cmd|' /C calc'!A0", "+护理"),
    "public_health": ("-2+3", "-公卫"),
    "ruijin": ('<img src=x onerror="alert(1)">瑞金医院', "<b>瑞金</b>"),
    "renji": ("[仁济](javascript:alert(1)) ![x](http://evil.example/t.png)", "[仁济](x)"),
    "xinhua": (f"新华医院{RLO}gpj.exe{PDF_}", f"{LRI}新华{PDI}"),
    "ninth": ("第九人民医院 | **粗体** `code` # 标题", "_九院_"),
}
# what a reader must see: the name without bidi controls
SHOWN = {code: textsafe.clean(name) for code, (name, _) in HOSTILE.items()}
FORMULA_CODES = {"ug_branch", "basic", "nursing", "public_health"}


def _hostile_reference(target: Path) -> Path:
    shutil.copytree(REFERENCE_DIR, target)
    with open(REFERENCE_DIR / "units.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["unit_code"] in HOSTILE:
            row["unit_name"], row["short_name"] = HOSTILE[row["unit_code"]]
    with open(target / "units.csv", "w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)
    return target


def _publish(con: duckdb.DuckDBPyConnection, marts: Path) -> Path:
    candidate = publish.export_candidate(con, marts, "test")
    publish.publish(candidate, marts)
    return marts


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A final season whose units have the HOSTILE names; the three files written from it."""
    base = tmp_path_factory.mktemp("hostile")
    reference = _hostile_reference(base / "reference")
    con = build_scenario(season([]))
    try:
        build.build_models(con, [load_rules(YEAR)], reference_dir=reference)
        marts = _publish(con, base / "marts" / "employment.duckdb")
    finally:
        con.close()
    ye = read_year_end(marts, YEAR)
    files = write_files(ye, base / "out")
    return {"marts": marts, "ye": ye, "xlsx": files[0], "csv": files[1], "html": files[2]}


def _no_bidi(text: str) -> bool:
    return not any(ch in text for ch in BIDI_CONTROLS)


def test_the_hostile_names_reach_the_marts(hostile) -> None:
    """The names really are in the published scoreboard (else the other tests prove nothing)."""
    con = duckdb.connect(str(hostile["marts"]), read_only=True)
    try:
        names = dict(con.execute("select unit_code, unit_name from marts.scoreboard").fetchall())
    finally:
        con.close()
    assert {code: names[code] for code in HOSTILE} == {c: n for c, (n, _) in HOSTILE.items()}


# --- csv -----------------------------------------------------------------------------------


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_csv_neutralises_formulas_and_keeps_numbers(hostile) -> None:
    rows = {r["单位代码"]: r for r in _csv_rows(hostile["csv"])}
    for code in HOSTILE:
        expected = ("'" if code in FORMULA_CODES else "") + SHOWN[code]
        assert rows[code]["单位"] == expected
    for row in rows.values():
        assert not row["单位"].startswith(textsafe.FORMULA_STARTS)
        assert re.fullmatch(r"\d+\.\d{2}", row["总分"])  # numbers are never prefixed
        assert int(row["组内名次"]) >= 1
    assert _no_bidi(hostile["csv"].read_text(encoding="utf-8-sig"))


def test_csv_text_starting_with_tab_or_cr_is_neutralised_and_negative_numbers_stay(
    hostile, tmp_path
) -> None:
    ye = hostile["ye"]
    first, second = ye.units[0], ye.units[1]
    i1 = first.scores["I1"]
    units = (
        dataclasses.replace(
            first,
            name="\t=1+1",
            scores={**first.scores, "I1": dataclasses.replace(i1, points=Decimal("-1.50"))},
        ),
        dataclasses.replace(second, name="\r=2+2"),
        *ye.units[2:],
    )
    path = write_files(dataclasses.replace(ye, units=units), tmp_path)[1]
    rows = {r["单位代码"]: r for r in _csv_rows(path)}
    assert rows[first.code]["单位"] == "'\t=1+1"
    assert rows[second.code]["单位"] == "'\r=2+2"
    i1_header = next(h for h in rows[first.code] if h.startswith("I1 "))
    assert rows[first.code][i1_header] == "-1.50"


# --- xlsx ----------------------------------------------------------------------------------


def test_xlsx_has_no_formula_and_no_hyperlink(hostile) -> None:
    wb = openpyxl.load_workbook(hostile["xlsx"])
    seen = set()
    for ws in wb.worksheets:
        assert not ws._hyperlinks, ws.title
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert _no_bidi(cell.value)
                    seen.add(cell.value)
    assert set(SHOWN.values()) <= seen  # written as plain text, exactly as shown
    with zipfile.ZipFile(hostile["xlsx"]) as z:
        for name in z.namelist():
            data = z.read(name).decode("utf-8", errors="replace")
            assert "<f>" not in data and "<f " not in data, name
            assert "<hyperlink" not in data and "relationships/hyperlink" not in data, name
            assert _no_bidi(data), name


def _long_name_year_end(ye, length: int, char: str = "长"):
    unit = dataclasses.replace(ye.units[0], name=char * length)
    return dataclasses.replace(ye, units=(unit, *ye.units[1:]))


def test_xlsx_text_at_the_limit_is_written_whole(hostile, tmp_path) -> None:
    files = write_files(_long_name_year_end(hostile["ye"], textsafe.EXCEL_TEXT_LIMIT), tmp_path)
    ws = openpyxl.load_workbook(files[0])["院本部"]
    names = [c.value for c in ws["B"] if isinstance(c.value, str)]
    assert any(len(n) == textsafe.EXCEL_TEXT_LIMIT for n in names)


@pytest.mark.parametrize(
    "length, char",
    [(textsafe.EXCEL_TEXT_LIMIT + 1, "长"), (textsafe.EXCEL_TEXT_LIMIT // 2 + 1, "😀")],
    ids=["one-over", "utf16-pairs"],
)
def test_xlsx_text_over_the_limit_is_refused_and_old_files_stay(
    hostile, tmp_path, length: int, char: str
) -> None:
    before = write_files(hostile["ye"], tmp_path)
    contents = {p: p.read_bytes() for p in before}
    with pytest.raises(TextTooLongError, match="32,767") as err:
        write_files(_long_name_year_end(hostile["ye"], length, char), tmp_path)
    assert "院本部" in str(err.value)  # names the sheet and the cell
    assert {p: p.read_bytes() for p in before} == contents
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in before)


def test_xlsx_comment_over_the_limit_is_refused(hostile, tmp_path) -> None:
    ye = hostile["ye"]
    unit = ye.units[0]
    score = dataclasses.replace(
        unit.scores["I6"], adjusted=True, note="理" * (textsafe.EXCEL_COMMENT_LIMIT + 1)
    )
    units = (dataclasses.replace(unit, scores={**unit.scores, "I6": score}), *ye.units[1:])
    with pytest.raises(TextTooLongError, match="批注"):
        write_files(dataclasses.replace(ye, units=units), tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- html ----------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_html_shows_hostile_names_as_text(hostile) -> None:
    html = hostile["html"].read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(html)
    kinds = {tag for tag, _ in parser.tags}
    assert not kinds & {"img", "script", "iframe", "object", "link"}  # (<b> is ours: totals)
    hrefs = [a.get("href") or "" for tag, a in parser.tags if tag == "a"]
    assert hrefs and all(h.startswith("#") for h in hrefs)  # only links within the page
    assert not any("onerror" in a for _, a in parser.tags)
    text = "".join(parser.text)
    for shown in SHOWN.values():
        assert shown in text
    assert textsafe.clean(HOSTILE["ruijin"][1]) in text  # short names label the charts
    assert _no_bidi(html)


# --- artifacts (Markdown) ------------------------------------------------------------------


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def _rendered_text(html: str) -> str:
    parser = _Tags()
    parser.feed(html)
    return "".join(parser.text)


def _assert_inert(html: str) -> None:
    parser = _Tags()
    parser.feed(html)
    kinds = {tag for tag, _ in parser.tags}
    assert not kinds & {"img", "a", "b", "script", "code", "em", "strong", "h1", "h2", "del"}, (
        kinds,
        html,
    )


def test_scoreboard_artifact_cells_render_as_text(hostile) -> None:
    rows = artifacts.scoreboard_rows(hostile["marts"], YEAR)
    assert len(rows) == 15
    html = _markdown().render(_table_markdown(rows))
    _assert_inert(html)
    assert html.count("<tr>") == 16  # no cell split a row or added one
    text = _rendered_text(html)
    for shown in SHOWN.values():
        assert shown in text
    assert {r["状态"] for r in rows} == {"最终"}


@pytest.fixture(scope="module")
def july(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """In season (1 July, provisional), the HOSTILE names: 瑞金 (short name '<b>瑞金</b>') is
    behind its next node."""
    base = tmp_path_factory.mktemp("hostile_july")
    reference = _hostile_reference(base / "reference")
    day = dt.date(2021, 7, 1)
    grads = [Grad(f"rj-{i:03d}", "ruijin") for i in range(20)]
    grads += [unemployed(f"rj-u{i:03d}", "ruijin") for i in range(10)]
    con = build_scenario(Scenario(exports={day: fill_units(grads)}, as_of=day))
    try:
        build.build_models(con, [load_rules(YEAR)], reference_dir=reference)
        return _publish(con, base / "marts.duckdb")
    finally:
        con.close()


def test_furthest_behind_artifact_escapes_short_names(july) -> None:
    rows = artifacts.furthest_behind_rows(july, YEAR, limit=50)
    ruijin = [r for r in rows if r["单位代码"] == "ruijin"]
    assert ruijin and ruijin[0]["尚差人数"] > 0
    for row in rows:
        _assert_inert(
            _markdown().render(f"| a | b |\n|---|---|\n| {row['单位代码']} | {row['单位']} |\n")
        )
    html = _markdown().render(f"| a |\n|---|\n| {ruijin[0]['单位']} |\n")
    assert _rendered_text(html).split()[-1] == "<b>瑞金</b>"  # the cell, after the header


def _table_markdown(rows: list[dict]) -> str:
    header = "| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]) + "\n"
    return header + "".join("| " + " | ".join(str(v) for v in r.values()) + " |\n" for r in rows)


def test_prefect_artifacts_of_a_provisional_run_are_inert_and_say_provisional(july) -> None:
    """The real artifacts, created in a flow run and read back from the Prefect API."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.context import get_run_context

    lines = [f"输入文件 {HOSTILE['renji'][0]}.xlsx"]
    warnings = [f"{HOSTILE['ruijin'][0]}.csv：输入警告 2 条", HOSTILE["xinhua"][0]]

    @flow(name="attach_hostile_artifacts", persist_result=False)
    def attach_hostile() -> str:
        artifacts.attach(july, YEAR, lines, warnings)
        return str(get_run_context().flow_run.id)

    run_id = attach_hostile()
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    by_key = {a.key: a for a in found}
    assert set(by_key) == {"scoreboard-2021", "quality-summary", "furthest-behind-2021"}

    summary = by_key["quality-summary"].data
    html = _markdown().render(summary)
    parser = _Tags()
    parser.feed(html)
    kinds = [tag for tag, _ in parser.tags]
    assert set(kinds) == {"h1", "h2", "ul", "li"} and kinds.count("h1") == kinds.count("h2") == 1
    text = _rendered_text(html)
    assert f"{SHOWN['ruijin']}.csv" in text and SHOWN["xinhua"] in text
    assert f"{SHOWN['renji']}.xlsx" in text
    assert "暂定" in text and "沪交医学〔2021〕1号" in text
    assert _no_bidi(summary)

    for key in ("scoreboard-2021", "furthest-behind-2021"):
        data = by_key[key].data
        rows = json.loads(data) if isinstance(data, str) else data
        html = _markdown().render(_table_markdown(rows))
        _assert_inert(html)
        assert html.count("<tr>") == len(rows) + 1
    board = json.loads(by_key["scoreboard-2021"].data)
    assert {r["状态"] for r in board} == {"暂定"}
    assert "暂定" in by_key["scoreboard-2021"].description
    shown = _rendered_text(_markdown().render(_table_markdown(board)))
    assert all(name in shown for name in SHOWN.values())


def test_quality_summary_escapes_values_and_file_names() -> None:
    lines = ["评估日期 2021-12-20，年度 2021"]
    warnings = [
        "registrations/<img src=x onerror=alert(1)>.csv：第 3 行 单位 无法识别",
        "[点此](javascript:alert(1)) 第 5 行",
        f"submissions/{RLO}xslx.exe：## 标题\n# 另一行\n- 列表",
        "<script>alert(1)</script>",
        "1. 有序列表 *强调* _下划线_ `代码` ~~删除~~",
    ]
    md = artifacts.quality_markdown(lines, warnings)
    html = _markdown().render(md)
    parser = _Tags()
    parser.feed(html)
    kinds = [tag for tag, _ in parser.tags]
    assert kinds.count("h1") == 1 and kinds.count("h2") == 1  # our two headings only
    assert not set(kinds) & {"img", "a", "script", "code", "em", "strong", "del", "ol", "h3"}
    assert kinds.count("li") == len(lines) + len(warnings)
    text = _rendered_text(html)
    assert "<img src=x onerror=alert(1)>" in text and "[点此](javascript:alert(1))" in text
    assert _no_bidi(md)


_PUNCT = "".join(chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum())


@given(
    st.text(
        alphabet=st.sampled_from([*_PUNCT, " ", "a", "1", "院", "\n", *sorted(BIDI_CONTROLS)]),
        max_size=40,
    )
)
def test_markdown_text_renders_as_the_same_text(value: str) -> None:
    """Whatever a value holds, the rendered paragraph reads as the value itself (one line,
    bidi controls removed, outer spaces trimmed) and is never a link, image, HTML or emphasis."""
    html = _markdown().render(f"- {textsafe.markdown_text(value)}\n")
    _assert_inert(html)
    expected = re.sub(r"[\r\n]+", " ", textsafe.clean(value)).strip()
    assert _rendered_text(html).strip() == expected.strip()


# --- provenance is required -------------------------------------------------------------------


def test_a_marts_file_without_run_info_is_refused(hostile, tmp_path) -> None:
    old = tmp_path / "old.duckdb"
    shutil.copy(hostile["marts"], old)
    con = duckdb.connect(str(old))
    con.execute("drop table marts.run_info")
    con.close()
    with pytest.raises(MissingProvenanceError, match="缺少运行信息"):
        read_year_end(old, YEAR)


def test_bidi_controls_never_reach_any_file(hostile) -> None:
    for key in ("csv", "html"):
        assert _no_bidi(hostile[key].read_text(encoding="utf-8-sig"))
    with zipfile.ZipFile(hostile["xlsx"]) as z:
        assert all(_no_bidi(z.read(n).decode("utf-8", "replace")) for n in z.namelist())
    ws = openpyxl.load_workbook(hostile["xlsx"])["附属综合性医院"]
    names = [r[1].value for r in ws.iter_rows(min_row=HEADER_ROW + 2) if r[1].value]
    assert SHOWN["xinhua"] in names


def test_a_hostile_policy_number_stays_inside_the_css_and_the_text(hostile, tmp_path) -> None:
    """The policy number comes from the centre's rules file; it is printed in the page footer
    (a CSS string) and in the text: it can close neither the string nor the <style>."""
    ye = hostile["ye"]
    policy = f'"}} </style><script>alert(1)</script> {RLO}'
    provenance = dataclasses.replace(ye.provenance, policy_number=policy)
    files = write_files(dataclasses.replace(ye, provenance=provenance), tmp_path)
    html = files[2].read_text(encoding="utf-8")
    assert html.count("</style>") == 1 and "<script" not in html
    style = html.split("<style>")[1].split("</style>")[0]
    footer = style.split("@bottom-left")[1].split("}")[0]
    assert re.fullmatch(r'\s*\{\s*content: "[^"<>{}]*";.*', footer, re.S)
    assert _no_bidi(html)
    rows = list(csv.DictReader(files[1].read_text(encoding="utf-8-sig").splitlines()))
    assert {r["政策文号"] for r in rows} == {textsafe.clean(policy)}
