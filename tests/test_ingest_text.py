"""Cell text: strict student numbers, length limits, and no personal data in the free text
that is published (the adjustments' 理由 and 审批人)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from employment_eval.ingest.api import check_inputs, ingest
from employment_eval.ingest.schema import (
    APPROVER_LIMIT,
    CELL_LIMIT,
    COLUMNS,
    REASON_LIMIT,
    STUDENT_ID_LIMIT,
)
from employment_eval.problems import InputError, Problem
from tests.ingest_helpers import (
    ADJ_HEADERS,
    REG_HEADERS,
    ROSTER_HEADERS,
    cohort_rows,
    make_raw,
    reference,
    write_csv,
    write_xlsx,
)

AS_OF = date(2021, 12, 31)
EXPORT = "registrations/export_2021-06-15.csv"
ADJ = "adjustments/adjustments.csv"


def problems_of(raw: Path) -> list[Problem]:
    return check_inputs(raw, as_of=AS_OF, raise_on_error=False).problems


def errors_at(raw: Path) -> dict[tuple[str, int | None, str | None], str]:
    return {(p.file, p.row, p.column): p.reason for p in problems_of(raw) if p.severity == "error"}


# --- strict student numbers --------------------------------------------------------------

INVISIBLE = {
    "BOM": "\ufeff",
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "NUL": "\x00",
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "pop directional isolate": "\u2069",
    "left-to-right mark": "\u200e",
    "right-to-left mark": "\u200f",
    "soft hyphen (format)": "\u00ad",
    "bell (control)": "\x07",
    "space inside": " ",
    "ideographic space inside": "\u3000",
    "replacement character": "\ufffd",
}


@pytest.mark.parametrize("name", sorted(INVISIBLE))
def test_an_invisible_character_in_a_student_number_is_an_error(tmp_path, name):
    """The export's 学号 differs from the roster's only by an invisible character: one error
    at the export's cell, and not the contradictory 「不在最新导出」 for the roster."""
    raw = make_raw(tmp_path)
    rows = cohort_rows()
    sid = rows[0]["学号"]  # listed in the roster of make_raw
    rows[0]["学号"] = sid[:4] + INVISIBLE[name] + sid[4:]
    write_csv(raw / "registrations" / "export_2021-06-15.csv", REG_HEADERS, rows)
    problems = problems_of(raw)
    [err] = problems
    assert (err.file, err.row, err.column, err.severity) == (EXPORT, 2, "学号", "error")
    assert f"U+{ord(INVISIBLE[name]):04X}" in err.reason and "第 5 个字符" in err.reason


def test_full_width_digits_and_the_roster_student_number(tmp_path):
    raw = make_raw(tmp_path)
    sid = cohort_rows()[0]["学号"]
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in sid)
    write_csv(
        raw / "special_groups" / "roster.csv",
        ROSTER_HEADERS,
        [[full_width, "经济困难", "2021"], ["\u200b" + sid, "学业困难", "2021"]],
    )
    errs = errors_at(raw)
    assert set(errs) == {
        ("special_groups/roster.csv", 2, "学号"),
        ("special_groups/roster.csv", 3, "学号"),
    }
    assert "全角" in errs[("special_groups/roster.csv", 2, "学号")]
    assert "U+200B" in errs[("special_groups/roster.csv", 3, "学号")]
    assert not any("不在最新导出" in r for r in errs.values())


def test_a_student_number_in_an_xlsx_with_a_zero_width_space(tmp_path):
    raw = make_raw(tmp_path)
    rows = cohort_rows()
    rows[3]["学号"] = rows[3]["学号"] + "\u200b"
    write_xlsx(raw / "registrations" / "export_2021-06-15.xlsx", REG_HEADERS, rows)
    (raw / "registrations" / "export_2021-06-15.csv").unlink()
    [err] = problems_of(raw)
    assert (err.file, err.row, err.column) == ("registrations/export_2021-06-15.xlsx", 5, "学号")


def test_a_bom_in_a_header_cell_is_ignored(tmp_path):
    """A file saved twice with a BOM: the second one is in the first header cell."""
    raw = make_raw(tmp_path)
    headers = ["\ufeff学号", *REG_HEADERS[1:]]
    rows = [[r[h] for h in REG_HEADERS] for r in cohort_rows()]
    path = write_csv(raw / "registrations" / "export_2021-06-15.csv", headers, rows, "utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf\xef\xbb\xbf")
    assert problems_of(raw) == []


