"""How a run fails without leaking: what Prefect sees is a summary, the details stay private.

Prefect stores a failed task's exception message in its database (state messages, events) and
logs its traceback. An input error or a failed check can quote student numbers and names, so
the flow's tasks never let those exceptions reach Prefect: `guarded` keeps the full exception in
this process (for the command line, which prints it to the operator's console), writes its text
to the run's private report folder (for scheduled runs, which have no console) and raises
`RunFailed`, whose message holds counts, file names and the report folder only."""

from __future__ import annotations

import contextlib
import errno
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from employment_eval import fsmodes


class UsageError(Exception):
    """Bad usage found before anything runs (options, dates, paths, rules year): exit 2."""


class RunFailed(Exception):
    """A run failed (nothing published). The message is safe to show anywhere: no personal
    data. `run_id` finds the full detail (`recall`) in the process that ran it."""

    def __init__(self, summary: str, run_id: str = "", detail_file: Path | None = None):
        self.summary = summary
        self.run_id = run_id
        self.detail_file = detail_file
        super().__init__(summary)

    def __reduce__(self):  # pickles (if anything ever pickles it) carry the summary only
        return (RunFailed, (self.summary, self.run_id, self.detail_file))


_DETAILS: dict[str, BaseException] = {}


def remember(run_id: str, exc: BaseException) -> None:
    _DETAILS[run_id] = exc


def recall(run_id: str) -> BaseException | None:
    return _DETAILS.get(run_id)


def forget(run_id: str) -> None:
    _DETAILS.pop(run_id, None)


_WARNINGS: dict[str, list[str]] = {}


def warnings_file(folder: Path) -> Path:
    return folder / "warnings.txt"


def keep_warnings(run_id: str, folder: Path, lines: list[str]) -> None:
    """A run's warnings in full (they may quote personal data): kept in this process for the
    console and written to the run's private folder."""
    _WARNINGS[run_id] = list(lines)
    if lines:
        fsmodes.private_dir(folder)
        path = warnings_file(folder)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        fsmodes.make_private(path)


def recall_warnings(run_id: str) -> list[str]:
    return _WARNINGS.get(run_id, [])


_RETURNED: dict[str, list[str]] = {}


def returned_warnings_file(folder: Path) -> Path:
    return folder / "returned_lists.txt"


def keep_returned_warnings(run_id: str, folder: Path, lines: list[str]) -> None:
    """Why the follow-up lists handed back were refused (file, row, column, reason: no 学号 or
    note, but kept private all the same): kept in this process for the console and written to
    the run's private folder."""
    _RETURNED[run_id] = list(lines)
    if lines:
        fsmodes.private_dir(folder)
        path = returned_warnings_file(folder)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        fsmodes.make_private(path)


def recall_returned_warnings(run_id: str) -> list[str]:
    return _RETURNED.get(run_id, [])


_AFTER_PUBLISH: dict[str, list[str]] = {}


def keep_after_publish(run_id: str, missing: list[str]) -> None:
    """What a published run could not write afterwards (morning report, follow-up lists,
    year-end files): one sentence each, naming what failed and where the previous file is."""
    _AFTER_PUBLISH.setdefault(run_id, []).extend(missing)


def recall_after_publish(run_id: str) -> list[str]:
    return _AFTER_PUBLISH.get(run_id, [])


@contextlib.contextmanager
def unwrapped() -> Iterator[None]:
    """Re-raise a `RunFailed` as the failure it summarises (for callers in this process: the
    command line, tests)."""
    try:
        yield
    except RunFailed as exc:
        detail = recall(exc.run_id) if exc.run_id else None
        if detail is None:
            raise
        raise detail from None


def _files(names: list[str], limit: int = 5) -> str:
    counts = Counter(names)
    shown = "、".join(f"{name}（{n} 处）" for name, n in counts.most_common(limit))
    more = f" 等 {len(counts)} 个文件" if len(counts) > limit else ""
    return shown + more


def summary(exc: BaseException) -> str:
    """One paragraph without personal values: what failed, how often, in which files."""
    from employment_eval.audit import AuditError
    from employment_eval.problems import InputError
    from employment_eval.render.morning import MorningReportError
    from employment_eval.rules import RulesError
    from employment_eval.runner import ModelError

    if isinstance(exc, InputError):
        errors = exc.errors
        warnings = len(exc.problems) - len(errors)
        where = _files([p.file for p in errors])
        return f"输入有问题：{len(errors)} 个错误、{warnings} 条警告，涉及 {where}"
    if isinstance(exc, AuditError):
        failed = [r for r in exc.results if not r.ok and r.severity == "error"]
        checked = Counter(r.title or "质量检查" for r in failed)
        which = "、".join(f"{s}（{n} 项）" for s, n in sorted(checked.items()))
        return f"质量检查未通过：{len(failed)} 项错误，涉及 {which}"
    if isinstance(exc, ModelError):
        return "评分计算失败（计算规则文件或其数据有误，详见运行报告）"
    if isinstance(exc, RulesError):
        return "评估规则文件有误"
    if isinstance(exc, MorningReportError):  # read from the marts: no personal data in it
        return str(exc).rstrip("。")
    if isinstance(exc, OSError):
        return _os_summary(exc)
    return f"运行出错（{type(exc).__name__}）"


def _os_summary(exc: OSError) -> str:
    """A file that could not be written or read, in Chinese (paths only, never contents)."""
    where = f"「{exc.filename}」" if exc.filename else "某个文件"
    if isinstance(exc, IsADirectoryError):
        return f"无法写入{where}：同名的文件夹占用了这个位置"
    if isinstance(exc, PermissionError):
        return f"没有权限写入或读取{where}"
    if exc.errno == errno.ENOSPC:
        return "磁盘空间不足"
    return f"读写{where}时出错（操作系统错误 {exc.errno}）"


def write_detail(folder: Path, exc: BaseException) -> Path:
    """The full text of a failure (may quote personal data) in the run's private folder."""
    fsmodes.private_dir(folder)
    path = folder / "failure.txt"
    path.write_text(str(exc) + "\n", encoding="utf-8")
    fsmodes.make_private(path)
    return path


@contextlib.contextmanager
def guarded(run_id: str, report_dir: Path) -> Iterator[None]:
    """Turn every failure inside it into a `RunFailed` that is safe for Prefect: an unexpected
    error's message (a DuckDB error may quote a cell) is kept private like an input error's."""
    try:
        yield
    except RunFailed:
        raise
    except Exception as exc:
        remember(run_id, exc)
        detail = write_detail(report_dir, exc)
        message = f"{summary(exc)}。完整清单（可能含个人信息）：{detail}"
        raise RunFailed(message, run_id, detail) from None
