"""`employment-eval whatif`: the working database's current data scored under one or more draft
rules files, beside the official rules, in a scratch in-memory database. Nothing is published
and the working database is only read (under its run lock). No quality gate, no Prefect: the
heavy imports happen inside the command, so that other commands do not pay for them."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from employment_eval import failures
from employment_eval.cli import parser as cli_parser
from employment_eval.cli.outcome import say
from employment_eval.options import DEFAULT_WAIT_SECONDS, DEFAULT_WORK

if TYPE_CHECKING:
    from employment_eval.whatif.scratch import ScoredRun


def add_whatif(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--rules",
        dest="drafts",
        action="append",
        required=True,
        metavar="DRAFT.toml",
        help="草案规则文件；可写多次，每个草案一列",
    )
    p.add_argument(
        "--year",
        type=cli_parser.parse_year,
        metavar="YEAR",
        help="评估年度。默认：草案文件中的 year",
    )
    p.add_argument(
        "--as-of",
        type=cli_parser.parse_date,
        metavar="YYYY-MM-DD",
        help="按该日评估（只计该日或之前的导出）。默认：上次成功发布的运行的评估日期",
    )
    p.add_argument(
        "--work",
        default=DEFAULT_WORK,
        metavar="FILE",
        help="工作数据库（只读取，不修改）。默认：%(default)s",
    )
    p.add_argument(
        "--rules-dir",
        metavar="DIR",
        help="正式规则所在的文件夹（<年度>.toml；没有时用程序自带的规则）。"
        "默认：上次成功发布的运行的原始数据文件夹旁的 rules/",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="写入 whatif_<年度>.xlsx 与 whatif_<年度>.html 的文件夹（不含个人信息）。"
        "默认：当前文件夹",
    )
    p.add_argument(
        "--wait",
        type=cli_parser.non_negative(float),
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help="另一次运行正在写工作数据库时最多等待的秒数。默认：%(default).0f",
    )


def cmd_whatif(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    from employment_eval.rules import load_rules_file
    from employment_eval.whatif import WhatIfError, run_whatif
    from employment_eval.whatif.console import render
    from employment_eval.whatif.files import write_files
    from employment_eval.whatif.run import draft_labels

    work = Path(args.work).expanduser().resolve()
    paths = [Path(d).expanduser().resolve() for d in args.drafts]
    for path in paths:
        if not path.is_file():
            raise failures.UsageError(f"--rules {path} 不存在或不是文件（应为一个草案规则文件）。")
    if args.rules_dir and not Path(args.rules_dir).expanduser().is_dir():
        raise failures.UsageError(f"--rules-dir {args.rules_dir} 不是一个文件夹。")
    rules_dir = Path(args.rules_dir).expanduser().resolve() if args.rules_dir else None
    out = Path(args.out or ".").expanduser().resolve()  # checked against the raw folders below
    drafts = [load_rules_file(path, args.year) for path in paths]
    year = args.year if args.year is not None else drafts[0].year
    others = [f"{p}（{d.year} 年度）" for p, d in zip(paths, drafts, strict=True) if d.year != year]
    if others:
        raise failures.UsageError(
            f"各草案须为同一年度：{drafts[0].year} 年度与 {'、'.join(others)} 不同。"
            "请分别试算，或用 --year 指定年度。"
        )
    try:
        result = run_whatif(
            work,
            drafts,
            year=year,
            as_of=args.as_of,
            rules_dir=rules_dir,
            wait_seconds=args.wait,
            on_wait=say,
            out_dir=out,
        )
    except WhatIfError as exc:
        say(f"what-if 未进行：{exc}")
        return exc.exit_code
    cmp = result.comparison
    header = [
        f"What-if 试算：{year} 年度，评估日期 {cmp.as_of}（{_status(cmp.official.status)}）",
        f"数据：工作数据库 {work} 中上次成功发布的运行读入的文件（{_run(result.run)}）；"
        "已发布的数据与工作数据库均未改动",
        f"正式规则：{result.official.path}（sha256 {result.official.sha256[:12]}）",
        *(
            f"{label}：{d.path}（sha256 {d.sha256[:12]}）"
            for label, d in zip(draft_labels(len(drafts)), drafts, strict=True)
        ),
        *result.published_notes,
    ]
    written = write_files(cmp, out, header[1:])  # first: the files do not depend on the console
    print(render(cmp, header))
    print("\n已写入：" + "、".join(str(p) for p in written))
    print(f"（用时 {time.perf_counter() - started:.1f} 秒）")
    return 0


def _run(run: ScoredRun) -> str:
    when = f"，运行于 {run.generated_at:%Y-%m-%d %H:%M}（北京时间）" if run.generated_at else ""
    return f"运行编号 {run.run_id}，评估日期 {run.as_of}{when}"


def _status(value: str) -> str:
    return "最终" if value == "final" else "暂定：尚有节点未到、登记表不完整或名额线并列未决"


COMMANDS = {
    "whatif": (
        "试算：按草案规则重算当前数据，逐单位与正式规则对比（只读，不发布）",
        add_whatif,
        cmd_whatif,
    ),
}