# --- length limits -----------------------------------------------------------------------


def test_limits_are_per_column_and_named():
    limits = {(kind, c.name): c.max_chars for kind, cols in COLUMNS.items() for c in cols}
    assert limits[("adjustments", "reason")] == REASON_LIMIT == 1000
    assert limits[("adjustments", "approved_by")] == APPROVER_LIMIT == 50
    assert limits[("registrations", "student_id")] == STUDENT_ID_LIMIT
    assert limits[("registrations", "employer")] == CELL_LIMIT == 32_767


def test_over_long_cells_are_errors_with_length_and_limit(tmp_path):
    raw = make_raw(tmp_path)
    write_csv(
        raw / "adjustments" / "adjustments.csv",
        ADJ_HEADERS,
        [
            ["瑞金", "2021", "I1", "4.5", "理" * 120_000, "学指委主任", "2021-12-25"],
            ["仁济", "2021", "I1", "4.5", "理" * REASON_LIMIT, "审" * 51, "2021-12-25"],
            ["新华", "2021", "I1", "4.5", "材料不全", "审" * APPROVER_LIMIT, "2021-12-25"],
        ],
    )
    rows = cohort_rows()
    rows[0]["单位名称"] = "某" * 40_000
    rows[1]["学号"] = "1" * 33
    rows[2]["备注"] = "注" * 32_768  # an extra column: kept in the raw layer, limited too
    write_csv(raw / "registrations" / "export_2021-06-15.csv", [*REG_HEADERS, "备注"], rows)
    errs = errors_at(raw)
    assert set(errs) == {
        (ADJ, 2, "理由"),
        (ADJ, 3, "审批人"),
        (EXPORT, 2, "单位名称"),
        (EXPORT, 3, "学号"),
        (EXPORT, 4, "备注"),
    }, errs
    assert "120,000 个字符" in errs[(ADJ, 2, "理由")] and "1,000 个字符" in errs[(ADJ, 2, "理由")]
    assert "51 个字符" in errs[(ADJ, 3, "审批人")] and "上限 50 个字符" in errs[(ADJ, 3, "审批人")]
    assert "40,000" in errs[(EXPORT, 2, "单位名称")] and "32,767" in errs[(EXPORT, 2, "单位名称")]
    assert "33 个字符" in errs[(EXPORT, 3, "学号")] and "32 个字符" in errs[(EXPORT, 3, "学号")]
    assert "32,768" in errs[(EXPORT, 4, "备注")]
    assert all(len(r) < 300 for r in errs.values())  # the text itself is never quoted


def test_a_long_unknown_value_is_quoted_short(tmp_path):
    raw = make_raw(tmp_path)
    rows = cohort_rows()
    rows[0]["民族"] = "火" * 5000
    write_csv(raw / "registrations" / "export_2021-06-15.csv", REG_HEADERS, rows)
    [err] = problems_of(raw)
    assert err.column == "民族" and "共 5,000 个字符" in err.reason and len(err.reason) < 200


def test_control_characters_in_published_free_text(tmp_path):
    raw = make_raw(tmp_path)
    write_csv(
        raw / "adjustments" / "adjustments.csv",
        ADJ_HEADERS,
        [
            ["瑞金", "2021", "I1", "4.5", "材料\u202e不全", "学指委主任", "2021-12-25"],
            ["仁济", "2021", "I1", "4.5", "第一行\n第二行\t完", "学指委\u200b主任", "2021-12-25"],
        ],
    )
    errs = errors_at(raw)
    assert set(errs) == {(ADJ, 2, "理由"), (ADJ, 3, "审批人")}
    assert "U+202E" in errs[(ADJ, 2, "理由")] and "第 3 个字符" in errs[(ADJ, 2, "理由")]
    assert "U+200B" in errs[(ADJ, 3, "审批人")]


# --- personal data in published free text ------------------------------------------------


