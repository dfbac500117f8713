"""Every way a command can end, as one Chinese paragraph and an exit code — never a traceback.

0 done; 1 the run failed (inputs, checks, lock, Prefect, disk, anything unexpected: nothing
published, the previous marts untouched); 2 bad usage or configuration found before anything
ran (options, dates, paths, rules); 3 the marts were published but a file that follows them
(morning report, follow-up lists, year-end files) could not be written — named on the console
with where the previous one is. An unexpected error's traceback goes to a private crash
file, and the paragraph says where."""

from __future__ import annotations

import datetime as dt
import errno
import logging
import sys
import tempfile
import traceback
from pathlib import Path

from employment_eval import fsmodes
from employment_eval.failures import RunFailed, UsageError, recall
from employment_eval.locks import LockBusy
from employment_eval.prefect_env import PrefectUnavailable, explain_start_failure
from employment_eval.problems import InputError, render_problems
from employment_eval.rules import RulesError

# duckdb is imported only to explain its errors: a command's first line comes before it

USAGE = 2
FAILED = 1
PUBLISHED_INCOMPLETE = 3  # the marts were published; a file after them could not be written


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _generate_error() -> type[BaseException] | tuple[()]:
    from employment_eval import generate

    return getattr(generate, "GenerateError", ())


def _year_end_errors() -> tuple[type[BaseException], ...]:
    """The year-end files cannot be written: no data for the year, a marts file without its
    provenance, a text longer than Excel allows (each with its own Chinese message)."""
    from employment_eval.render.yearend import YearEndError
    from employment_eval.textsafe import TextTooLongError

    return (YearEndError, TextTooLongError)


def explain(exc: BaseException, crash_dir: Path | None) -> tuple[str, int]:
    """(paragraph, exit code) for any exception a command raised."""
    if isinstance(exc, RunFailed):
        detail = recall(exc.run_id) if exc.run_id else None
        if detail is not None:
            text, _ = explain(detail, crash_dir)
            folder = exc.detail_file.parent if exc.detail_file else None
            if folder is not None and str(folder) not in text:
                text += f"\n本次运行的完整报告（仅本机可读）：{folder}"
            return text, FAILED
        return f"运行失败，未发布任何结果，原有数据保持不变：{exc.summary}", FAILED
    if isinstance(exc, UsageError):
        return f"用法或配置有误，未运行：{exc}", USAGE
    if isinstance(exc, RulesError):
        return f"评估规则有误，未运行：{exc}", USAGE
    if isinstance(exc, InputError):
        head = f"输入有问题，未发布任何结果（{len(exc.errors)} 个错误）："
        return f"{head}\n{render_problems(exc.problems)}", FAILED
    if isinstance(exc, _audit_types()):
        return f"质量检查未通过，未发布任何结果，原有数据保持不变：\n{exc}", FAILED
    if isinstance(exc, LockBusy | PrefectUnavailable):
        return str(exc), FAILED
    if isinstance(exc, _generate_error()):
        return str(exc), USAGE
    if isinstance(exc, _year_end_errors()):
        return str(exc), FAILED
    if isinstance(exc, _signing_refused()):
        return str(exc), FAILED
    started = explain_start_failure(exc)
    if started is not None:
        return str(started), FAILED
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "No space left" in str(exc):
        return (
            "磁盘空间不足，运行中止，未发布任何结果，原有数据保持不变。"
            "请清理磁盘（如工作文件夹中较早的报告）后重试。",
            FAILED,
        )
    if isinstance(exc, PermissionError):
        return (
            f"没有权限访问 {exc.filename or '某个文件'}，运行中止，未发布任何结果。"
            "请检查该文件或文件夹的权限。",
            FAILED,
        )
    if _is_duckdb_lock(exc):
        return (
            "数据库文件正被另一个程序打开（例如有人用 DuckDB 以写方式打开了工作数据库），"
            f"运行中止，未发布任何结果。请关闭该程序后重试。（{_first_line(exc)}）",
            FAILED,
        )
    crash = write_crash(exc, crash_dir)
    return (
        f"程序内部错误（{type(exc).__name__}：{_first_line(exc)}），运行中止，未发布任何结果，"
        f"原有数据保持不变。详细信息已写入 {crash}（仅本机可读），请交给维护人员。",
        FAILED,
    )


def _is_duckdb_lock(exc: BaseException) -> bool:
    duckdb = sys.modules.get("duckdb")  # an exception of duckdb's means it is imported
    return duckdb is not None and isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def _signing_refused() -> tuple[type[BaseException], ...]:
    from employment_eval.notice.certificate import CertificateError
    from employment_eval.signing.record import SignRefused

    return (SignRefused, CertificateError)


def _audit_types() -> tuple[type[BaseException], ...]:
    from employment_eval.audit import AuditError
    from employment_eval.runner import ModelError

    return (AuditError, ModelError)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else ""


def write_crash(exc: BaseException, folder: Path | None) -> Path:
    """The traceback in a private file (it may quote data)."""
    folder = folder or Path(tempfile.gettempdir()) / "employment-eval"
    try:
        fsmodes.private_dir(folder)
    except OSError:
        folder = Path(tempfile.mkdtemp(prefix="employment-eval-"))
    from employment_eval.options import SHANGHAI

    path = folder / f"crash-{dt.datetime.now(SHANGHAI):%Y%m%dT%H%M%S}.txt"
    path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    fsmodes.make_private(path)
    return path


# --- Prefect's console output ----------------------------------------------------------------


class ConsoleFilter(logging.Filter):
    """What Prefect prints on the operator's console while the command line runs a flow: the
    pipeline's own (Chinese) lines and warnings, not Prefect's English chatter nor tracebacks —
    a failure is explained once, by the command line, in Chinese. (Everything still goes to
    the Prefect server, where it carries no personal data.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info or record.exc_text:
            return False
        message = record.getMessage()
        if "Traceback" in message or "RunFailed" in message:
            return False
        if record.levelno >= logging.ERROR:
            return False  # Prefect's "Finished in state Failed(…)": the CLI explains failures
        return any("\u4e00" <= ch <= "\u9fff" for ch in message)


class ConsoleFormatter(logging.Formatter):
    """A console line as the centre reads it: the Beijing time and the pipeline's own message,
    without Prefect's prefixes ("Task run 'ingest-2f2' -", "Flow run '…'", the level in
    English). Prefect's server log keeps them."""

    def format(self, record: logging.LogRecord) -> str:
        from employment_eval.options import SHANGHAI

        when = dt.datetime.fromtimestamp(record.created, SHANGHAI).strftime("%H:%M:%S")
        message = record.getMessage()
        if record.levelno >= logging.WARNING and not message.startswith("["):
            message = f"[警告] {message}"
        return f"{when} {message}"


def quiet_prefect_console() -> None:
    """Attach ConsoleFilter and ConsoleFormatter to Prefect's console handlers (after Prefect
    is imported)."""
    seen: set[int] = set()
    for name in ("", "prefect", "prefect.flow_runs", "prefect.task_runs", "prefect.engine"):
        for handler in logging.getLogger(name).handlers:
            if id(handler) in seen or "Console" not in type(handler).__name__:
                continue
            seen.add(id(handler))
            handler.addFilter(ConsoleFilter())
            handler.setFormatter(ConsoleFormatter())
