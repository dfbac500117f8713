"""Stage 1 of the procedure (自评): a pack per unit from the published marts only, and the
returned packs read and checked like every input — a changed figure becomes a difference for
the committee in marts.selfcheck_items and the year-end files; another unit's pack, a pack of
another year and figures out of the ledger's bounds are refused at their file, sheet and cell,
every bad cell at once. In process: no Prefect, no subprocess."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from employment_eval import build, publish, warehouse
from employment_eval.cli import main
from employment_eval.ingest.api import check_inputs, ingest
from employment_eval.problems import Problem
from employment_eval.reference import Reference
from employment_eval.render.yearend import read_year_end, write_files
from employment_eval.rules import load_rules
from employment_eval.selfcheck import layout
from employment_eval.selfcheck.packs import read_packs, write_packs
from tests.ingest_helpers import writable_copy
from tests.warehouse_factory import build_scenario, season

AS_OF = dt.date(2021, 12, 20)
ROWS = {i.item: layout.HEADER_ROW + n for n, i in enumerate(layout.ledger_items(), start=1)}


def cell(item: str) -> str:
    return f"{layout.column_letter(layout.VALUE_COL)}{ROWS[item]}"


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The factory's season published, and a pack per unit written from the published file."""
    root = tmp_path_factory.mktemp("selfcheck")
    con = build_scenario(season([]))
    marts = root / "marts" / "employment.duckdb"
    publish.publish(publish.export_candidate(con, marts, "test"), marts)
    out = root / "packs"
    paths = write_packs(read_packs(marts, 2021), out)
    return {"root": root, "marts": marts, "out": out, "paths": paths}


def test_a_pack_per_unit_holds_only_that_units_figures(packs: dict) -> None:
    units = Reference().units
    assert sorted(p.name for p in packs["paths"]) == sorted(
        layout.pack_name(2021, u.code, u.short_name) for u in units
    )
    renji = packs["out"] / layout.pack_name(2021, "renji", "仁济")
    wb = openpyxl.load_workbook(renji)
    assert wb.sheetnames[0] == layout.SHEET
    ws = wb[layout.SHEET]
    assert ws.protection.sheet  # only the unit's two columns are unlocked
    assert ws["B3"].value == "上海交通大学医学院附属仁济医院" and ws["B4"].value == 2021
    labels = [ws.cell(ROWS[i.item], layout.ITEM_COL + 1).value for i in layout.ledger_items()]
    assert labels == [i.label for i in layout.ledger_items()]
    assert ws[f"C{ROWS['i7_forms']}"].value == 3  # the factory's ledger: 3 forms
    assert not ws[f"E{ROWS['i7_forms']}"].protection.locked
    assert ws[f"C{ROWS['i7_forms']}"].protection.locked
    with zipfile.ZipFile(renji) as z:
        text = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))
    others = [u.name for u in units if u.code != "renji" and u.name in text]
    assert not others  # no other unit's figures


def test_the_command_refuses_another_as_of_than_the_published(packs: dict, capsys) -> None:
    code = main(["selfcheck", "--marts", str(packs["marts"]), "--as-of", "2021-12-01",
                 "--out", str(packs["root"] / "other")])  # fmt: skip
    assert code == 2
    assert "发布数据库的评估日期是 2021-12-20" in capsys.readouterr().err


def _returned(packs: dict, raw: Path, unit: str, short: str, edits: dict, name: str = "") -> Path:
    wb = openpyxl.load_workbook(packs["out"] / layout.pack_name(2021, unit, short))
    ws = wb[layout.SHEET]
    for ref, value in edits.items():
        ws[ref] = value
    path = raw / "selfcheck" / (name or layout.pack_name(2021, unit, short))
    path.parent.mkdir(exist_ok=True)
    wb.save(path)
    return path


def _at(problems: list[Problem], sheet: str | None, cell_ref: str | None) -> list[Problem]:
    return [
        p for p in problems if p.sheet == sheet and p.cell == cell_ref and p.severity == "error"
    ]