def season_with(tmp_path: Path, reasons: list[tuple[str, str]]) -> tuple[Path, list[dict]]:
    """A valid folder whose export has 薛萍宇 (0210110001), and adjustments with the given
    (reason, approver) pairs, one per unit."""
    raw = make_raw(tmp_path)
    rows = cohort_rows()
    rows[5].update(学号="0210110001", 姓名="薛萍宇")
    rows[6].update(学号="0210110002", 姓名="阿依古丽·买买提")
    write_csv(raw / "registrations" / "export_2021-06-15.csv", REG_HEADERS, rows)
    units = [u.short_name for u in reference().units]
    write_csv(
        raw / "adjustments" / "adjustments.csv",
        ADJ_HEADERS,
        [[units[i], "2021", "I1", "4", r, a, "2021-12-25"] for i, (r, a) in enumerate(reasons)],
    )
    return raw, rows


PERSONAL = ("薛萍宇", "0210110001", "阿依古丽", "0210110002")


def test_a_student_number_or_name_inside_a_reason_is_refused(tmp_path):
    raw, _ = season_with(
        tmp_path,
        [
            ("学生薛萍宇（学号0210110001）投诉属实", "学指委主任"),  # the brief's example
            ("经核实，0210110002 的材料有误", "学指委主任"),
            ("阿依古丽·买买提同学的去向已更正", "学指委"),
            ("材料不全，扣分", "薛萍宇"),  # a graduate as approver
            ("按学指委会议决定调整", "学指委主任"),  # fine
        ],
    )
    problems = problems_of(raw)
    errs = {(p.file, p.row, p.column): p.reason for p in problems}
    assert set(errs) == {(ADJ, 2, "理由"), (ADJ, 3, "理由"), (ADJ, 4, "理由"), (ADJ, 5, "审批人")}
    first = errs[(ADJ, 2, "理由")]
    assert "学号（第 9 个字符起，共 10 个字符）" in first
    assert "姓名（第 3 个字符起，共 3 个字符）" in first
    assert "一名毕业生的学号" in errs[(ADJ, 3, "理由")]
    assert "一名毕业生的姓名" not in errs[(ADJ, 3, "理由")]
    assert "共 8 个字符" in errs[(ADJ, 4, "理由")]
    assert "学指委主任" in errs[(ADJ, 5, "审批人")] and "职务" in errs[(ADJ, 5, "审批人")]
    assert "该生" in first
    rendered = "\n".join(p.render() for p in problems)
    assert not any(value in rendered for value in PERSONAL)  # never repeated


def test_one_character_names_match_only_the_whole_cell(tmp_path):
    """A 1-character name would be found in almost any text: only the whole cell counts. Every
    value of two characters or more is looked for anywhere — a 2-character student number
    too (real ones have ten digits; here it is found inside the year 2021)."""
    raw = make_raw(tmp_path)
    rows = cohort_rows()
    rows[0].update(姓名="王")
    rows[1].update(学号="21")
    write_csv(raw / "registrations" / "export_2021-06-15.csv", REG_HEADERS, rows)
    (raw / "special_groups" / "roster.csv").unlink()
    write_csv(
        raw / "adjustments" / "adjustments.csv",
        ADJ_HEADERS,
        [
            ["瑞金", "2021", "I1", "4", "王主任12月复核", "学指委主任", "2021-12-25"],
            ["仁济", "2021", "I1", "4", "复核", "王", "2021-12-25"],
            ["新华", "2021", "I1", "4", "2021年12月复核", "学指委主任", "2021-12-25"],
        ],
    )
    errs = errors_at(raw)
    assert set(errs) == {(ADJ, 3, "审批人"), (ADJ, 4, "理由")}
    assert "学号（第 3 个字符起，共 2 个字符）" in errs[(ADJ, 4, "理由")]


SPELLINGS = {
    # reason → (what is found, its first character and span as written)
    "学生薛 萍 宇投诉属实": ("姓名", 3, 5),  # spaced
    "学生薛\u3000萍\u3000宇投诉属实": ("姓名", 3, 5),  # ideographic spaces
    "学生薛·萍-宇投诉属实": ("姓名", 3, 5),  # a dot and a hyphen between the characters
    "学号0210-110001的投诉属实": ("学号", 3, 11),  # dashed
    "学号 0210 110 001 的投诉属实": ("学号", 4, 12),  # spaced digits
    "学号０２１０１１０００１的投诉属实": ("学号", 3, 10),  # full-width digits
    "学号0210\u200b110001的投诉属实": ("学号", 3, 11),  # a zero-width space
    "学生薛\u200b萍\u200d宇投诉属实": ("姓名", 3, 5),  # zero-width space and joiner
    "阿依古丽买买提同学的去向已更正": ("姓名", 1, 7),  # a name written without its dot
}


