"""Small file writers for the ingestion tests: a valid raw folder and ways to spoil it."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl

from employment_eval.reference import Reference

REG_HEADERS = [
    "学号", "姓名", "性别", "民族", "培养单位", "学历层次", "毕业年份", "毕业去向代码",
    "毕业去向", "单位名称", "单位性质", "单位所在地", "是否基层", "鉴证状态", "鉴证日期",
]  # fmt: skip
LEDGER_HEADERS = [
    "单位", "年度", "就业工作组织得分", "优秀毕业生评选合理投诉次数", "未就业学生排摸得分",
    "未就业学生调研报告提交日期", "就业动员会日期", "职业导师校友座谈次数",
    "职业咨询登记表份数", "成长成才故事篇数",
]  # fmt: skip
ROSTER_HEADERS = ["学号", "群体", "毕业年份"]
ADJ_HEADERS = ["单位", "年度", "指标", "调整后分值", "理由", "审批人", "日期"]

_REF: Reference | None = None


def reference() -> Reference:
    global _REF
    if _REF is None:
        _REF = Reference()
    return _REF


def reg_row(i: int, unit: str, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "学号": f"0{21000 + i:07d}",
        "姓名": f"学生{i}",
        "性别": "女" if i % 2 else "男",
        "民族": "汉族",
        "培养单位": unit,
        "学历层次": "硕士",
        "毕业年份": "2021",
        "毕业去向代码": "10",
        "毕业去向": "签就业协议形式就业",
        "单位名称": "某医院",
        "单位性质": "医疗卫生单位",
        "单位所在地": "上海市",
        "是否基层": "否",
        "鉴证状态": "已鉴证",
        "鉴证日期": "2021-06-01",
    }
    row.update(over)
    return row


def cohort_rows(per_unit: int = 2, year: str = "2021") -> list[dict[str, Any]]:
    """A small valid cohort: `per_unit` graduates in each of the 15 units."""
    rows = []
    i = 0
    for unit in reference().units:
        for _ in range(per_unit):
            rows.append(reg_row(i, unit.name, 毕业年份=year))
            i += 1
    return rows


def to_csv_bytes(
    headers: Sequence[str], rows: Iterable[dict[str, Any] | Sequence[Any]], encoding: str = "utf-8"
) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(headers)
    for r in rows:
        w.writerow([r.get(h, "") for h in headers] if isinstance(r, dict) else list(r))
    return buf.getvalue().encode(encoding)


def write_csv(
    path: Path, headers: Sequence[str], rows: Iterable[Any], encoding: str = "utf-8"
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_csv_bytes(headers, rows, encoding))
    return path


def write_export(path: Path, rows: Iterable[dict[str, Any]], export_day: date) -> Path:
    """An export as the database writes it: REG_HEADERS and its 导出日期 column filled in
    (without it the date comes from the file name, with a warning)."""
    dated = [{**r, "导出日期": export_day.isoformat()} for r in rows]
    return write_csv(path, [*REG_HEADERS, "导出日期"], dated)


NAME_DATE = "导出日期取自文件名"


def without_name_dates(problems: Iterable[Any]) -> list[Any]:
    """The problems without the warning that an export's date comes from its file name (the
    exports these tests write carry no 导出日期 column; the warning has its own tests)."""
    return [p for p in problems if not (p.severity == "warning" and NAME_DATE in p.reason)]


def write_xlsx(
    path: Path, headers: Sequence[str], rows: Iterable[dict[str, Any] | Sequence[Any]]
) -> Path:
    """Cells keep their Python types: str → text, int/float → number, date → date cell."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(headers))
    for r in rows:
        ws.append([r.get(h) for h in headers] if isinstance(r, dict) else list(r))
    wb.save(path)
    return path


def ledger_rows(year: int = 2021) -> list[dict[str, Any]]:
    return [
        {
            "单位": u.name,
            "年度": year,
            "就业工作组织得分": "5",
            "优秀毕业生评选合理投诉次数": "0",
            "未就业学生排摸得分": "18.5",
            "未就业学生调研报告提交日期": f"{year}-03-20",
            "就业动员会日期": f"{year}-10-10",
            "职业导师校友座谈次数": "2",
            "职业咨询登记表份数": "3",
            "成长成才故事篇数": "4",
        }
        for u in reference().units
    ]


def make_raw(
    root: Path,
    *,
    export_day: date = date(2021, 6, 15),
    ledger: bool = True,
    roster: bool = True,
    adjustments: bool = True,
) -> Path:
    """A complete, valid raw folder (one export, roster, ledger, adjustments)."""
    raw = root / "raw"
    cohort = cohort_rows()
    write_csv(raw / "registrations" / f"export_{export_day.isoformat()}.csv", REG_HEADERS, cohort)
    if roster:
        write_csv(
            raw / "special_groups" / "roster.csv",
            ROSTER_HEADERS,
            [[cohort[0]["学号"], "经济困难", "2021"], [cohort[1]["学号"], "学业困难", "2021届"]],
        )
    if ledger:
        write_csv(raw / "submissions" / "submissions_2021.csv", LEDGER_HEADERS, ledger_rows())
    if adjustments:
        write_csv(
            raw / "adjustments" / "adjustments.csv",
            ADJ_HEADERS,
            [["瑞金", "2021", "I1", "4.5", "材料不全", "张三", "2021-12-25"]],
        )
    return raw


# --- running as a user who really cannot read a file -------------------------------------

NOBODY = 65534


@contextmanager
def unprivileged() -> Iterator[None]:
    """Run the block with the effective user and group `nobody` when the tests run as root
    (root reads a chmod-000 file anyway, so a permission test would prove nothing); as any
    other user, run it as is. Everything the block imports must be imported before it."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@contextmanager
def world_readable_dir() -> Iterator[Path]:
    """A scratch folder that `nobody` can reach (pytest's tmp_path is private to root)."""
    base = Path(tempfile.mkdtemp(prefix="ingest-perm-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        for p in [base, *base.rglob("*")]:
            if not p.is_symlink():
                p.chmod(0o755 if p.is_dir() else 0o644)
        shutil.rmtree(base)


def writable_copy(source: Path, target: Path) -> Path:
    """A copy of a read-only raw folder (the shared `sample_raw`) that a test may change."""
    shutil.copytree(source, target)
    open_up(target)
    return target


def open_up(root: Path) -> None:
    """Make every file and folder under root readable by anyone (before chmod-ing one)."""
    for p in [root, *root.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)


def file_hashes(root: Path) -> dict[str, str]:
    """sha256 of every regular file under root (symlinks and special files skipped)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def refresh_season(place: dict[str, Path], raw: Path, as_of: date = date(2021, 12, 20)) -> str:
    """The nightly flow in process over `raw` (every refresh rebuilds), failures in full."""
    from employment_eval import failures
    from flows.nightly_refresh import nightly_refresh

    with failures.unwrapped():
        return nightly_refresh(
            str(raw), str(place["marts"]), str(place["work"]), 2021, as_of, force=True
        )


def copy_raw(baseline: dict[str, Path], tmp_path: Path) -> Path:
    """A writable copy of a published baseline's raw folder."""
    raw = tmp_path / "raw"
    shutil.copytree(baseline["raw"], raw)
    return raw
