"""The blank submissions ledger (`employment-eval template`): Chinese headers with notes, one
pre-filled row per unit, Excel data validation on every column, and read back by ingestion
(blank: warnings only; filled in: clean)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from ingest_helpers import writable_copy

from employment_eval import cli
from employment_eval.ingest.api import check_inputs
from employment_eval.ingest.schema import SUBMISSION_COLUMNS
from employment_eval.options import default_year
from employment_eval.reference import read_seed
from employment_eval.template import SHEET, write_template

AS_OF = dt.date(2021, 12, 20)
UNIT_NAMES = [
    r["unit_name"] for r in sorted(read_seed("units"), key=lambda r: int(r["sort_order"]))
]


@pytest.fixture()
def raw(tmp_path: Path, sample_raw: Path) -> Path:
    target = tmp_path / "raw"
    writable_copy(sample_raw, target)
    for p in (target / "submissions").iterdir():
        p.unlink()
    return target


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def _validations(ws) -> dict[str, object]:
    """Column letter → its data validation (each covers rows 2–16 of one column)."""
    found = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            assert (rng.min_row, rng.max_row) == (2, 16)
            assert rng.min_col == rng.max_col
            found[openpyxl.utils.get_column_letter(rng.min_col)] = dv
    return found


def test_template_headers_rows_notes_and_validation(tmp_path: Path) -> None:
    path = write_template(tmp_path / "ledger.xlsx", 2021)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == SHEET
    ws = wb[SHEET]
    headers = [c.value for c in ws[1]]
    assert headers == [c.header for c in SUBMISSION_COLUMNS]
    assert all(c.comment is not None and c.comment.text for c in ws[1])
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert [r[0] for r in rows] == UNIT_NAMES
    assert {r[1] for r in rows} == {2021}
    assert all(v is None for r in rows for v in r[2:])

    dv = _validations(ws)
    letter = {
        c.name: openpyxl.utils.get_column_letter(i + 1) for i, c in enumerate(SUBMISSION_COLUMNS)
    }
    assert set(dv) == set(letter.values())  # every column validated

    def rule(name: str) -> tuple:
        v = dv[letter[name]]
        return v.type, v.operator or "between", v.formula1, v.formula2  # between: the default

    assert dv[letter["unit"]].type == "list"
    assert "单位名单" in dv[letter["unit"]].formula1
    assert rule("year") == ("whole", "equal", "2021", None)
    assert rule("i1_review_score") == ("decimal", "between", "0", "5")
    assert rule("i4_review_score") == ("decimal", "between", "0", "20")
    for name in ("i2_complaints", "i5_talks", "i7_forms", "i8_stories"):
        assert rule(name) == ("whole", "greaterThanOrEqual", "0", None)
    for name in ("i4_report_date", "i5_meeting_date"):
        assert dv[letter[name]].type == "date"
    meeting = dv[letter["i5_meeting_date"]]
    # Excel serial dates of 2021-01-01 and 2021-12-31
    assert (meeting.formula1, meeting.formula2) == ("44197", "44561")
    assert all(v.showErrorMessage and v.prompt for v in dv.values())
    hidden = wb["单位名单"]
    assert hidden.sheet_state == "hidden"
    assert [c.value for c in hidden["A"]][1:] == UNIT_NAMES


def test_blank_template_is_read_by_ingestion_with_warnings_only(raw: Path) -> None:
    write_template(raw / "submissions" / "submissions_2021.xlsx", 2021)
    result = check_inputs(raw, as_of=AS_OF, raise_on_error=False)
    assert [p for p in result.problems if p.severity == "error"] == []
    ledger = [p for p in result.problems if p.file.startswith("submissions/")]
    assert ledger and all(p.severity == "warning" for p in ledger)
    assert {p.column for p in ledger} >= {"就业工作组织得分", "未就业学生排摸得分"}


def test_filled_in_template_reads_clean(raw: Path) -> None:
    path = write_template(raw / "submissions" / "submissions_2021.xlsx", 2021)
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    for r in range(2, 17):
        values = [4.5, 0, 18, dt.datetime(2021, 3, 20), dt.datetime(2021, 10, 15), 2, 3, 3]
        for c, v in enumerate(values, start=3):
            ws.cell(r, c, v)
    wb.save(path)
    result = check_inputs(raw, as_of=AS_OF, raise_on_error=False)
    assert [p.render() for p in result.problems if p.file.startswith("submissions/")] == []


def test_template_command_default_name_and_no_overwrite(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(["template"])
    year = default_year()
    assert code == 0
    assert (tmp_path / f"submissions_{year}.xlsx").is_file()
    assert f"submissions_{year}.xlsx" in out
    code, _, err = _run(["template"])
    assert code == 2 and "已存在" in err  # bad usage: refused before anything is written
    code, _, _ = _run(["template", "--year", "2021", "--out", "sub/ledger.xlsx"])
    assert code == 0
    wb = openpyxl.load_workbook(tmp_path / "sub" / "ledger.xlsx")
    assert wb[SHEET]["B2"].value == 2021