def test_any_spelling_of_a_student_number_or_name_is_refused(tmp_path):
    reasons = [*SPELLINGS, "经学指委复核，该投诉不属于合理投诉，恢复该项得分"]
    raw, _ = season_with(tmp_path, [(r, "学指委主任") for r in reasons])
    problems = problems_of(raw)
    personal = {p.row: p.reason for p in problems if "一名毕业生" in p.reason}
    for row, (reason, (what, first, span)) in enumerate(SPELLINGS.items(), start=2):
        assert f"一名毕业生的{what}（第 {first} 个字符起，共 {span} 个字符）" in personal[row], (
            reason,
            personal.get(row),
        )
    assert len(reasons) + 1 not in personal  # the unrelated reason passes
    rendered = "\n".join(p.render() for p in problems)
    assert not any(value in rendered for value in PERSONAL)  # never repeated
    assert "0210-110001" not in rendered and "薛 萍 宇" not in rendered


def test_personal_data_is_checked_again_when_the_exports_change(tmp_path):
    """The adjustments file is cached clean; a later export with a graduate of that name
    makes the same file refused (a cross-file rule, in `run` on a real working database)."""
    raw, rows = season_with(tmp_path, [("经与贾宝玉核实后调整", "学指委主任")])
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    try:
        ingest(raw, con, as_of=AS_OF, run_id="r1", reference=reference())
        rows[7].update(姓名="贾宝玉")
        write_csv(raw / "registrations" / "export_2021-07-15.csv", REG_HEADERS, rows)
        with pytest.raises(InputError) as info:
            ingest(raw, con, as_of=AS_OF, run_id="r2", reference=reference())
    finally:
        con.close()
    [err] = info.value.errors
    assert (err.file, err.row, err.column) == (ADJ, 2, "理由") and "姓名" in err.reason
    assert "贾宝玉" not in str(info.value)


def test_many_names_are_matched_in_duckdb(tmp_path):
    """40,000 graduates and a reason that holds one of the last names: found (the check is a
    join in DuckDB, not a Python loop over the names)."""
    raw = make_raw(tmp_path)
    units = [u.name for u in reference().units]
    rows = [
        dict(cohort_rows()[0], 学号=f"9{i:09d}", 姓名=f"名{i:05d}", 培养单位=units[i % 15])
        for i in range(40_000)
    ]
    write_csv(raw / "registrations" / "export_2021-06-15.csv", REG_HEADERS, rows)
    (raw / "special_groups" / "roster.csv").unlink()
    reason = "理由" * 400 + "名39999"
    write_csv(
        raw / "adjustments" / "adjustments.csv",
        ADJ_HEADERS,
        [["瑞金", "2021", "I1", "4", reason, "学指委主任", "2021-12-25"]],
    )
    [err] = problems_of(raw)
    assert err.column == "理由" and "第 801 个字符起，共 6 个字符" in err.reason


def test_extra_columns_are_not_published_and_not_checked(tmp_path):
    raw, _ = season_with(tmp_path, [("复核", "学指委主任")])
    path = raw / "adjustments" / "adjustments.csv"
    write_csv(
        path,
        [*ADJ_HEADERS, "内部备注"],
        [["瑞金", "2021", "I1", "4", "复核", "学指委主任", "2021-12-25", "薛萍宇来电"]],
    )
    result = check_inputs(raw, as_of=AS_OF)
    assert result.problems == []
    con = duckdb.connect()
    try:
        ingest(raw, con, as_of=AS_OF, run_id="r", reference=reference())
        [(extra,)] = con.execute("select extra_columns from raw.adjustments").fetchall()
    finally:
        con.close()
    assert json.loads(extra) == {"内部备注": "薛萍宇来电"}  # kept in the private raw layer
