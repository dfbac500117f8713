"""The commands that read inputs and publish: run, scoreboard, check, generate, template.

Everything that can be checked is checked before Prefect is imported: options, dates, paths,
the rules year, the lock, the Prefect server."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from employment_eval import failures, fsmodes, preflight
from employment_eval.cli import parser as cli_parser
from employment_eval.cli.outcome import PUBLISHED_INCOMPLETE, quiet_prefect_console, say
from employment_eval.options import RunOptions, default_year
from employment_eval.rules import Rules, RulesSource

WARNINGS_SHOWN = 50


def resolve(args: argparse.Namespace) -> RunOptions:
    """The run's options, checked: the rules folder and the year's rules."""
    return resolve_with_rules(args)[0]


def resolve_with_rules(args: argparse.Namespace) -> tuple[RunOptions, list[Rules]]:
    """The run's options and every year's rules, checked (the run's year must have a file)."""
    rules = getattr(args, "rules", None)
    if rules and not Path(rules).expanduser().is_dir():
        raise failures.UsageError(
            f"--rules {rules} 不是一个文件夹（应为存放 <年度>.toml 的文件夹）。"
        )
    opts = RunOptions.resolve(
        args.raw,
        getattr(args, "marts", None) or "data/marts/employment.duckdb",
        getattr(args, "work", None) or "data/work/warehouse.duckdb",
        args.year,
        args.as_of,
        rules=rules,
        allow_older=getattr(args, "allow_older", False),
        wait_seconds=getattr(args, "wait", 0.0),
        keep_followup=getattr(args, "keep_followup", 14),
        force=getattr(args, "force", False),
        data_docs=getattr(args, "data_docs", False),
    )
    source: RulesSource = opts.rules_source
    if opts.year is not None:
        source.load(opts.year)  # a missing or broken rules file is reported before anything runs
    else:
        default_year(source)  # some year's rules; the run settles the year from the data
    return opts, source.load_all()


@contextlib.contextmanager
def run_context(opts: RunOptions) -> Iterator[None]:
    """Prefect's environment and the run's locks, before the flow starts."""
    from employment_eval import locks, prefect_env

    prefect_env.configure(opts.work_dir)
    prefect_env.check_server()
    fsmodes.public_dir(opts.marts_path.parent)
    with (
        locks.hold(opts.work_path, opts.wait_seconds, say),
        locks.hold(opts.marts_path, opts.wait_seconds, say),
    ):
        yield


def show_warnings(run_id: str, report_dir: Path) -> None:
    lines = failures.recall_warnings(run_id)
    if not lines:
        return
    say(f"输入警告 {len(lines)} 条：")
    for line in lines[:WARNINGS_SHOWN]:
        say(line)
    if len(lines) > WARNINGS_SHOWN:
        say(f"……另有 {len(lines) - WARNINGS_SHOWN} 条，全文见 {failures.warnings_file(report_dir)}")


def last_morning_report(opts: RunOptions, as_of) -> str:
    from employment_eval.publish import published_year
    from employment_eval.render.report_names import report_paths

    year = published_year(opts.marts_path)
    if year is None:
        return ""
    html, _ = report_paths(opts.marts_path.parent, year, as_of)
    return f"最近的晨报：{html}" if html.exists() else ""


def show_morning_outputs(opts: RunOptions, year: int) -> None:
    """Where the night's morning report and the units' follow-up lists are (those written)."""
    from employment_eval import followup
    from employment_eval.render.morning import report_paths

    missing = " ".join(failures.recall_after_publish(opts.run_id))
    html, xlsx = report_paths(opts.marts_path.parent, year, opts.as_of)
    if html.exists() and "晨报未能生成" not in missing:
        print(f"\n晨报：{html}\n      {xlsx}")
    folder = followup.night_dir(opts.work_dir, year, opts.as_of)
    if folder.is_dir() and f"{followup.STEP}未能生成" not in missing:
        print(f"{followup.STEP}（每个单位一个文件夹，含个人信息，仅限本机）：{folder}")
    returned = failures.recall_returned_warnings(opts.run_id)
    if returned:
        say(f"退回的跟进名单有问题（{followup.returned_dir(opts.work_dir)}）：")
        for line in returned[:WARNINGS_SHOWN]:
            say(line)
        if len(returned) > WARNINGS_SHOWN:
            more = len(returned) - WARNINGS_SHOWN
            say(f"……另有 {more} 条，全文见运行报告中的 returned_lists.txt")


def after_publish_outcome(opts: RunOptions) -> int:
    """0, or PUBLISHED_INCOMPLETE when the marts were published but a file that follows them
    (morning report, follow-up lists, year-end files) could not be written: each is named
    with where the previous one is, and where the run's report is."""
    from employment_eval.audit import report_dir

    missing = failures.recall_after_publish(opts.run_id)
    for text in missing:
        say(f"[警告] 数据已发布，但{text}。")
    if not missing:
        return 0
    say(f"运行报告：{report_dir(opts)}（退出码 {PUBLISHED_INCOMPLETE}：已发布，但有文件未能生成）")
    return PUBLISHED_INCOMPLETE


# --- run -------------------------------------------------------------------------------------


def add_run(p: argparse.ArgumentParser) -> None:
    cli_parser.add_run_options(p)


def first_line(args: argparse.Namespace, what: str) -> None:
    """The command's first console line, before anything slow is imported or started (a
    temporary Prefect server takes seconds): what it is doing, on which inputs."""
    import os

    day = f"评估日期 {args.as_of}" if getattr(args, "as_of", None) else "评估日期为今天"
    server = "" if os.environ.get("PREFECT_API_URL") else "；如有新输入，将启动临时调度服务器"
    say(f"{what}（{day}）：核对 {args.raw or '默认原始数据文件夹'} 中的输入与上次发布{server}……")


def cmd_run(args: argparse.Namespace) -> int:
    first_line(args, "夜间刷新")
    from employment_eval import gate_worker, nochange, prefect_env
    from employment_eval.audit import report_dir
    from employment_eval.publish import published_year
    from employment_eval.render.console import scoreboard_text
    from employment_eval.years import recall_choice

    opts, rules = resolve_with_rules(args)
    preflight.check_paths(opts.raw_dir, opts.marts_path, opts.work_path)
    with run_context(opts):
        nochange.refuse_older(opts)
        last = None if opts.force else nochange.unchanged_since(opts, rules)
        if last is not None:  # decided before Prefect or Great Expectations is imported
            print(nochange.nothing_new_message(last) + last_morning_report(opts, last.as_of))
            return 0
        with gate_worker.early():  # GX imports on the other core meanwhile
            from flows.nightly_refresh import nightly_refresh

            quiet_prefect_console()
            with prefect_env.one_off_run():
                nightly_refresh(**opts.flow_parameters())
    show_warnings(opts.run_id, report_dir(opts))
    year = published_year(opts.marts_path) or opts.year
    print(recall_choice(opts.run_id))
    print(scoreboard_text(opts.marts_path, year))
    show_morning_outputs(opts, year)
    return after_publish_outcome(opts)


# --- scoreboard --------------------------------------------------------------------------------


def add_scoreboard(p: argparse.ArgumentParser) -> None:
    cli_parser.add_run_options(p)
    p.add_argument(
        "--out",
        metavar="DIR",
        help="年终文件（xlsx、csv、html）的输出文件夹。默认：发布数据库所在的文件夹",
    )


def cmd_scoreboard(args: argparse.Namespace) -> int:
    first_line(args, "年终刷新")
    from employment_eval import gate_worker, nochange, prefect_env
    from employment_eval.audit import report_dir
    from employment_eval.publish import published_year
    from employment_eval.render.console import scoreboard_text
    from employment_eval.years import recall_choice

    opts = resolve(args)
    out = Path(args.out).expanduser().resolve() if args.out else opts.marts_path.parent
    preflight.check_paths(opts.raw_dir, opts.marts_path, opts.work_path, out)
    with run_context(opts), gate_worker.early():
        from flows.year_end import year_end_scoreboard

        nochange.refuse_older(opts)
        quiet_prefect_console()
        with prefect_env.one_off_run():
            paths = year_end_scoreboard(**opts.flow_parameters(), out_dir=str(out))
    show_warnings(opts.run_id, report_dir(opts))
    year = published_year(opts.marts_path) or opts.year
    print(recall_choice(opts.run_id))
    print(scoreboard_text(opts.marts_path, year))
    show_morning_outputs(opts, year)
    if paths:
        print("\n年终文件已写入：")
        for path in paths:
            print(f"  {path}")
    return after_publish_outcome(opts)


# --- check -------------------------------------------------------------------------------------


def add_check(p: argparse.ArgumentParser) -> None:
    cli_parser.add_raw(p)
    cli_parser.add_rules(p)
    cli_parser.add_year_as_of(p)


def cmd_check(args: argparse.Namespace) -> int:
    from employment_eval.ingest.api import check_inputs
    from employment_eval.problems import render_problems

    opts = resolve(args)
    preflight.check_raw(opts.raw_dir)
    result = check_inputs(opts.raw_dir, as_of=opts.as_of, rules=opts.rules_source.load_all())
    if result.problems:
        print(render_problems(result.problems))
    print(f"输入检查通过：{len(result.files)} 个文件，{len(result.problems)} 条警告。")
    return 0


# --- generate ----------------------------------------------------------------------------------


def add_generate(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out",
        default="data/raw",
        metavar="DIR",
        help="写入合成数据的原始数据文件夹（须不存在或为空）。默认：%(default)s",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--year", type=cli_parser.parse_year, default=2021, metavar="YEAR",
        help="毕业年度。默认：%(default)s",
    )  # fmt: skip
    which.add_argument(
        "--years",
        metavar="FROM-TO",
        help="多个年度的历史数据（如 2020-2022），每年一季、各用其规则文件；没有自带规则的年度"
        "另写规则文件到输出文件夹旁的 rules/。默认：只生成 --year 一个年度",
    )
    p.add_argument(
        "--seed", type=int, default=2021, metavar="N",
        help="随机种子：同样的参数生成完全相同的文件。默认：%(default)s",
    )  # fmt: skip
    p.add_argument(
        "--scale",
        type=cli_parser.positive(float),
        default=1.0,
        metavar="K",
        help="规模倍数：各单位毕业生人数乘以 K。默认：%(default)s（约 3,100 名毕业生）",
    )
    p.add_argument(
        "--exports",
        type=cli_parser.positive(int),
        metavar="N",
        help="本季导出次数。默认：12（每个时间节点、12 月 1 日及其间各次）",
    )
    p.add_argument(
        "--format",
        choices=["mixed", "csv"],
        default="mixed",
        help="mixed：CSV（多种编码）与 xlsx 混合，如各单位实际所交；csv：只写 UTF-8 CSV。"
        "默认：%(default)s",
    )


def cmd_generate(args: argparse.Namespace) -> int:
    from employment_eval.generate import generate

    out = Path(args.out).expanduser().resolve()
    if out.exists() and (
        not out.is_dir() or any(not p.name.startswith(".") for p in out.iterdir())
    ):  # a hidden file (data/raw/.gitkeep) does not count
        raise failures.UsageError(
            f"--out {out} 已存在且不是空文件夹；为免混入或覆盖已有数据，未生成任何文件。"
            "请指定一个不存在或空的文件夹。"
        )
    preflight.check_writable_folder(out, "输出文件夹")
    summary = generate(
        out,
        year=args.year,
        seed=args.seed,
        scale=args.scale,
        exports=args.exports,
        fmt=args.format,
        years=args.years,
    )
    inputs = sum(len(v) for k, v in summary["files"].items() if k != "rules")
    years = "、".join(str(y) for y in summary["years"])
    print(
        f"已生成合成数据：{out}（{years} 年度，{inputs} 个文件，"
        f"{summary['total_graduates']:,} 名毕业生，{len(summary['export_dates'])} 次导出）"
    )
    for rules in summary["files"].get("rules", []):
        print(f"  规则文件：{out.parent / rules}")
    return 0


# --- template ----------------------------------------------------------------------------------


def add_template(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--year", type=cli_parser.parse_year, metavar="YEAR",
        help="登记表的评估年度。默认：有规则文件的最近年度",
    )  # fmt: skip
    p.add_argument(
        "--out",
        metavar="FILE",
        help="输出的 xlsx 文件（不会覆盖已有文件）。默认：当前文件夹下的 submissions_<年度>.xlsx",
    )


def cmd_template(args: argparse.Namespace) -> int:
    from employment_eval.options import default_year
    from employment_eval.template import write_template

    year = args.year if args.year is not None else default_year()
    out = Path(args.out or f"submissions_{year}.xlsx").expanduser().resolve()
    if out.exists():
        raise failures.UsageError(
            f"{out} 已存在，未覆盖（以免空白表覆盖已填写的登记表）。请换一个 --out 或先移走原文件。"
        )
    preflight.check_writable_folder(out.parent, "输出文件夹")
    write_template(out, year)
    print(f"已生成 {year} 年度空白单位材料登记表：{out}")
    return 0


COMMANDS = {
    "run": ("夜间刷新：读取输入、计算、质量检查、发布", add_run, cmd_run),
    "scoreboard": ("年终：刷新后输出记分板文件（xlsx、csv、html）", add_scoreboard, cmd_scoreboard),
    "check": ("只读取并校验输入文件，不写任何文件", add_check, cmd_check),
    "generate": ("生成合成示例数据（一整季的四类输入文件）", add_generate, cmd_generate),
    "template": ("生成空白的单位材料登记表（xlsx）", add_template, cmd_template),
}

__all__ = ["COMMANDS"]
_ = sys  # stderr is written through outcome.say