def test_a_changed_figure_is_a_difference_for_the_committee(
    packs: dict, sample_raw, tmp_path
) -> None:
    raw = writable_copy(sample_raw, tmp_path / "raw")
    note = "本单位10月另组织校友座谈4次，记录已补交"
    _returned(packs, raw, "renji", "仁济", {cell("i5_talks"): 9, f"F{ROWS['i5_talks']}": note})
    con = duckdb.connect()
    warehouse.ensure_meta(con)
    rules = load_rules(2021)
    ingest(raw, con, as_of=AS_OF, run_id="t", rules=[rules])
    warehouse.record_run_facts(
        con, run_id="t", year=2021, as_of=AS_OF, rules_file=rules.path, rules_sha256=rules.sha256,
        policy_number=rules.policy_number, code_version="test",
        generated_at=dt.datetime(2021, 12, 20, 2), input_files=1,
    )  # fmt: skip
    build.build_models(con, [rules])
    items = con.execute(
        "select item, centre_number, stated_number, is_different, note, pack_file, value_cell "
        "from marts.selfcheck_items where year = 2021 and unit_code = 'renji' and is_stated"
    ).fetchall()
    assert len(items) == 1
    item, centre, stated, different, got_note, file, where = items[0]
    assert (item, stated, different, got_note) == ("i5_talks", 9, True, note)
    assert centre != 9 and file == "selfcheck/自评表_2021_renji_仁济.xlsx"
    assert where == f"{layout.SHEET}!{cell('i5_talks')}"
    others = con.execute(
        "select count(*) from marts.selfcheck_items where has_pack and unit_code <> 'renji'"
    ).fetchone()[0]
    assert others == 0
    # the year-end files put it before the committee
    marts = tmp_path / "marts" / "employment.duckdb"
    publish.publish(publish.export_candidate(con, marts, "t"), marts)
    out = tmp_path / "yearend"
    xlsx, _csv, html = write_files(read_year_end(marts, 2021), out)
    ws = openpyxl.load_workbook(xlsx)["单位自评对照"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5)]
    differing = [r for r in rows if r[6] == "是"]
    assert len(differing) == 1 and differing[0][2] == "职业导师校友座谈次数"
    assert differing[0][5] == "9" and differing[0][7] == note
    page = html.read_text(encoding="utf-8")
    assert "单位自评与就业中心登记的差异" in page and note in page


def test_wrong_packs_are_refused_at_their_sheet_and_cell(packs: dict, sample_raw, tmp_path) -> None:
    raw = writable_copy(sample_raw, tmp_path / "raw")
    # another unit's pack returned under renji's name
    _returned(packs, raw, "ruijin", "瑞金", {}, name=layout.pack_name(2021, "renji", "仁济"))
    # figures out of the ledger's bounds, every one reported
    _returned(packs, raw, "xinhua", "新华", {
        cell("i1_review_score"): 7, cell("i7_forms"): -1, cell("i5_meeting_date"): "2021-13-40",
        cell("i4_review_score"): "很好",
    })  # fmt: skip
    # a pack of another year under this year's name
    _returned(packs, raw, "ninth", "九院", {"B4": 2020})
    result = check_inputs(raw, as_of=AS_OF, raise_on_error=False, rules=[load_rules(2021)])
    problems = result.problems
    renji = [p for p in problems if p.file == "selfcheck/自评表_2021_renji_仁济.xlsx"]
    (unit,) = _at(renji, layout.SHEET, "B3")
    assert "上海交通大学医学院附属瑞金医院" in unit.reason and "另一单位的自评表" in unit.reason
    assert "工作表「自评表」，单元格 B3" in unit.render()
    xinhua = [p for p in problems if p.file == "selfcheck/自评表_2021_xinhua_新华.xlsx"]
    assert "超出范围（应为 0–5" in _at(xinhua, layout.SHEET, cell("i1_review_score"))[0].reason
    assert "不小于 0 的整数" in _at(xinhua, layout.SHEET, cell("i7_forms"))[0].reason
    assert "不是有效日期" in _at(xinhua, layout.SHEET, cell("i5_meeting_date"))[0].reason
    assert "不是数值" in _at(xinhua, layout.SHEET, cell("i4_review_score"))[0].reason
    ninth = [p for p in problems if p.file == "selfcheck/自评表_2021_ninth_九院.xlsx"]
    (year,) = _at(ninth, layout.SHEET, "B4")
    assert "这是 2020 年度的自评表，而文件名写的是 2021 年度" in year.reason
    assert any("没有 2020 届的导出" in p.reason for p in ninth)  # nor is 2020 evaluated
    assert len([p for p in problems if p.severity == "error"]) == 7  # and nothing else
