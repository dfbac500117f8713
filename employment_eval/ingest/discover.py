"""Finding the input files under the raw folder: every entry is either read or reported.

What `--raw DIR` may hold (docs/输入文件格式.md), entry by entry:

- `DIR` itself must be a readable folder (a symlink to one is fine: it is the path the user
  gave). Missing, a file, or unreadable: one error, and nothing else is checked.
- Directly in `DIR`: the four kind folders `registrations/`, `special_groups/`,
  `submissions/`, `adjustments/` (a missing kind folder means no files of that kind).
  Any other file or folder there is an error (a file dropped beside the folders, a folder
  named `registration/`, ... would otherwise be ignored without a word).
- Inside a kind folder, recursively:
  - hidden entries (name starting with '.') and Excel lock files ('~$…') are skipped, as
    docs/输入文件格式.md says; a hidden folder is skipped with everything in it;
  - sub-folders are walked; a sub-folder that cannot be listed is an error naming it;
  - regular files ending in .csv / .xlsx (any case) are read; a symlink to a regular file
    is read like the file, under the symlink's name;
  - a regular file that cannot be opened for reading (permissions) is an error naming it;
  - .xls is an error asking for .xlsx; any other extension is an error;
  - a symlink to a folder, a dangling symlink, a symlink loop, and anything that is not a
    regular file (socket, FIFO, device) is an error naming the entry. Folders are not
    followed through symlinks: that keeps the walk finite and the set of files the one the
    folder visibly holds.

Discovery never opens anything but regular files, and only to probe that they can be read
(a FIFO is never opened, so a run cannot hang on one)."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from employment_eval.paths import RAW_KINDS
from employment_eval.problems import Problem


def sha256_of(path: Path) -> str:
    """The file's content hash (read in 1 MB blocks). Here rather than in read.py so that a
    night with nothing new need not import the readers (polars, numpy)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


SUPPORTED_SUFFIXES = (".csv", ".xlsx")
SKIPPED_PREFIXES = (".", "~$")
KIND_FOLDERS = "、".join(f"{k}/" for k in RAW_KINDS)
ACCESS_HINT = "请检查权限，运行本程序的用户须能读取它"


@dataclass(frozen=True)
class FoundFile:
    kind: str
    path: Path
    rel: str  # relative to the raw folder, with '/' separators


def raw_dir_problem(raw_dir: Path) -> Problem | None:
    """The one error about `--raw` itself (missing, not a folder, unreadable), or None."""
    shown = f"{raw_dir}/"
    try:
        info = os.stat(raw_dir)
    except FileNotFoundError:
        if os.path.islink(raw_dir):
            return Problem(shown, None, None, "输入文件夹（--raw）是一个指向不存在位置的符号链接")
        return Problem(shown, None, None, "输入文件夹（--raw）不存在，请检查路径")
    except OSError as exc:
        reason = f"无法访问输入文件夹（--raw）（{os_reason(exc)}）：{ACCESS_HINT}"
        return Problem(shown, None, None, reason)
    if not stat.S_ISDIR(info.st_mode):
        return Problem(
            f"{raw_dir}", None, None, "--raw 应为存放输入文件的文件夹，这里给的是一个文件"
        )
    try:
        with os.scandir(raw_dir):
            pass
    except OSError as exc:
        reason = f"无法读取输入文件夹（--raw）（{os_reason(exc)}）：{ACCESS_HINT}"
        return Problem(shown, None, None, reason)
    return None


def discover(raw_dir: Path) -> tuple[list[FoundFile], list[Problem]]:
    """Every input file under raw_dir/<kind>/ (recursively) and a problem for every entry
    that is neither read nor skipped by these rules (module docstring)."""
    raw_dir = Path(raw_dir)
    problem = raw_dir_problem(raw_dir)
    if problem is not None:
        return [], [problem]
    files: list[FoundFile] = []
    problems: list[Problem] = []
    for entry in _entries(raw_dir, "", problems):
        if entry.name.startswith(SKIPPED_PREFIXES):
            continue
        if entry.name in RAW_KINDS and not entry.is_symlink() and _is_dir(entry):
            _walk(Path(entry.path), entry.name, entry.name, files, problems)
        elif entry.name in RAW_KINDS:
            problems.append(_kind_not_a_folder(entry))
        else:
            problems.append(_stray_top_level(entry))
    files.sort(key=lambda f: (RAW_KINDS.index(f.kind), PurePosixPath(f.rel).parts))
    return files, problems


