"""One bad file gives one error: file-level errors (unreadable, empty, undecodable, not a
workbook, header only, a required column missing) are left out of the cross-file rules, and
header-only files of the other kinds mean what docs/输入文件格式.md says."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from employment_eval.ingest.api import check_inputs
from employment_eval.problems import Problem
from tests.ingest_helpers import (
    ADJ_HEADERS,
    LEDGER_HEADERS,
    REG_HEADERS,
    ROSTER_HEADERS,
    cohort_rows,
    make_raw,
    to_csv_bytes,
    without_name_dates,
    write_csv,
)

AS_OF = date(2021, 12, 31)
LATEST = "registrations/export_2021-12-15.csv"


def problems_of(raw: Path) -> list[Problem]:
    return without_name_dates(check_inputs(raw, as_of=AS_OF, raise_on_error=False).problems)


def season(tmp_path: Path) -> Path:
    """A valid folder whose roster names students only the (later) latest export has: any
    roster check against an older export would report every one of them."""
    raw = make_raw(tmp_path, roster=False)
    later = cohort_rows()
    later += [dict(later[0], 学号=f"LATE{i:04d}", 姓名=f"后来{i}") for i in range(22)]
    write_csv(raw / LATEST, REG_HEADERS, later)
    write_csv(
        raw / "special_groups" / "roster.csv",
        ROSTER_HEADERS,
        [[f"LATE{i:04d}", "经济困难", "2021"] for i in range(22)],
    )
    assert problems_of(raw) == []
    return raw


SPOIL = {
    "empty": (b"", "为空"),
    "only a BOM": (b"\xef\xbb\xbf", "为空"),
    "undecodable": (b"\x81\x30\xff\xfe\x00\xff" * 40, "编码"),
    "header only": (to_csv_bytes(REG_HEADERS, []), "只有表头"),
    "a required column missing": (
        to_csv_bytes([h for h in REG_HEADERS if h != "培养单位"], cohort_rows()),
        "缺少必需的列「培养单位」",
    ),
}


@pytest.mark.parametrize("case", sorted(SPOIL))
def test_one_broken_export_is_one_error(tmp_path, case):
    raw = season(tmp_path)
    content, text = SPOIL[case]
    (raw / LATEST).write_bytes(content)
    problems = problems_of(raw)
    assert [(p.file, p.severity) for p in problems] == [(LATEST, "error")], [
        p.render() for p in problems
    ]
    assert text in problems[0].reason
    assert not any("LATE" in p.render() for p in problems)  # no student number quoted


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_only_export_broken_is_one_error(tmp_path, suffix):
    raw = make_raw(tmp_path)
    (raw / "registrations" / "export_2021-06-15.csv").unlink()
    (raw / "registrations" / f"export_2021-06-15{suffix}").write_bytes(b"PK\x03\x04 not a zip")
    problems = problems_of(raw)
    assert [p.file for p in problems] == [f"registrations/export_2021-06-15{suffix}"]
    # not also "no export at all", nor D13 for 15 units, nor the roster, nor 8 columns
    assert ("Excel" if suffix == ".xlsx" else "应有的列") in problems[0].reason


def test_an_unsupported_file_among_the_exports_does_not_cascade(tmp_path):
    raw = season(tmp_path)
    (raw / LATEST).rename(raw / "registrations" / "export_2021-12-15.xls")
    problems = problems_of(raw)
    assert [p.file for p in problems] == ["registrations/export_2021-12-15.xls"]


def test_a_header_only_export_is_an_error_even_as_the_only_one(tmp_path):
    raw = make_raw(tmp_path, roster=False)
    write_csv(raw / "registrations" / "export_2021-06-15.csv", REG_HEADERS, [])
    [err] = problems_of(raw)
    assert err.file == "registrations/export_2021-06-15.csv" and err.severity == "error"
    assert "没有任何毕业生记录" in err.reason and "D13" in err.reason


def test_a_broken_ledger_file_does_not_warn_about_every_unit(tmp_path):
    raw = make_raw(tmp_path)
    (raw / "submissions" / "submissions_2021.csv").write_bytes(b"")
    problems = problems_of(raw)
    assert [(p.file, p.severity) for p in problems] == [
        ("submissions/submissions_2021.csv", "error")
    ]


def test_header_only_roster_ledger_and_adjustments(tmp_path):
    """Roster: lists nobody (a warning, I6 depends on it). Ledger: normal in season, the
    usual warnings about units without a row. Adjustments: no adjustments, nothing said."""
    raw = make_raw(tmp_path)
    write_csv(raw / "special_groups" / "roster.csv", ROSTER_HEADERS, [])
    write_csv(raw / "submissions" / "submissions_2021.csv", LEDGER_HEADERS, [])
    write_csv(raw / "adjustments" / "adjustments.csv", ADJ_HEADERS, [])
    problems = problems_of(raw)
    assert all(p.severity == "warning" for p in problems), [p.render() for p in problems]
    [roster] = [p for p in problems if p.file.startswith("special_groups/")]
    assert "只有表头" in roster.reason and "I6" in roster.reason
    [ledger] = [p for p in problems if p.file.startswith("submissions")]
    assert "没有 2021 年度的单位材料登记表" in ledger.reason and "暂定" in ledger.reason
    assert not [p for p in problems if p.file.startswith("adjustments/")]
