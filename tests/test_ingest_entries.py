"""Every entry under --raw is either read or reported (discover.py): symlinks, loops, special
files, unreadable files and folders, stray entries, and --raw itself."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from employment_eval.ingest.api import check_inputs
from employment_eval.ingest.read import discover
from employment_eval.problems import InputError, Problem
from tests.ingest_helpers import (
    REG_HEADERS,
    ROSTER_HEADERS,
    cohort_rows,
    make_raw,
    open_up,
    unprivileged,
    without_name_dates,
    world_readable_dir,
    write_csv,
)

AS_OF = date(2021, 12, 31)


def problems_of(raw: Path) -> list[Problem]:
    return without_name_dates(check_inputs(raw, as_of=AS_OF, raise_on_error=False).problems)


def only_error(raw: Path) -> Problem:
    problems = problems_of(raw)
    assert len(problems) == 1, [p.render() for p in problems]
    assert problems[0].severity == "error"
    return problems[0]


# --- symlinks ----------------------------------------------------------------------------


def test_a_symlink_to_a_regular_file_is_read_under_its_own_name(tmp_path):
    raw = make_raw(tmp_path, roster=False)
    outside = tmp_path / "elsewhere" / "名单.csv"
    sid = cohort_rows()[0]["学号"]
    write_csv(outside, ROSTER_HEADERS, [[sid, "经济困难", "2021"]])
    (raw / "special_groups").mkdir()
    (raw / "special_groups" / "roster.csv").symlink_to(outside)
    result = check_inputs(raw, as_of=AS_OF)
    assert without_name_dates(result.problems) == []
    [roster] = [f for f in result.files if f.kind == "special_groups"]
    assert (roster.path, roster.rows) == ("special_groups/roster.csv", 1)


def test_a_dangling_symlink_is_an_error_naming_it(tmp_path):
    raw = make_raw(tmp_path)
    (raw / "registrations" / "export_2021-07-15.csv").symlink_to(tmp_path / "gone.csv")
    err = only_error(raw)
    assert err.file == "registrations/export_2021-07-15.csv"
    assert "不存在" in err.reason and "悬空" in err.reason


@pytest.mark.parametrize("two_steps", [False, True])
def test_a_symlink_loop_is_an_error_naming_it(tmp_path, two_steps):
    raw = make_raw(tmp_path)
    folder = raw / "adjustments"
    if two_steps:
        (folder / "a.csv").symlink_to(folder / "b.csv")
        (folder / "b.csv").symlink_to(folder / "a.csv")
        names = {"adjustments/a.csv", "adjustments/b.csv"}
    else:
        (folder / "loop.csv").symlink_to(folder / "loop.csv")
        names = {"adjustments/loop.csv"}
    problems = problems_of(raw)
    assert {p.file for p in problems} == names
    assert all(p.severity == "error" and "循环" in p.reason for p in problems)


def test_a_symlinked_folder_is_an_error_and_not_followed(tmp_path):
    raw = make_raw(tmp_path)
    other = tmp_path / "more_exports"
    write_csv(other / "export_2021-08-15.csv", REG_HEADERS, cohort_rows())
    (raw / "registrations" / "more").symlink_to(other, target_is_directory=True)
    err = only_error(raw)
    assert err.file == "registrations/more"
    assert "指向文件夹的符号链接" in err.reason
    found, _ = discover(raw)
    assert not [f for f in found if "more" in f.rel]


def test_a_kind_folder_that_is_a_symlink_or_a_file_is_an_error(tmp_path):
    raw = make_raw(tmp_path, adjustments=False, roster=False)
    real = tmp_path / "real_adjustments"
    real.mkdir()
    (raw / "adjustments").symlink_to(real, target_is_directory=True)
    (raw / "special_groups").write_text("not a folder")
    problems = problems_of(raw)
    by_file = {p.file: p.reason for p in problems}
    assert set(by_file) == {"adjustments/", "special_groups"}
    assert "符号链接" in by_file["adjustments/"]
    assert "应为存放该类输入文件的文件夹" in by_file["special_groups"]


# --- special files, stray entries ----------------------------------------------------------


def test_a_fifo_is_an_error_and_never_opened(tmp_path):
    raw = make_raw(tmp_path)
    os.mkfifo(raw / "registrations" / "export_2021-07-15.csv")  # opening it would block
    err = only_error(raw)
    assert err.file == "registrations/export_2021-07-15.csv"
    assert "命名管道" in err.reason and "不是普通文件" in err.reason


def test_entries_directly_in_the_raw_folder_or_in_unknown_folders_are_errors(tmp_path):
    raw = make_raw(tmp_path)
    write_csv(raw / "export_2021-08-15.csv", REG_HEADERS, cohort_rows())
    write_csv(raw / "registration" / "export_2021-09-15.csv", REG_HEADERS, cohort_rows())
    (raw / ".DS_Store").write_bytes(b"\x00")  # hidden: skipped as before
    problems = problems_of(raw)
    by_file = {p.file: p.reason for p in problems}
    assert set(by_file) == {"export_2021-08-15.csv", "registration/"}
    assert all(p.severity == "error" for p in problems)
    assert "registrations/" in by_file["export_2021-08-15.csv"]
    assert "未知的文件夹" in by_file["registration/"]


def test_hidden_entries_lock_files_and_sub_folders(tmp_path):
    raw = make_raw(tmp_path)
    reg = raw / "registrations"
    write_csv(reg / ".old" / "export_2021-05-15.csv", REG_HEADERS, [])  # hidden folder
    (reg / "~$export_2021-06-15.csv").write_bytes(b"lock")
    write_csv(reg / "2021" / "七月" / "export_2021-07-15.csv", REG_HEADERS, cohort_rows(3))
    result = check_inputs(raw, as_of=AS_OF)
    assert without_name_dates(result.problems) == []
    assert sorted(f.path for f in result.files if f.kind == "registrations") == [
        "registrations/2021/七月/export_2021-07-15.csv",
        "registrations/export_2021-06-15.csv",
    ]


# --- permissions -------------------------------------------------------------------------


@pytest.fixture
def shared():
    """A raw folder `nobody` can reach, with the modules imported by a first check."""
    with world_readable_dir() as base:
        raw = make_raw(base)
        open_up(base)
        assert without_name_dates(check_inputs(raw, as_of=AS_OF).problems) == []
        yield raw


def test_an_unreadable_file_is_one_error_naming_it(shared):
    bad = write_csv(shared / "registrations" / "export_2021-08-15.csv", REG_HEADERS, cohort_rows())
    bad.chmod(0o000)
    with unprivileged():
        problems = problems_of(shared)
    [err] = problems  # not a PermissionError, and no cascade (roster, D13, ...)
    assert err.file == "registrations/export_2021-08-15.csv"
    assert "没有读取权限" in err.reason and err.severity == "error"


def test_an_unreadable_sub_folder_is_one_error_naming_it(shared):
    sub = shared / "registrations" / "older"
    write_csv(sub / "export_2021-05-15.csv", REG_HEADERS, cohort_rows())
    sub.chmod(0o000)
    with unprivileged():
        problems = problems_of(shared)
    [err] = problems
    assert (err.file, err.severity) == ("registrations/older/", "error")
    assert "没有读取权限" in err.reason and "未被读取" in err.reason


@pytest.mark.parametrize("case", ["missing", "a file", "unreadable"])
def test_a_bad_raw_folder_is_exactly_one_error(tmp_path, case):
    with world_readable_dir() as base:
        raw = make_raw(base)
        open_up(base)
        expected = "不存在"
        if case == "missing":
            raw = base / "no_such_folder"
        elif case == "a file":
            raw = base / "raw.csv"
            raw.write_text("学号\n")
            expected = "这里给的是一个文件"
        else:
            raw.chmod(0o000)
            expected = "没有读取权限"
        with unprivileged():
            problems = problems_of(raw)
            with pytest.raises(InputError) as info:
                check_inputs(raw, as_of=AS_OF)
        [err] = problems
        assert err.severity == "error" and expected in err.reason
        assert str(raw) in err.render() and "--raw" in err.render()
        assert [p.reason for p in info.value.problems] == [err.reason]
