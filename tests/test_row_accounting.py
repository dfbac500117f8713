"""Every input row accounted for (issue 17, point 1), through the nightly refresh from a good
published state: a file whose records are counted differently by the bytes and by the reader is
refused at the row where they part; line endings of any kind are read exactly; a header merged
with data, a header repeated inside the data (a concatenated export) and binary lines are one
error each, never quoting a 学号 or 姓名; an export dated by its file name says so. Refused
runs leave the published marts and the raw files byte for byte as they were."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from employment_eval import failures
from employment_eval.generate import generate
from employment_eval.ingest.api import check_inputs
from employment_eval.problems import InputError
from employment_eval.publish import fetch_dicts, open_published
from tests.ingest_helpers import NAME_DATE, copy_raw, file_hashes, refresh_season

AS_OF = dt.date(2021, 12, 20)
REG = "registrations"
LAST = "就业登记导出_2021-12-15.csv"
NEWEST = "就业登记导出_2021-12-18.csv"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> dict[str, Path]:
    """The issue's season (seed 7, scale 0.2, four csv exports, no special_groups/),
    published once; every case starts from a copy of its raw folder."""
    root = tmp_path_factory.mktemp("row-accounting")
    raw = root / "raw"
    generate(raw, year=2021, seed=7, scale=0.2, exports=4, fmt="csv")
    shutil.rmtree(raw / "special_groups")
    place = {"raw": raw, "marts": root / "m" / "e.duckdb", "work": root / "w" / "w.duckdb"}
    refresh_season(place, raw)
    return place


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def with_endings(lines: list[bytes], ending: Callable[[int], bytes]) -> bytes:
    return b"".join(line + ending(i) for i, line in enumerate(lines))


ISSUE_ENDINGS = {0: b"\r", 1: b"\r\n", 2: b"\n"}
ENDINGS: dict[str, Callable[[int], bytes]] = {
    # the issue's file: line i ends in a lone CR when i % 3 == 0 (the header too), CRLF when
    # 1, LF when 2
    "mixed, header with a lone CR": lambda i: ISSUE_ENDINGS[i % 3],
    "lone CRs on data lines only": lambda i: b"\n" if i == 0 else b"\r",
    "mixed on data lines only": lambda i: b"\n" if i == 0 else ISSUE_ENDINGS[i % 3],
}


def graduates_in(path: Path) -> int:
    """Graduates (rows not 结业) of an export, read by Python's csv module."""
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    return sum("结业" not in r["学历层次"] for r in rows)


def published_graduates(marts: Path, day: dt.date) -> int:
    con = open_published(marts)
    try:
        [row] = fetch_dicts(
            con,
            "select sum(graduates) as n from marts.rate_history where as_of_date = ?",
            [day],
        )
    finally:
        con.close()
    return int(row["n"])


@pytest.mark.parametrize("case", sorted(ENDINGS))
def test_line_endings_of_any_kind_publish_every_graduate(baseline, tmp_path, case) -> None:
    """The issue's serious case: the run published a final scoreboard from 428 of the file's
    642 rows. Now every record is read: the marts count the graduates the file holds."""
    raw = copy_raw(baseline, tmp_path)
    path = raw / REG / LAST
    lines = lines_of(path)
    assert len(lines) == 643  # the header and 642 rows
    path.write_bytes(with_endings(lines, ENDINGS[case]))
    refresh_season(baseline, raw)
    expected = graduates_in(path)
    assert expected >= 640
    assert published_graduates(baseline["marts"], dt.date(2021, 12, 15)) == expected


def refused(baseline: dict[str, Path], raw: Path, as_of: dt.date = AS_OF) -> InputError:
    """Run on `raw`: it must be refused, leaving the marts and the raw files as they were."""
    published = hashlib.sha256(baseline["marts"].read_bytes()).hexdigest()
    before = file_hashes(raw)
    with pytest.raises(InputError) as info:
        refresh_season(baseline, raw, as_of)
    assert hashlib.sha256(baseline["marts"].read_bytes()).hexdigest() == published
    assert file_hashes(raw) == before
    assert "Traceback" not in str(info.value)
    return info.value


def personal_values(path: Path) -> set[str]:
    df = pl.read_csv(path, infer_schema=False)
    return set(df["学号"].to_list()) | set(df["姓名"].to_list())


def test_a_header_merged_with_data_is_one_error_naming_the_columns(baseline, tmp_path) -> None:
    """The header line and the first data line joined into one: the header's extra cells are
    data (a 学号, 女, 汉族, a unit, dates …). One error naming their positions."""
    raw = copy_raw(baseline, tmp_path)
    path = raw / REG / LAST
    lines = lines_of(path)
    path.write_bytes(b"\n".join([lines[0] + b"," + lines[1], *lines[2:]]) + b"\n")
    error = refused(baseline, raw)
    [err] = error.errors
    assert (err.file, err.row) == (f"{REG}/{LAST}", 1)
    assert "表头的第 17、19、20、21、22、23、24、27、28、29、30、31、32 列不是列名" in err.reason
    assert "第 20 列是一个数据值（汉族）" in err.reason and "单位名称" in err.reason
    assert not any(v in str(error) for v in personal_values(baseline["raw"] / REG / LAST))


def test_a_concatenated_export_is_one_error(baseline, tmp_path) -> None:
    """Two exports in one file (the issue: 1,294 errors, 1,284 quoting a 学号)."""
    raw = copy_raw(baseline, tmp_path)
    path = raw / REG / LAST
    other = (raw / REG / "就业登记导出_2021-12-01.csv").read_bytes()
    path.write_bytes(path.read_bytes() + other)
    error = refused(baseline, raw)
    [err] = error.errors
    assert (err.file, err.row) == (f"{REG}/{LAST}", 644)
    assert "表头在数据中间再次出现" in err.reason and "拼成" in err.reason
    for export in (LAST, "就业登记导出_2021-12-01.csv"):
        assert not any(v in str(error) for v in personal_values(baseline["raw"] / REG / export))


