"""The `employment-eval` command line (OUTPUTS.md). Exit codes: 0 ok, 1 input or check
failure (nothing published), 2 bad usage."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from pathlib import Path

from employment_eval.problems import InputError, render_problems
from employment_eval.rules import RulesError

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"日期须写作 YYYY-MM-DD：{text}") from exc


def _positive(kind: type):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"须为正数：{text}")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="employment-eval", description="上海交通大学医学院毕业生就业工作评估数据管道"
    )
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser, *, marts: bool = True) -> None:
        sp.add_argument("--raw", default="data/raw", help="原始数据目录（只读）")
        if marts:
            sp.add_argument("--marts", default="data/marts/employment.duckdb")
            sp.add_argument("--work", default="data/work/warehouse.duckdb")
        sp.add_argument("--year", type=int, help="评估年度（默认：有规则文件的最近年度）")
        sp.add_argument("--as-of", type=_date, help="按该日评估（默认：上海时间今天）")

    common(sub.add_parser("run", help="夜间刷新：读取、构建、检查、发布"))
    sc = sub.add_parser("scoreboard", help="年终：刷新并输出记分板文件")
    common(sc)
    sc.add_argument("--out", help="输出目录（默认：data/marts/）")
    common(sub.add_parser("check", help="只读取并校验输入，不写任何文件"), marts=False)
    g = sub.add_parser("generate", help="生成合成示例数据")
    g.add_argument("--out", default="data/raw")
    g.add_argument("--year", type=int, default=2021)
    g.add_argument("--seed", type=int, default=2021)
    g.add_argument("--scale", type=_positive(float), default=1.0)
    g.add_argument("--exports", type=_positive(int))
    g.add_argument("--format", choices=["mixed", "csv"], default="mixed")
    t = sub.add_parser("template", help="生成空白单位材料登记表（xlsx）")
    t.add_argument("--year", type=int)
    t.add_argument("--out")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"输入有问题，未发布任何结果（{len(exc.errors)} 个错误）：", file=sys.stderr)
        print(render_problems(exc.problems), file=sys.stderr)
        return 1
    except RulesError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except _check_failure_types() as exc:
        print("质量检查未通过，未发布任何结果，原有数据保持不变：", file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return 1


def _check_failure_types() -> tuple[type[BaseException], ...]:
    from employment_eval.audit import AuditError
    from employment_eval.runner import ModelError

    return (AuditError, ModelError)


class _ExpectedFailureFilter(logging.Filter):
    """Input errors and failed checks are reported by the CLI as Chinese paragraphs; Prefect's
    engine would also log them with a traceback. Those records are dropped from the console
    (the Prefect API still records the failed run and its message)."""

    NAMES = ("InputError", "AuditError", "ModelError", "RulesError")

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and type(exc).__name__ in self.NAMES:
            return False
        message = record.getMessage()
        return not any(name in message for name in self.NAMES)


def quiet_expected_failures() -> None:
    for name in ("prefect.task_runs", "prefect.flow_runs", "prefect.engine", "prefect"):
        logging.getLogger(name).addFilter(_ExpectedFailureFilter())


def _cmd_run(args: argparse.Namespace) -> int:
    from employment_eval.options import RunOptions
    from employment_eval.summary import scoreboard_text
    from flows.nightly_refresh import nightly_refresh

    opts = RunOptions.resolve(args.raw, args.marts, args.work, args.year, args.as_of)
    quiet_expected_failures()
    nightly_refresh(
        str(opts.raw_dir), str(opts.marts_path), str(opts.work_path), opts.year, opts.as_of
    )
    print(scoreboard_text(opts.marts_path, opts.year))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from employment_eval.ingest.api import check_inputs
    from employment_eval.options import RunOptions
    from employment_eval.rules import load_rules

    opts = RunOptions.resolve(args.raw, year=args.year, as_of=args.as_of)
    load_rules(opts.year)
    result = check_inputs(opts.raw_dir, as_of=opts.as_of)
    if result.problems:
        print(render_problems(result.problems))
    print(f"输入检查通过：{len(result.files)} 个文件，{len(result.problems)} 条警告。")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from employment_eval.generate import generate

    out = Path(args.out).expanduser().resolve()
    summary = generate(
        out, year=args.year, seed=args.seed, scale=args.scale, exports=args.exports, fmt=args.format
    )
    files = sum(len(v) for v in summary["files"].values())
    print(
        f"已生成合成数据：{out}（{files} 个文件，{summary['total_graduates']:,} 名毕业生，"
        f"{len(summary['export_dates'])} 次导出）"
    )
    return 0


def _cmd_scoreboard(args: argparse.Namespace) -> int:
    from employment_eval.options import RunOptions
    from employment_eval.summary import scoreboard_text
    from employment_eval.yearend import NoDataError
    from flows.year_end import year_end_scoreboard

    opts = RunOptions.resolve(args.raw, args.marts, args.work, args.year, args.as_of)
    quiet_expected_failures()
    try:
        paths = year_end_scoreboard(
            str(opts.raw_dir),
            str(opts.marts_path),
            str(opts.work_path),
            opts.year,
            opts.as_of,
            args.out,
        )
    except NoDataError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(scoreboard_text(opts.marts_path, opts.year))
    print("\n年终文件已写入：")
    for path in paths:
        print(f"  {path}")
    return 0


def _cmd_template(args: argparse.Namespace) -> int:
    from employment_eval.options import default_year
    from employment_eval.template import write_template

    year = args.year if args.year is not None else default_year()
    out = Path(args.out or f"submissions_{year}.xlsx").expanduser().resolve()
    if out.exists():
        print(f"{out} 已存在，未覆盖（请换一个 --out 或先移走原文件）", file=sys.stderr)
        return 1
    write_template(out, year)
    print(f"已生成 {year} 年度空白单位材料登记表：{out}")
    return 0


COMMANDS = {
    "run": _cmd_run,
    "check": _cmd_check,
    "generate": _cmd_generate,
    "scoreboard": _cmd_scoreboard,
    "template": _cmd_template,
}
