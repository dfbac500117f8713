"""Row and cross-file rules: every bad input is reported with file, row, column and reason,
all at once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from employment_eval.ingest.api import check_inputs
from employment_eval.problems import InputError, Problem
from tests.ingest_helpers import (
    ADJ_HEADERS,
    LEDGER_HEADERS,
    REG_HEADERS,
    ROSTER_HEADERS,
    cohort_rows,
    ledger_rows,
    make_raw,
    without_name_dates,
    write_csv,
)

AS_OF = date(2021, 12, 31)
EXPORT = "registrations/export_2021-06-15.csv"


def problems(raw: Path, as_of: date = AS_OF) -> list[Problem]:
    return without_name_dates(check_inputs(raw, as_of=as_of, raise_on_error=False).problems)


def errors(raw: Path, as_of: date = AS_OF) -> list[Problem]:
    return [p for p in problems(raw, as_of) if p.severity == "error"]


def warnings(raw: Path, as_of: date = AS_OF) -> list[Problem]:
    return [p for p in problems(raw, as_of) if p.severity == "warning"]


def at(items: list[Problem], file: str, row: int | None, column: str | None) -> list[str]:
    return [p.reason for p in items if (p.file, p.row, p.column) == (file, row, column)]


def write_export(
    raw: Path,
    rows: list[dict],
    name: str = "export_2021-06-15.csv",
    headers: list[str] = REG_HEADERS,
) -> None:
    write_csv(raw / "registrations" / name, headers, rows)


def test_a_valid_folder_has_no_problems(tmp_path):
    raw = make_raw(tmp_path)
    result = check_inputs(raw, as_of=AS_OF)
    assert without_name_dates(result.problems) == []
    assert result.excluded_completion_rows == 0
    assert {f.kind for f in result.files} == {
        "registrations", "special_groups", "submissions", "adjustments"
    }  # fmt: skip


# --- registrations ---------------------------------------------------------------------


def test_registration_row_rules_every_bad_cell_at_once(tmp_path):
    raw = make_raw(tmp_path)
    rows = cohort_rows(3)
    bad = {
        0: {"学号": ""},
        1: {"姓名": " "},
        2: {"民族": "火星族"},
        3: {"培养单位": "瑞金医学院"},
        4: {"学历层次": "大专"},
        5: {"毕业年份": "二〇二一"},
        6: {"毕业去向代码": "99"},
        7: {"毕业去向代码": "901"},
        8: {"是否基层": "也许"},
        9: {"鉴证状态": "已审核"},
        10: {"鉴证日期": ""},
        11: {"鉴证日期": "2021-06-31"},
        12: {"鉴证日期": "2021-07-01"},
    }
    for i, over in bad.items():
        rows[i].update(over)
    write_export(raw, rows)
    errs = errors(raw)
    expected = {
        2: ("学号", "必填"),
        3: ("姓名", "必填"),
        4: ("民族", "火星族"),
        5: ("培养单位", "瑞金医学院"),
        6: ("学历层次", "大专"),
        7: ("毕业年份", "二〇二一"),
        8: ("毕业去向代码", "99"),
        9: ("毕业去向代码", "901"),
        10: ("是否基层", "也许"),
        11: ("鉴证状态", "已审核"),
        12: ("鉴证日期", "必须填写鉴证日期"),
        13: ("鉴证日期", "2021-06-31"),
        14: ("鉴证日期", "晚于本导出的导出日期 2021-06-15"),
    }
    for row, (column, text) in expected.items():
        reasons = at(errs, EXPORT, row, column)
        assert any(text in r for r in reasons), (row, column, reasons)
    assert "上海交通大学医学院附属瑞金医院" in at(errs, EXPORT, 5, "培养单位")[0] or any(
        "瑞金" in r for r in at(errs, EXPORT, 5, "培养单位")
    )
    assert len([p for p in errs if p.file == EXPORT and p.row is not None]) == len(expected)


def test_unknown_unit_names_the_closest_known_units(tmp_path):
    raw = make_raw(tmp_path)
    rows = cohort_rows()
    rows[0]["培养单位"] = "上海交通大学医学院附属瑞金医"
    write_export(raw, rows)
    [reason] = at(errors(raw), EXPORT, 2, "培养单位")
    assert "未知的单位「上海交通大学医学院附属瑞金医」" in reason
    assert "上海交通大学医学院附属瑞金医院" in reason
    assert 2 <= reason.count("「") - 1 <= 3


def test_ethnicity_with_or_without_zu_and_unit_aliases_and_codes(tmp_path):
    raw = make_raw(tmp_path)
    rows = cohort_rows()
    rows[0].update(民族="汉", 培养单位="瑞金临床医学院")
    rows[2].update(民族="维吾尔", 培养单位="RUIJIN")
    rows[4].update(民族="蒙古族", 培养单位="上海交通大学附属第一人民医院")
    write_export(raw, rows)
    assert errors(raw) == []


def test_duplicate_student_id_per_cohort_reports_each_row(tmp_path):
    raw = make_raw(tmp_path)
    rows = cohort_rows(2)
    rows[5]["学号"] = rows[0]["学号"]
    rows[9]["学号"] = rows[0]["学号"]
    extra = dict(rows[0], 毕业年份="2020")  # another cohort: allowed
    write_export(raw, [*rows, extra])
    errs = at(errors(raw), EXPORT, 2, "学号") + at(errors(raw), EXPORT, 7, "学号")
    errs += at(errors(raw), EXPORT, 11, "学号")
    assert len(errs) == 3
    assert all("重复" in r and rows[0]["学号"] in r for r in errs)
    assert "7、11" in errs[0]


def test_completion_rows_leave_the_cohort_and_are_counted(tmp_path):
    raw = make_raw(tmp_path)
    rows = cohort_rows()
    rows.append(dict(rows[0], 学号="X1", 学历层次="本科生结业"))
    rows.append(dict(rows[0], 学号="X2", 学历层次="硕士结业生"))  # not in the table
    write_export(raw, rows)
    result = check_inputs(raw, as_of=AS_OF)
    assert result.excluded_completion_rows == 2
    assert without_name_dates(result.problems) == []


def test_unknown_employer_type_is_a_warning_blank_is_nothing(tmp_path):
    raw = make_raw(tmp_path)
    rows = cohort_rows()
    rows[0]["单位性质"] = "外星企业"
    rows[1]["单位性质"] = ""
    rows[2]["单位性质"] = "23"
    write_export(raw, rows)
    result = check_inputs(raw, as_of=AS_OF)
    assert [(p.row, p.column, p.severity) for p in without_name_dates(result.problems)] == [
        (2, "单位性质", "warning")
    ]
    assert "外星企业" in without_name_dates(result.problems)[0].reason


def test_three_digit_destination_codes_take_their_family(tmp_path):
    raw = make_raw(tmp_path)
    rows = cohort_rows()
    rows[0]["毕业去向代码"] = "271"
    rows[1]["毕业去向代码"] = "502"
    write_export(raw, rows)
    assert errors(raw) == []


def test_every_unit_in_every_export_d13(tmp_path):
    raw = make_raw(tmp_path)
    nursing = "上海交通大学护理学院"
    rows = [r for r in cohort_rows() if r["培养单位"] != nursing]
    rows.append(dict(cohort_rows()[0], 学号="Y1", 培养单位="护理", 学历层次="本科结业"))
    # A year with only 结业 rows has no cohort: not checked.
    rows.append(dict(cohort_rows()[0], 学号="Y2", 毕业年份="2020", 学历层次="本科结业"))
    write_export(raw, rows)
    errs = at(errors(raw), EXPORT, None, "培养单位")
    assert len(errs) == 1
    assert "护理学院" in errs[0] and "nursing" in errs[0] and "D13" in errs[0]
    assert "2021" in errs[0]


def test_empty_registrations_folder_is_an_error(tmp_path):
    raw = make_raw(tmp_path)
    (raw / "registrations" / "export_2021-06-15.csv").unlink()
    errs = errors(raw)
    assert any("没有任何就业登记鉴证导出" in p.reason for p in errs)


def test_two_exports_same_as_of_different_content_name_both(tmp_path):
    raw = make_raw(tmp_path)
    other = cohort_rows()
    other[0]["单位名称"] = "另一家医院"
    write_export(raw, other, name="again_20210615.csv")
    [err] = errors(raw)
    text = err.render()
    assert "registrations/again_20210615.csv" in text
    assert "registrations/export_2021-06-15.csv" in text
    assert "导出日期相同" in text


def test_same_content_under_two_names_is_one_export(tmp_path):
    raw = make_raw(tmp_path)
    src = raw / "registrations" / "export_2021-06-15.csv"
    (raw / "registrations" / "copy_of_export_2021-06-15.csv").write_bytes(src.read_bytes())
    result = check_inputs(raw, as_of=AS_OF)
    assert without_name_dates(result.problems) == []
    regs = [f for f in result.files if f.kind == "registrations"]
    assert len(regs) == 2 and len({f.sha256 for f in regs}) == 1
    assert sum(f.included for f in regs) == 1


def test_same_content_with_conflicting_dates_in_file_names_is_an_error(tmp_path):
    raw = make_raw(tmp_path)
    src = raw / "registrations" / "export_2021-06-15.csv"
    (raw / "registrations" / "export_2021-06-16.csv").write_bytes(src.read_bytes())
    [err] = errors(raw)
    assert err.file == "registrations/export_2021-06-16.csv"
    assert "export_2021-06-15.csv" in err.reason


def test_errors_in_several_files_are_reported_together(tmp_path):
    raw = make_raw(tmp_path)
    rows = cohort_rows()
    rows[0]["民族"] = "X"
    rows[3]["民族"] = "Y"
    write_export(raw, rows)
    write_csv(raw / "special_groups" / "roster.csv", ROSTER_HEADERS, [["1", "贫困", "2021"]])
    with pytest.raises(InputError) as info:
        check_inputs(raw, as_of=AS_OF)
    where = {(p.file, p.row, p.column) for p in info.value.errors}
    assert (EXPORT, 2, "民族") in where and (EXPORT, 5, "民族") in where
    assert ("special_groups/roster.csv", 2, "群体") in where


# --- special groups --------------------------------------------------------------------


def test_roster_rules_and_cohort_membership(tmp_path):
    raw = make_raw(tmp_path)
    cohort = cohort_rows()
    sid = cohort[0]["学号"]
    write_csv(
        raw / "special_groups" / "a.csv",
        ROSTER_HEADERS,
        [
            [sid, "经济困难", "2021"],
            [sid, "学业困难", "2021"],  # both groups: fine
            [sid, "少数民族", "2021"],
            ["", "经济困难", "2021"],
            [sid, "经济困难", "21届"],
            ["NOBODY", "经济困难", "2021"],
            [sid, "经济困难", "2020"],  # not in the 2020 cohort
        ],
    )
    write_csv(raw / "special_groups" / "b.csv", ROSTER_HEADERS, [[sid, "经济困难", "2021"]])
    errs = errors(raw)
    f = "special_groups/a.csv"
    assert "经济困难 或 学业困难" in at(errs, f, 4, "群体")[0]
    assert "必填" in at(errs, f, 5, "学号")[0]
    assert "不是年份" in at(errs, f, 6, "毕业年份")[0]
    assert "NOBODY" in at(errs, f, 7, "学号")[0] and EXPORT in at(errs, f, 7, "学号")[0]
    assert "2020 届" in at(errs, f, 8, "学号")[0]
    assert not [p for p in errs if p.file == "special_groups/b.csv"]
    assert len([p for p in errs if p.file == f]) == 5


def test_roster_is_checked_against_the_latest_included_export(tmp_path):
    raw = make_raw(tmp_path)
    later = cohort_rows()
    later.append(dict(later[0], 学号="LATE1"))
    write_export(raw, later, name="export_2021-08-15.csv")
    write_csv(
        raw / "special_groups" / "roster.csv", ROSTER_HEADERS, [["LATE1", "经济困难", "2021"]]
    )
    assert errors(raw, date(2021, 9, 1)) == []
    [err] = errors(raw, date(2021, 7, 1))
    assert err.column == "学号" and "LATE1" in err.reason


# --- submissions -----------------------------------------------------------------------

LEDGER = "submissions/submissions_2021.csv"


def test_ledger_bounds_types_and_units(tmp_path):
    raw = make_raw(tmp_path)
    rows = ledger_rows()
    rows[0].update(就业工作组织得分="5.01")
    rows[1].update(就业工作组织得分="4.505", 未就业学生排摸得分="20.5")
    rows[2].update(未就业学生排摸得分="-1", 优秀毕业生评选合理投诉次数="-1")
    rows[3].update(职业导师校友座谈次数="1.5", 职业咨询登记表份数="三")
    rows[4].update(成长成才故事篇数="abc", 就业动员会日期="2021-10-32")
    rows[5].update(单位="不存在的医院")
    rows[6].update(年度="")
    rows[7].update(就业工作组织得分="5.00", 未就业学生排摸得分="20", 职业咨询登记表份数="0")
    write_csv(raw / "submissions" / "submissions_2021.csv", LEDGER_HEADERS, rows)
    errs = errors(raw)
    assert "超出范围" in at(errs, LEDGER, 2, "就业工作组织得分")[0]
    assert "0–5" in at(errs, LEDGER, 2, "就业工作组织得分")[0]
    assert "最多两位小数" in at(errs, LEDGER, 3, "就业工作组织得分")[0]
    assert "0–20" in at(errs, LEDGER, 3, "未就业学生排摸得分")[0]
    assert "超出范围" in at(errs, LEDGER, 4, "未就业学生排摸得分")[0]
    assert "不小于 0 的整数" in at(errs, LEDGER, 4, "优秀毕业生评选合理投诉次数")[0]
    assert at(errs, LEDGER, 5, "职业导师校友座谈次数") and at(errs, LEDGER, 5, "职业咨询登记表份数")
    assert at(errs, LEDGER, 6, "成长成才故事篇数") and at(errs, LEDGER, 6, "就业动员会日期")
    assert "不存在的医院" in at(errs, LEDGER, 7, "单位")[0]
    assert "必填" in at(errs, LEDGER, 8, "年度")[0]
    assert not [p for p in errs if p.row == 9]
    assert len(errs) == 11


def test_ledger_duplicate_unit_across_files_names_both_rows(tmp_path):
    raw = make_raw(tmp_path)
    write_csv(raw / "submissions" / "extra.csv", LEDGER_HEADERS, [ledger_rows()[4]])
    [err] = errors(raw)
    assert (err.file, err.row, err.column) == (LEDGER, 6, "单位")
    assert "submissions/extra.csv 第 2 行" in err.reason and f"{LEDGER} 第 6 行" in err.reason


def test_ledger_warnings_missing_file(tmp_path):
    raw = make_raw(tmp_path, ledger=False)
    result = check_inputs(raw, as_of=AS_OF)
    [w] = without_name_dates(result.problems)
    assert w.severity == "warning" and "没有 2021 年度的单位材料登记表" in w.reason


def test_ledger_warnings_missing_row_and_blank_cells(tmp_path):
    raw = make_raw(tmp_path)
    rows = ledger_rows()[1:]  # no row for the first unit
    rows[0]["成长成才故事篇数"] = ""
    for r in rows:
        r["未就业学生调研报告提交日期"] = ""
    write_csv(raw / "submissions" / "submissions_2021.csv", LEDGER_HEADERS, rows)
    problems = without_name_dates(check_inputs(raw, as_of=AS_OF).problems)
    assert all(p.severity == "warning" for p in problems)
    assert any(p.column == "单位" and "本科生党总支" in p.reason for p in problems)
    [cell] = at(problems, LEDGER, 2, "成长成才故事篇数")
    assert "基础医学院" in cell and "为空" in cell
    [col] = at(problems, LEDGER, None, "未就业学生调研报告提交日期")
    assert "均为空" in col
    assert len(problems) == 3


def test_ledger_date_after_as_of_is_a_warning(tmp_path):
    raw = make_raw(tmp_path)
    result = check_inputs(raw, as_of=date(2021, 7, 1))
    late = [p for p in without_name_dates(result.problems) if p.column == "就业动员会日期"]
    assert len(late) == 15 and all(p.severity == "warning" for p in late)
    assert "晚于" in late[0].reason


def test_ledger_rows_for_years_without_registrations_are_not_warned(tmp_path):
    raw = make_raw(tmp_path)
    rows = ledger_rows(2020)[:3]
    rows[0]["就业工作组织得分"] = ""
    write_csv(raw / "submissions" / "submissions_2020.csv", LEDGER_HEADERS, rows)
    assert without_name_dates(check_inputs(raw, as_of=AS_OF).problems) == []


# --- adjustments -----------------------------------------------------------------------

ADJ = "adjustments/adjustments.csv"


def test_adjustment_rules(tmp_path):
    raw = make_raw(tmp_path)
    write_csv(
        raw / "adjustments" / "adjustments.csv",
        ADJ_HEADERS,
        [
            ["瑞金", "2021", "i3", "30.5", "复核", "张三", "2021-12-25"],
            ["仁济", "2021", "先进单位", "是", "并列", "李四", "2021/12/26"],
            ["新华", "2021", "I10", "3", "x", "王五", "2021-12-25"],
            ["九院", "2021", "I1", "-1", "x", "王五", "2021-12-25"],
            ["市一", "2021", "先进单位", "可能", "x", "王五", "2021-12-25"],
            ["市六", "2021", "I2", "abc", " ", "", "昨天"],
            ["不知道", "2021", "I2", "1", "x", "王五", "2021-12-25"],
            ["瑞金", "2021", "I3", "31", "再复核", "张三", "2021-12-26"],
        ],
    )
    errs = errors(raw)
    assert "I1…I9" in at(errs, ADJ, 4, "指标")[0]
    assert "不小于 0" in at(errs, ADJ, 5, "调整后分值")[0]
    assert "是 或 否" in at(errs, ADJ, 6, "调整后分值")[0]
    assert at(errs, ADJ, 7, "调整后分值") and "必填" in at(errs, ADJ, 7, "理由")[0]
    assert "必填" in at(errs, ADJ, 7, "审批人")[0] and "昨天" in at(errs, ADJ, 7, "日期")[0]
    assert "不知道" in at(errs, ADJ, 8, "单位")[0]
    [dup] = at(errs, ADJ, 9, "指标")
    assert "调整了两次" in dup and f"{ADJ} 第 2 行" in dup and f"{ADJ} 第 9 行" in dup
    assert not [p for p in errs if p.row in (2, 3)]
    assert len(errs) == 9
