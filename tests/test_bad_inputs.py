"""Every kind of bad input of docs/输入文件格式.md, through the nightly refresh: the run stops
with a message naming file, row, column and reason, the published marts stay byte for byte and the
raw files are untouched. Cases in ONE_ERROR must give exactly one error (no cascade)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from employment_eval import failures
from employment_eval.generate import generate
from employment_eval.problems import InputError
from flows.nightly_refresh import nightly_refresh
from tests.ingest_helpers import file_hashes

AS_OF = dt.date(2021, 12, 20)
REG = "registrations"
LAST = "就业登记导出_2021-12-15.csv"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> dict[str, Path]:
    """A small csv season, published once; every case starts from it."""
    root = tmp_path_factory.mktemp("bad-inputs")
    raw = root / "raw"
    generate(raw, year=2021, seed=3, scale=0.2, exports=3, fmt="csv")
    place = {"raw": raw, "marts": root / "m" / "e.duckdb", "work": root / "w" / "w.duckdb"}
    run(place, raw)
    return place


def run(place: dict[str, Path], raw: Path, as_of: dt.date = AS_OF) -> None:
    # An --as-of before the published one is refused before anything is read unless
    # --allow-older: the case "as-of before every export" is about the inputs.
    older = {"allow_older": True} if as_of < AS_OF else {}
    with failures.unwrapped():  # the failure in full, as the command line shows it
        nightly_refresh(str(raw), str(place["marts"]), str(place["work"]), 2021, as_of, **older)


def frame(raw: Path, name: str = LAST, folder: str = REG) -> pl.DataFrame:
    return pl.read_csv(raw / folder / name, infer_schema=False)


def put(raw: Path, df: pl.DataFrame, name: str = LAST, folder: str = REG) -> None:
    df.write_csv(raw / folder / name)


def set_cell(column: str, value: str | None, row: int = 0) -> Callable[[Path], None]:
    def mutate(raw: Path) -> None:
        df = frame(raw)
        values = df[column].to_list()
        values[row] = value
        put(raw, df.with_columns(pl.Series(column, values, dtype=pl.String)))

    return mutate


def drop_column(column: str) -> Callable[[Path], None]:
    return lambda raw: put(raw, frame(raw).drop(column))


def duplicate_first_row(raw: Path) -> None:
    df = frame(raw)
    put(raw, pl.concat([df, df.head(1)]))


def drop_unit(raw: Path) -> None:
    df = frame(raw)
    aliases = {
        "上海市精神卫生中心",
        "上海交通大学医学院附属精神卫生中心",
        "精神卫生中心",
        "精总",
        "smhc",
    }
    put(raw, df.filter(~pl.col("培养单位").is_in(aliases)))


def second_export_same_date(raw: Path) -> None:
    df = frame(raw)
    put(raw, df.head(len(df) - 1), name="另一份导出_2021-12-15.csv")


def two_export_dates(raw: Path) -> None:
    df = frame(raw)
    dates = ["2021-12-15"] * (len(df) - 1) + ["2021-12-14"]
    put(raw, df.with_columns(pl.Series("导出日期", dates)))


def no_as_of(raw: Path) -> None:
    put(raw, frame(raw).drop("导出日期"), name="导出_最新.csv")


def gbk_garbage(raw: Path) -> None:
    (raw / REG / "损坏_2021-12-18.csv").write_bytes(b"\xff\xfe\x00\x81\x30\x00\xff" * 50)


def xls_file(raw: Path) -> None:
    (raw / REG / "导出_2021-12-18.xls").write_bytes(b"\xd0\xcf\x11\xe0")


def numeric_student_id_xlsx(raw: Path) -> None:
    df = frame(raw)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(df.columns)
    for i, row in enumerate(df.iter_rows()):
        values = list(row)
        values[-1] = "2021-12-18"
        if i == 0:
            values[0] = int(values[0])
        ws.append(values)
    wb.save(raw / REG / "导出_2021-12-18.xlsx")


def empty_registrations(raw: Path) -> None:
    for p in (raw / REG).iterdir():
        p.unlink()


def roster_unknown_student(raw: Path) -> None:
    (raw / "special_groups" / "补充名单.csv").write_text(
        "学号,群体,毕业年份\n9999999999,经济困难,2021\n", encoding="utf-8"
    )


def roster_bad_group(raw: Path) -> None:
    first = frame(raw)["学号"][0]
    (raw / "special_groups" / "补充名单.csv").write_text(
        f"学号,群体,毕业年份\n{first},低保户,2021\n", encoding="utf-8"
    )


def ledger(mutate: Callable[[pl.DataFrame], pl.DataFrame]) -> Callable[[Path], None]:
    name = "submissions_2021.csv"

    def apply(raw: Path) -> None:
        put(raw, mutate(frame(raw, name, "submissions")), name, "submissions")

    return apply


def ledger_value(column: str, value: str) -> Callable[[Path], None]:
    def mutate(df: pl.DataFrame) -> pl.DataFrame:
        values = df[column].cast(pl.String).to_list()
        values[0] = value
        return df.with_columns(pl.Series(column, values, dtype=pl.String))

    return ledger(mutate)


def adjustments(rows: str) -> Callable[[Path], None]:
    header = "单位,年度,指标,调整后分值,理由,审批人,日期\n"

    def apply(raw: Path) -> None:
        (raw / "adjustments").mkdir(exist_ok=True)
        (raw / "adjustments" / "调整.csv").write_text(header + rows, encoding="utf-8")

    return apply


NEWEST = "就业登记导出_2021-12-18.csv"  # after LAST: it would be the latest export


def newest_export(content: bytes) -> Callable[[Path], None]:
    return lambda raw: (raw / REG / NEWEST).write_bytes(content)


def header_only_export(raw: Path) -> None:
    (raw / REG / NEWEST).write_text(",".join(frame(raw).columns) + "\n", encoding="utf-8")


def dangling_symlink(raw: Path) -> None:
    (raw / REG / NEWEST).symlink_to(raw / "nowhere.csv")


def symlinked_folder(raw: Path) -> None:
    other = raw.parent / "other_exports"
    other.mkdir()
    (raw / REG / "更多").symlink_to(other, target_is_directory=True)


def fifo(raw: Path) -> None:
    os.mkfifo(raw / REG / NEWEST)


def stray_file(raw: Path) -> None:
    shutil.copy(raw / REG / LAST, raw / NEWEST)


def bom_in_student_number(raw: Path) -> None:
    first = frame(raw)["学号"][0]
    set_cell("学号", "\ufeff" + first)(raw)


LONG_REASON = "理" * 120_000

# case → (mutation, texts the message must hold, --as-of)
CASES: dict[str, tuple[Callable[[Path], None], tuple[str, ...], dt.date]] = {
    "unreadable file": (gbk_garbage, ("损坏_2021-12-18.csv",), AS_OF),
    "xls instead of xlsx": (xls_file, (".xls", ".xlsx"), AS_OF),
    "missing required column": (drop_column("鉴证状态"), (LAST, "鉴证状态"), AS_OF),
    "no as-of date": (no_as_of, ("导出_最新.csv",), AS_OF),
    "two as-of dates in one file": (two_export_dates, (LAST, "导出日期"), AS_OF),
    "two contents one as-of date": (
        second_export_same_date,
        ("另一份导出_2021-12-15.csv", LAST),
        AS_OF,
    ),
    "empty registrations folder": (empty_registrations, ("registrations",), AS_OF),
    "as-of before every export": (lambda raw: None, ("早于",), dt.date(2021, 1, 1)),
    "numeric student number in xlsx": (
        numeric_student_id_xlsx,
        ("导出_2021-12-18.xlsx", "第 2 行", "学号"),
        AS_OF,
    ),
    "duplicate student number": (duplicate_first_row, (LAST, "学号"), AS_OF),
    "missing name": (set_cell("姓名", None), (LAST, "第 2 行", "姓名"), AS_OF),
    "unknown ethnicity": (set_cell("民族", "火星族"), (LAST, "第 2 行", "民族", "火星族"), AS_OF),
    "unknown unit": (
        set_cell("培养单位", "瑞金医", 1),
        (LAST, "第 3 行", "培养单位", "瑞金"),
        AS_OF,
    ),
    "unknown degree": (set_cell("学历层次", "博士后"), (LAST, "学历层次", "博士后"), AS_OF),
    "bad graduation year": (set_cell("毕业年份", "明年"), (LAST, "毕业年份", "明年"), AS_OF),
    "unknown destination code": (
        set_cell("毕业去向代码", "99"),
        (LAST, "毕业去向代码", "99"),
        AS_OF,
    ),
    "bad grassroots flag": (set_cell("是否基层", "也许"), (LAST, "是否基层", "也许"), AS_OF),
    "bad verification status": (
        set_cell("鉴证状态", "已审核"),
        (LAST, "鉴证状态", "已审核"),
        AS_OF,
    ),
    "verified without a date": (set_cell("鉴证日期", None), (LAST, "第 2 行", "鉴证日期"), AS_OF),
    "bad verification date": (
        set_cell("鉴证日期", "六月三日"),
        (LAST, "鉴证日期", "六月三日"),
        AS_OF,
    ),
    "verification after as-of": (set_cell("鉴证日期", "2021-12-16"), (LAST, "鉴证日期"), AS_OF),
    "a unit missing from an export (D13)": (drop_unit, (LAST, "精神卫生中心"), AS_OF),
    "roster student not in cohort": (roster_unknown_student, ("补充名单.csv", "9999999999"), AS_OF),
    "roster bad group": (roster_bad_group, ("补充名单.csv", "群体", "低保户"), AS_OF),
    "ledger value out of bounds": (
        ledger_value("就业工作组织得分", "6"),
        ("submissions_2021.csv", "就业工作组织得分"),
        AS_OF,
    ),
    "ledger negative count": (
        ledger_value("职业咨询登记表份数", "-1"),
        ("submissions_2021.csv", "职业咨询登记表份数"),
        AS_OF,
    ),
    "ledger unit twice": (
        ledger(lambda df: pl.concat([df, df.head(1)])),
        ("submissions_2021.csv", "单位"),
        AS_OF,
    ),
    "ledger unknown unit": (
        ledger_value("单位", "不存在学院"),
        ("submissions_2021.csv", "不存在学院"),
        AS_OF,
    ),
    "adjustment unknown unit": (
        adjustments("不存在医院,2021,I1,3,复核,张三,2021-12-28\n"),
        ("调整.csv", "不存在医院"),
        AS_OF,
    ),
    "adjustment unknown indicator": (
        adjustments("瑞金,2021,I10,3,复核,张三,2021-12-28\n"),
        ("调整.csv", "指标"),
        AS_OF,
    ),
    "adjustment without reason": (
        adjustments("瑞金,2021,I1,3,,张三,2021-12-28\n"),
        ("调整.csv", "理由"),
        AS_OF,
    ),
    "adjustment without approver": (
        adjustments("瑞金,2021,I1,3,复核,,2021-12-28\n"),
        ("调整.csv", "审批人"),
        AS_OF,
    ),
    "adjustment of one cell twice": (
        adjustments("瑞金,2021,I1,3,复核,张三,2021-12-28\n瑞金,2021,I1,4,再复核,李四,2021-12-29\n"),
        ("调整.csv", "第 3 行"),
        AS_OF,
    ),
    "decision for an untied unit": (
        adjustments("瑞金,2021,先进单位,是,学指委决定,张三,2021-12-20\n"),
        ("调整.csv", "并列"),
        AS_OF,
    ),
    "empty latest export": (newest_export(b""), (NEWEST, "为空"), AS_OF),
    "undecodable latest export": (
        newest_export(b"\x81\x30\xff\xfe\x00\xff" * 40),
        (NEWEST, "编码"),
        AS_OF,
    ),
    "header-only export": (header_only_export, (NEWEST, "只有表头", "D13"), AS_OF),
    "dangling symlink": (dangling_symlink, (NEWEST, "悬空"), AS_OF),
    "symlinked folder": (symlinked_folder, ("registrations/更多", "指向文件夹的符号链接"), AS_OF),
    "fifo among the exports": (fifo, (NEWEST, "命名管道"), AS_OF),
    "file directly in the raw folder": (stray_file, (NEWEST, "不会被读取"), AS_OF),
    "BOM in a student number": (bom_in_student_number, (LAST, "第 2 行", "学号", "U+FEFF"), AS_OF),
    "over-long reason": (
        adjustments(f"瑞金,2021,I1,3,{LONG_REASON},学指委主任,2021-12-28\n"),
        ("调整.csv", "理由", "120,000 个字符", "上限 1,000 个字符"),
        AS_OF,
    ),
    "control character in an approver": (
        adjustments("瑞金,2021,I1,3,复核,学指委\u202e主任,2021-12-28\n"),
        ("调整.csv", "审批人", "U+202E"),
        AS_OF,
    ),
}

ONE_ERROR = {
    "unreadable file",
    "empty latest export",
    "undecodable latest export",
    "header-only export",
    "dangling symlink",
    "symlinked folder",
    "fifo among the exports",
    "BOM in a student number",
    "over-long reason",
    "control character in an approver",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_reported_and_nothing_published(baseline, tmp_path, case) -> None:
    mutate, texts, as_of = CASES[case]
    raw = tmp_path / "raw"
    shutil.copytree(baseline["raw"], raw)
    mutate(raw)
    published = hashlib.sha256(baseline["marts"].read_bytes()).hexdigest()
    raw_files = file_hashes(raw)
    with pytest.raises(InputError) as info:
        run(baseline, raw, as_of)
    message = str(info.value)
    for text in texts:
        assert text in message, (case, text, message[:800])
    if case in ONE_ERROR:
        assert len(info.value.errors) == 1, (case, message[:2000])
    assert hashlib.sha256(baseline["marts"].read_bytes()).hexdigest() == published
    assert not list(baseline["marts"].parent.glob(".*building*"))
    assert file_hashes(raw) == raw_files


def test_personal_data_in_published_free_text_is_refused(baseline, tmp_path) -> None:
    """The brief's example: a reason naming a graduate and their student number, and a
    graduate as approver. Refused with file, row and column; the personal values are
    repeated neither in the full message nor in what Prefect is told."""
    raw = tmp_path / "raw"
    shutil.copytree(baseline["raw"], raw)
    first = frame(raw).row(0, named=True)
    sid, name = first["学号"], first["姓名"]
    adjustments(
        f"瑞金,2021,I1,3,学生{name}（学号{sid}）投诉属实,学指委主任,2021-12-28\n"
        f"仁济,2021,I1,3,材料不全,{name},2021-12-28\n"
    )(raw)
    published = hashlib.sha256(baseline["marts"].read_bytes()).hexdigest()
    raw_files = file_hashes(raw)
    with pytest.raises(Exception) as info:  # as Prefect sees it: a summary
        nightly_refresh(str(raw), str(baseline["marts"]), str(baseline["work"]), 2021, AS_OF)
    summary = str(info.value)
    error = info.value
    if not isinstance(error, InputError):
        error = failures.recall(getattr(info.value, "run_id", ""))
    assert isinstance(error, InputError), summary
    where = {(p.file, p.row, p.column): p.reason for p in error.errors}
    reason, approver = ("adjustments/调整.csv", 2, "理由"), ("adjustments/调整.csv", 3, "审批人")
    assert set(where) == {reason, approver}
    assert "一名毕业生的学号" in where[reason] and "一名毕业生的姓名" in where[reason]
    assert "学指委主任" in where[approver]
    for shown in (str(error), summary):
        assert sid not in shown and name not in shown
    assert hashlib.sha256(baseline["marts"].read_bytes()).hexdigest() == published
    assert file_hashes(raw) == raw_files
