"""Checks made before anything runs (before Prefect starts): paths, folders, rules.

Each failure is a `UsageError` (exit 2) with one Chinese paragraph saying what is wrong and
how to fix it. Nothing here writes anything.

Path rules (resolved, symlinks followed):
- `--raw` is an existing, readable folder; it is only ever read.
- `--marts`, `--work` and `--out` never lie inside `--raw` (the raw folder is never written);
  the same for the outputs of `whatif` and `rules new` (`check_outside_raw`), which also refuse
  any folder that looks like a raw folder (`raw_folders_holding`: it holds `registrations/`).
- `--marts` and `--work` are different files, neither is a folder, and an existing one is a
  DuckDB database (never a CSV, an export or anything else that a run would replace).
- The working folder (personal data) is not the published folder nor inside it.
- The folders to write into are writable (or can be created)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from employment_eval.failures import UsageError
from employment_eval.paths import RAW_KINDS

REGISTRATIONS = RAW_KINDS[0]  # every raw folder holds it

DUCKDB_MAGIC = b"DUCK"  # bytes 8..11 of every DuckDB database file


def is_duckdb_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return len(head) == 12 and head[8:12] == DUCKDB_MAGIC


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _can_create_in(folder: Path) -> bool:
    """A real probe (permission bits say nothing for root or a read-only file system)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".employment-eval-probe-"):
            return True
    except OSError:
        return False


def check_writable_folder(folder: Path, what: str) -> None:
    """`folder` exists and is writable, or can be created under a writable ancestor."""
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise UsageError(f"{what} {folder} 无法创建：{existing} 是一个文件而不是文件夹。")
    if not _can_create_in(existing):
        raise UsageError(
            f"{what} {folder} 不可写（无法在 {existing} 中创建文件：没有写权限或为只读文件系统）。"
            "请换一个有写权限的位置，或请管理员调整权限。"
        )


def check_raw(raw: Path) -> None:
    if not raw.exists():
        raise UsageError(f"原始数据文件夹 {raw} 不存在。请用 --raw 指定放置导出文件的文件夹。")
    if not raw.is_dir():
        raise UsageError(f"--raw 应为文件夹，而 {raw} 是一个文件。")
    if not os.access(raw, os.R_OK | os.X_OK):
        raise UsageError(f"原始数据文件夹 {raw} 无法读取（没有读权限）。")


def check_outside_raw(option: str, path: Path, raw_dirs: list[Path]) -> None:
    """An output (`path`, resolved) never lies inside a raw folder: the raw folder is only read,
    and a stray file there would be refused by the next night as an unsupported input."""
    for raw in raw_dirs:
        if _inside(path, raw):
            raise UsageError(
                f"{option} {path} 位于原始数据文件夹 {raw} 之内；原始数据文件夹只读，"
                "任何输出都不能写在其中（多出的文件还会让下一次运行因「不支持的文件类型」失败）。"
                "请改到其他位置（如 data/marts/、data/work/、data/rules/）。"
            )


def raw_folders_holding(path: Path) -> list[Path]:
    """The folders among `path` and its parents that look like a raw folder (they hold a
    `registrations/` folder, as every raw folder does): for a command that does not know the
    raw folder, or whose runs read one that has since moved."""
    return [folder for folder in (path, *path.parents) if (folder / REGISTRATIONS).is_dir()]


def _check_database(path: Path, option: str, what: str) -> None:
    if path.is_dir():
        raise UsageError(
            f"{option} {path} 是一个文件夹；{option} 应为{what}的文件路径（.duckdb）。"
        )
    if path.exists() and not is_duckdb_file(path):
        raise UsageError(
            f"{option} {path} 已存在，但不是 DuckDB 数据库文件；为免覆盖其他文件，本次未运行。"
            f"请为{what}另选一个文件名。"
        )


def check_paths(raw: Path, marts: Path, work: Path, out: Path | None = None) -> None:
    """The path rules of the module docstring, for a run that reads raw and writes the rest."""
    check_raw(raw)
    for option, path in (("--marts", marts), ("--work", work), ("--out", out)):
        if path is not None:
            check_outside_raw(option, path, [raw])
    if marts == work:
        raise UsageError(
            f"--marts 与 --work 是同一个文件 {marts}：发布的数据与含个人信息的工作数据库必须分开。"
        )
    _check_database(marts, "--marts", "发布数据库")
    _check_database(work, "--work", "工作数据库")
    if _inside(work.parent, marts.parent):
        raise UsageError(
            f"工作数据库 {work} 位于发布文件夹 {marts.parent} 之内；工作数据库及其报告含个人信息，"
            "不能放在发布给分析人员的文件夹里。请把 --work 放到另一个文件夹（如 data/work/）。"
        )
    if out is not None:
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out} 是一个文件；--out 应为输出文件夹。")
        check_writable_folder(out, "输出文件夹")
    check_writable_folder(marts.parent, "发布文件夹")
    check_writable_folder(work.parent, "工作文件夹")
