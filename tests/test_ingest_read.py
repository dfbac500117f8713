"""Reading: file discovery, encodings, xlsx cells, header normalisation, value parsing."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from employment_eval.ingest.api import check_inputs, parse_file
from employment_eval.ingest.headers import normalise_header
from employment_eval.ingest.lookups import Lookups
from employment_eval.ingest.read import FoundFile, discover
from employment_eval.ingest.values import dates_in_file_name, parse_date
from employment_eval.problems import InputError
from tests.ingest_helpers import (
    REG_HEADERS,
    cohort_rows,
    make_raw,
    reference,
    reg_row,
    without_name_dates,
    write_csv,
    write_xlsx,
)

AS_OF = date(2021, 12, 31)


def parse(path: Path, raw: Path, kind: str = "registrations"):
    rel = path.relative_to(raw).as_posix()
    v = parse_file(FoundFile(kind, path, rel), Lookups(reference()))
    v.problems = without_name_dates(v.problems)
    return v


def problems_of(raw: Path, as_of: date = AS_OF):
    return without_name_dates(check_inputs(raw, as_of=as_of, raise_on_error=False).problems)


def errors_of(raw: Path, as_of: date = AS_OF):
    return [p for p in problems_of(raw, as_of) if p.severity == "error"]


# --- discovery -------------------------------------------------------------------------


def test_hidden_and_lock_files_are_skipped_xls_and_other_types_are_errors(tmp_path):
    raw = make_raw(tmp_path)
    reg = raw / "registrations"
    (reg / ".DS_Store").write_bytes(b"\x00junk")
    (reg / "~$export_2021-06-15.xlsx").write_bytes(b"lock")
    (reg / "old_2021-06-01.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (reg / "notes.txt").write_text("hello")
    found, problems = discover(raw)
    names = {f.rel for f in found}
    assert "registrations/.DS_Store" not in names
    assert "registrations/~$export_2021-06-15.xlsx" not in names
    by_file = {p.file: p.reason for p in problems}
    assert "另存为 .xlsx" in by_file["registrations/old_2021-06-01.xls"]
    assert ".txt" in by_file["registrations/notes.txt"]
    errors = errors_of(raw)
    assert {p.file for p in errors} == {
        "registrations/old_2021-06-01.xls",
        "registrations/notes.txt",
    }


def test_missing_folder_means_no_files_of_that_kind(tmp_path):
    raw = make_raw(tmp_path, roster=False, adjustments=False)
    assert not (raw / "special_groups").exists()
    assert errors_of(raw) == []


# --- encodings -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    raw = tmp_path / "raw"
    path = write_csv(
        raw / "registrations" / "e_20210615.csv", REG_HEADERS, cohort_rows(1), encoding=encoding
    )
    v = parse(path, raw)
    assert not v.has_errors, v.problems
    assert v.data.get_column("unit_code").null_count() == 0
    assert v.data.get_column("name").to_list()[0] == "学生0"
    assert v.data.get_column("ethnicity_name").to_list()[0] == "汉族"


def test_undecodable_csv_is_an_error_naming_the_file(tmp_path):
    raw = make_raw(tmp_path)
    bad = raw / "special_groups" / "bad.csv"
    bad.write_bytes("学号,群体,毕业年份\n".encode() + b"\x81\x30\xff\xff,\xfe\n")
    errors = errors_of(raw)
    assert any(p.file == "special_groups/bad.csv" and "编码" in p.reason for p in errors)


def test_empty_file_is_an_error(tmp_path):
    raw = make_raw(tmp_path)
    (raw / "adjustments" / "empty.csv").write_bytes(b"")
    assert any(p.file == "adjustments/empty.csv" and "为空" in p.reason for p in errors_of(raw))


def test_ragged_csv_is_an_error(tmp_path):
    raw = make_raw(tmp_path)
    (raw / "adjustments" / "ragged.csv").write_text("单位,年度\n瑞金,2021,多余\n")
    assert any(p.file == "adjustments/ragged.csv" and "多出" in p.reason for p in errors_of(raw))


# --- headers ---------------------------------------------------------------------------


def test_normalise_header():
    assert normalise_header(" 学 号\u3000") == "学号"
    assert normalise_header("学号（Student_ID）") == "学号(student_id)"


def test_headers_with_spaces_full_width_parens_english_and_extras(tmp_path):
    raw = tmp_path / "raw"
    headers = [
        " 学号 ", "NAME", "民族（ethnicity）", "培养单位\u3000", "Degree",
        "毕业年份(graduation_year)", "destination_code", "鉴证状态", "verification_date",
        "备注", "", "内部编号",
    ]  # fmt: skip
    rows = [
        [r["学号"], r["姓名"], r["民族"], r["培养单位"], r["学历层次"], r["毕业年份"],
         r["毕业去向代码"], r["鉴证状态"], r["鉴证日期"], "补录" if i == 0 else "", "",
         f'N"{i}']
        for i, r in enumerate(cohort_rows(1))
    ]  # fmt: skip
    path = write_csv(raw / "registrations" / "e_20210615.csv", headers, rows)
    v = parse(path, raw)
    assert not v.has_errors, v.problems
    first = v.data.row(0, named=True)
    assert first["student_id"] == rows[0][0]
    assert json.loads(first["extra_columns"]) == {"备注": "补录", "内部编号": 'N"0'}
    assert json.loads(v.data.row(1, named=True)["extra_columns"]) == {"内部编号": 'N"1'}
    assert first["gender"] is None  # optional column absent


def test_missing_required_column_is_one_error_naming_file_and_column(tmp_path):
    raw = make_raw(tmp_path)
    headers = [h for h in REG_HEADERS if h != "鉴证状态"]
    write_csv(raw / "registrations" / "export_2021-06-15.csv", headers, cohort_rows())
    errors = [p for p in errors_of(raw) if p.column == "鉴证状态"]
    assert len(errors) == 1
    assert errors[0].file == "registrations/export_2021-06-15.csv"
    assert "缺少必需的列「鉴证状态」" in errors[0].reason


def test_values_are_stripped_and_blank_is_null(tmp_path):
    raw = tmp_path / "raw"
    rows = cohort_rows(1)
    rows[0].update(学号=f"  {rows[0]['学号']}\u3000", 单位性质="  ", 单位所在地="\u3000上海 ")
    path = write_csv(raw / "registrations" / "e_20210615.csv", REG_HEADERS, rows)
    v = parse(path, raw)
    first = v.data.row(0, named=True)
    assert first["student_id"] == rows[0]["学号"].strip()
    assert first["employer_type"] is None and first["employer_type_code"] is None
    assert first["province"] == "上海"
    assert not v.problems


# --- xlsx ------------------------------------------------------------------------------


def test_xlsx_cells_text_numbers_dates_and_numeric_student_id(tmp_path):
    raw = tmp_path / "raw"
    rows = cohort_rows(1)
    rows[0].update(毕业年份=2021, 毕业去向代码=10, 鉴证日期=date(2021, 6, 3))
    rows[1].update(学号=20210001, 鉴证日期="2021/6/3")
    rows[2].update(学号=20210002)
    path = write_xlsx(raw / "registrations" / "e_2021-06-15.xlsx", REG_HEADERS, rows)
    v = parse(path, raw)
    first = v.data.row(0, named=True)
    assert first["graduation_year"] == "2021" and first["cohort_year"] == 2021
    assert first["destination_code"] == "10"
    assert first["verification_date"] == "2021-06-03"
    assert first["verified_date"] == date(2021, 6, 3)
    assert v.data.row(1, named=True)["verified_date"] == date(2021, 6, 3)
    numeric = [p for p in v.problems if "以数字存储" in p.reason]
    assert [(p.row, p.column) for p in numeric] == [(3, "学号"), (4, "学号")]
    assert "前导零" in numeric[0].reason


def test_xlsx_leading_empty_rows_keep_user_row_numbers(tmp_path):
    import openpyxl

    raw = tmp_path / "raw"
    path = raw / "special_groups" / "r.xlsx"
    path.parent.mkdir(parents=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([])
    ws.append([])
    ws.append(["学号", "群体", "毕业年份"])
    ws.append(["001", "经济困难", "2021"])
    ws.append(["002", "家庭困难", "2021"])
    wb.save(path)
    v = parse(path, raw, "special_groups")
    assert [(p.row, p.column) for p in v.problems] == [(5, "群体")]


def test_xlsx_blank_formatted_rows_are_not_rows(tmp_path):
    raw = tmp_path / "raw"
    rows: list = [["001", "经济困难", "2021"], [None, None, None], ["002", "学业困难", "2021"]]
    path = write_xlsx(raw / "special_groups" / "r.xlsx", ["学号", "群体", "毕业年份"], rows)
    v = parse(path, raw, "special_groups")
    assert v.data.get_column("source_row").to_list() == [2, 4]
    assert not v.problems


# --- values ----------------------------------------------------------------------------


def _parse_dates(values: list[str]) -> list[date | None]:
    return pl.DataFrame({"v": values}).select(parse_date(pl.col("v"))).to_series().to_list()


def test_date_formats():
    assert _parse_dates(
        ["2021-06-03", "2021/6/3", "20210603", "2021.6.3", "2021年6月3日", "44350",
         "2021-06-03 10:30:00", "2021-02-30", "6/3/2021", "x", "2021-13-01"]
    ) == [date(2021, 6, 3)] * 7 + [None] * 4  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)))
def test_date_parsing_round_trip(day):
    serial = (day - date(1899, 12, 30)).days
    texts = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        day.strftime("%Y%m%d"),
        f"{day.year}年{day.month}月{day.day}日",
        str(serial),
    ]
    assert _parse_dates(texts) == [day] * len(texts)


def test_dates_in_file_name():
    assert dates_in_file_name("export_2021-06-15.csv") == [date(2021, 6, 15)]
    assert dates_in_file_name("就业导出20210615.xlsx") == [date(2021, 6, 15)]
    assert dates_in_file_name("export_2021.csv") == []
    assert dates_in_file_name("x_20211341.csv") == []


@pytest.mark.parametrize(
    ("text", "province"),
    [
        ("上海", "上海"),
        ("上海市", "上海"),
        ("上海市浦东新区", "上海"),
        ("四川省成都市", "四川"),
        ("新疆维吾尔自治区", "新疆"),
        ("新疆乌鲁木齐", "新疆"),
        ("内蒙古自治区呼和浩特市", "内蒙古"),
        ("广西壮族自治区南宁市", "广西"),
        ("香港特别行政区", "香港"),
    ],
)
def test_province_parsing(tmp_path, text, province):
    raw = tmp_path / "raw"
    rows = [reg_row(0, "瑞金", 单位所在地=text)]
    path = write_csv(raw / "registrations" / "e_20210615.csv", REG_HEADERS, rows)
    v = parse(path, raw)
    assert v.data.get_column("province").to_list() == [province]
    assert not v.problems


def test_unknown_province_is_a_warning_and_null(tmp_path):
    raw = tmp_path / "raw"
    rows = [reg_row(0, "瑞金", 单位所在地="火星基地")]
    path = write_csv(raw / "registrations" / "e_20210615.csv", REG_HEADERS, rows)
    v = parse(path, raw)
    assert v.data.get_column("province").to_list() == [None]
    [p] = v.problems
    assert (p.severity, p.row, p.column) == ("warning", 2, "单位所在地")
    assert "火星基地" in p.reason


# --- as-of date ------------------------------------------------------------------------


def _export(raw: Path, name: str, rows: list[dict], headers: list[str] = REG_HEADERS) -> Path:
    return write_csv(raw / "registrations" / name, headers, rows)


def test_as_of_from_column_overrides_file_name(tmp_path):
    raw = tmp_path / "raw"
    rows = [dict(r, 导出日期="2021/6/20") for r in cohort_rows(1)]
    path = _export(raw, "export_2021-06-15.csv", rows, [*REG_HEADERS, "导出日期"])
    v = parse(path, raw)
    assert (v.as_of_date, v.as_of_source) == (date(2021, 6, 20), "column")
    assert v.data.get_column("as_of_date").unique().to_list() == [date(2021, 6, 20)]


@pytest.mark.parametrize("name", ["export_2021-06-15.csv", "导出20210615.csv"])
def test_as_of_from_file_name(tmp_path, name):
    raw = tmp_path / "raw"
    v = parse(_export(raw, name, cohort_rows(1)), raw)
    assert (v.as_of_date, v.as_of_source) == (date(2021, 6, 15), "file_name")


def test_as_of_undeterminable_or_ambiguous_is_an_error(tmp_path):
    raw = tmp_path / "raw"
    v = parse(_export(raw, "export.csv", cohort_rows(1)), raw)
    [p] = v.problems
    assert p.file == "registrations/export.csv" and "无法确定导出日期" in p.reason
    rows = cohort_rows(1)
    rows[3]["导出日期"] = "2021-06-16"
    rows = [dict(r, 导出日期=r.get("导出日期", "2021-06-15")) for r in rows]
    v = parse(_export(raw, "export_2021-06-15.csv", rows, [*REG_HEADERS, "导出日期"]), raw)
    [p] = v.problems
    assert p.column == "导出日期" and "同一个值" in p.reason and "2021-06-16" in p.reason


def test_exports_after_as_of_are_excluded(tmp_path):
    raw = make_raw(tmp_path)
    _export(raw, "export_2021-08-15.csv", cohort_rows(3))
    result = check_inputs(raw, as_of=date(2021, 7, 1))
    included = {f.path: f.included for f in result.files if f.kind == "registrations"}
    assert included == {
        "registrations/export_2021-06-15.csv": True,
        "registrations/export_2021-08-15.csv": False,
    }


def test_as_of_earlier_than_every_export_is_an_error(tmp_path):
    raw = make_raw(tmp_path)
    with pytest.raises(InputError) as info:
        check_inputs(raw, as_of=date(2021, 6, 1) - timedelta(days=1))
    assert any("早于所有导出" in p.reason for p in info.value.errors)