def _entries(folder: Path, rel: str, problems: list[Problem]) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError as exc:
        reason = f"无法列出该文件夹（{os_reason(exc)}），其中的文件未被读取：{ACCESS_HINT}"
        problems.append(Problem(f"{rel}/", None, None, reason))
        return []


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _walk(
    folder: Path, rel: str, kind: str, files: list[FoundFile], problems: list[Problem]
) -> None:
    for entry in _entries(folder, rel, problems):
        if entry.name.startswith(SKIPPED_PREFIXES):
            continue
        entry_rel = f"{rel}/{entry.name}"
        if entry.is_symlink():
            target = _symlink_problem(entry)
            if target is not None:
                problems.append(Problem(entry_rel, None, None, target))
                continue
        elif _is_dir(entry):
            _walk(Path(entry.path), entry_rel, kind, files, problems)
            continue
        else:
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                reason = f"无法读取（{os_reason(exc)}）：{ACCESS_HINT}"
                problems.append(Problem(entry_rel, None, None, reason))
                continue
            if not stat.S_ISREG(mode):
                problems.append(Problem(entry_rel, None, None, _not_regular(mode)))
                continue
        reason = _file_problem(Path(entry.path), entry.name)
        if reason is not None:
            problems.append(Problem(entry_rel, None, None, reason))
        else:
            files.append(FoundFile(kind, Path(entry.path), entry_rel))


def _symlink_problem(entry: os.DirEntry) -> str | None:
    """None when the symlink leads to a regular file (read like it), else the reason."""
    try:
        mode = os.stat(entry.path).st_mode
    except FileNotFoundError:
        return "符号链接指向的位置不存在（悬空链接），无法读取：请删除该链接或放入实际文件"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "符号链接形成循环（链接最终指向自己），无法读取：请删除该链接"
        return f"无法读取符号链接指向的文件（{os_reason(exc)}）：{ACCESS_HINT}"
    if stat.S_ISDIR(mode):
        return (
            "这是指向文件夹的符号链接，不会被读取：请把其中的文件直接放入该文件夹"
            "（可以建子文件夹），或改为指向单个文件的链接"
        )
    if not stat.S_ISREG(mode):
        return "符号链接" + _not_regular(mode).removeprefix("这")
    return None


def _not_regular(mode: int) -> str:
    what = (
        "套接字"
        if stat.S_ISSOCK(mode)
        else "命名管道（FIFO）"
        if stat.S_ISFIFO(mode)
        else "设备文件"
        if stat.S_ISBLK(mode) or stat.S_ISCHR(mode)
        else "特殊文件"
    )
    return f"这不是普通文件，而是{what}，无法作为输入读取：请移出输入文件夹"


def _file_problem(path: Path, name: str) -> str | None:
    """A regular file: None when it is a supported, readable input, else the reason."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".xls":
        return "不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx"
    if suffix not in SUPPORTED_SUFFIXES:
        shown = PurePosixPath(name).suffix or "无扩展名"
        return f"不支持的文件类型「{shown}」，只接受 .csv 或 .xlsx"
    try:  # the real permission check (os.access would ask about the real, not effective, user)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return f"无法打开该文件（{os_reason(exc)}）：{ACCESS_HINT}"
    os.close(fd)
    return None


def _kind_not_a_folder(entry: os.DirEntry) -> Problem:
    name = f"{entry.name}/" if _is_dir(entry) or entry.is_symlink() else entry.name
    if entry.is_symlink():
        reason = (
            f"「{entry.name}」是符号链接，不会被跟随读取：请放入实际的文件夹（其中的文件可以是"
            "指向文件的符号链接）"
        )
    else:
        reason = f"「{entry.name}」应为存放该类输入文件的文件夹，而这里是一个文件"
    return Problem(name, None, None, reason)


def _stray_top_level(entry: os.DirEntry) -> Problem:
    if entry.is_symlink():
        return Problem(
            entry.name,
            None,
            None,
            f"输入文件夹中的符号链接不会被读取：输入文件只能放在 {KIND_FOLDERS} 中，"
            "请删除该链接或移出输入文件夹",
        )
    if _is_dir(entry):
        return Problem(
            f"{entry.name}/",
            None,
            None,
            f"未知的文件夹，其中的文件不会被读取：输入文件只能放在 {KIND_FOLDERS} 中"
            "（名称须完全一致），请改名或移出输入文件夹",
        )
    return Problem(
        entry.name,
        None,
        None,
        f"文件直接放在输入文件夹中，不会被读取：请放入 {KIND_FOLDERS} 之一，或移出输入文件夹",
    )


def os_reason(exc: OSError) -> str:
    """A short Chinese reason for an OS error (no traceback, no English)."""
    if isinstance(exc, PermissionError):
        return "没有读取权限"
    if isinstance(exc, FileNotFoundError):
        return "文件已不存在（可能在读取时被移走）"
    if isinstance(exc, IsADirectoryError):
        return "这是一个文件夹"
    if exc.errno == errno.ELOOP:
        return "符号链接形成循环"
    return f"操作系统错误（errno {exc.errno}）" if exc.errno else "操作系统错误"