def test_a_repeated_header_is_one_error(baseline, tmp_path) -> None:
    raw = copy_raw(baseline, tmp_path)
    path = raw / REG / LAST
    lines = lines_of(path)
    path.write_bytes(b"\n".join([lines[0], lines[0], *lines[1:]]) + b"\n")
    [err] = refused(baseline, raw).errors
    assert (err.file, err.row) == (f"{REG}/{LAST}", 2)
    assert "重复了表头" in err.reason


def test_a_binary_line_is_one_error_saying_so(baseline, tmp_path) -> None:
    """A line of NUL bytes (the issue: nine 「必填」 errors that never say it is binary)."""
    raw = copy_raw(baseline, tmp_path)
    path = raw / REG / LAST
    lines = lines_of(path)
    path.write_bytes(b"\n".join([*lines[:100], b"\x00" * 64, *lines[100:]]) + b"\n")
    error = refused(baseline, raw)
    [err] = error.errors
    assert (err.file, err.row) == (f"{REG}/{LAST}", 101)
    assert "二进制内容" in err.reason and "NUL" in err.reason
    assert "必填" not in str(error)


def test_an_unreadable_xlsx_is_refused_in_chinese_only(baseline, tmp_path) -> None:
    """A workbook cut short (as a failed copy leaves it): the reader's English is not shown."""
    raw = copy_raw(baseline, tmp_path)
    sheet = raw / REG / "就业登记导出_2021-12-18.xlsx"
    pl.read_csv(raw / REG / LAST, infer_schema=False).write_excel(sheet)
    sheet.write_bytes(sheet.read_bytes()[:3000])
    [err] = refused(baseline, raw).errors
    assert err.file == f"{REG}/就业登记导出_2021-12-18.xlsx"
    assert "无法读取 Excel 文件" in err.reason and "另存为 .xlsx" in err.reason
    for english in ("calamine", "Zip", "error", "EOCD", "Could not"):
        assert english not in err.reason


def test_a_row_with_more_cells_than_the_header_is_named(baseline, tmp_path) -> None:
    """「有的行比表头多出几列」 now says which row."""
    raw = copy_raw(baseline, tmp_path)
    path = raw / REG / LAST
    lines = lines_of(path)
    lines[40] += ",多余,更多".encode()
    path.write_bytes(b"\n".join(lines) + b"\n")
    [err] = refused(baseline, raw).errors
    assert (err.file, err.row) == (f"{REG}/{LAST}", 41)
    assert "比表头多出 2 列" in err.reason


def test_an_unpaired_quote_is_refused_at_its_row(baseline, tmp_path) -> None:
    """A cell with an unpaired quote (5"3) and, further down, another: the lines between
    could be one quoted cell or several rows. Refused at the first row where the readings
    part, in Chinese (the parser's English is not shown)."""
    raw = copy_raw(baseline, tmp_path)
    path = raw / REG / LAST
    lines = lines_of(path)
    for i in (30, 35):
        cells = lines[i].split(b",")
        cells[9] = cells[9] + b'5"3'  # 单位名称
        lines[i] = b",".join(cells)
    path.write_bytes(b"\n".join(lines) + b"\n")
    [err] = refused(baseline, raw).errors
    assert (err.file, err.row) == (f"{REG}/{LAST}", 31)
    assert "不成对的英文双引号" in err.reason
    assert "malformed" not in err.reason and "CSV malformed" not in str(err)


def test_an_xlsx_with_a_row_written_twice_is_refused_at_that_row(baseline, tmp_path) -> None:
    """Two <row r="6"> elements: the reader keeps one of them (a graduate silently lost);
    the sheet's own rows say otherwise."""
    raw = copy_raw(baseline, tmp_path)
    good = raw / REG / "good.xlsx"
    pl.read_csv(raw / REG / LAST, infer_schema=False).with_columns(
        pl.lit("2021-12-18").alias("导出日期")
    ).write_excel(good)
    sheet = raw / REG / "就业登记导出_2021-12-18.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(sheet, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                start = data.index(b'<row r="6"')
                end = data.index(b"</row>", start) + len(b"</row>")
                data = data[:end] + data[start:end] + data[end:]
            zout.writestr(item, data)
    good.unlink()
    [err] = refused(baseline, raw).errors
    assert (err.file, err.row) == (f"{REG}/就业登记导出_2021-12-18.xlsx", 6)
    assert "两种方法清点的行数不同" in err.reason


def test_an_export_dated_by_its_file_name_is_a_warning(baseline, tmp_path) -> None:
    """No 导出日期 column: the date comes from the file name, and the run says so."""
    raw = copy_raw(baseline, tmp_path)
    path = raw / REG / LAST
    pl.read_csv(path, infer_schema=False).drop("导出日期").write_csv(path)
    run_id = refresh_season(baseline, raw)
    [line] = [w for w in failures.recall_warnings(run_id) if NAME_DATE in w]
    assert line.startswith(f"[警告] 文件 {REG}/{LAST}") and "2021-12-15" in line
    # an empty 导出日期 column is the same
    df = pl.read_csv(path, infer_schema=False).with_columns(pl.lit(None).alias("导出日期"))
    df.write_csv(path)
    [warning] = [p for p in check_inputs(raw, as_of=AS_OF).problems if NAME_DATE in p.reason]
    assert (warning.file, warning.severity) == (f"{REG}/{LAST}", "warning")
