"""`employment-eval sign` and `unsign`: a year's published results recorded as signed (and the
signature withdrawn), in the working database and the published file, under the run's locks.
Neither starts Prefect nor rebuilds (signing/record.py).

Exit codes: 0 done; 1 refused because the year's results cannot be signed now (provisional,
an undecided tie at a quota line, a published file the working database did not publish) or a
lock or database problem; 2 bad usage found before anything was written (options, a year
already signed or not signed, a year not in the published file, a name or reason that cannot
be published)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from employment_eval import failures, fsmodes, locks, preflight
from employment_eval.cli import parser as cli_parser
from employment_eval.cli.outcome import say
from employment_eval.options import DEFAULT_MARTS, DEFAULT_WAIT_SECONDS, DEFAULT_WORK


def _add_common(p: argparse.ArgumentParser, who: str) -> None:
    cli_parser.add_raw(p)
    p.add_argument(
        "--marts",
        default=DEFAULT_MARTS,
        metavar="FILE",
        help="发布的数据库文件。默认：%(default)s",
    )
    p.add_argument(
        "--work",
        default=DEFAULT_WORK,
        metavar="FILE",
        help="工作数据库（签发记录存放于此）。默认：%(default)s",
    )
    cli_parser.add_rules(p)
    p.add_argument(
        "--year", type=cli_parser.parse_year, required=True, metavar="YEAR", help="评估年度（必填）"
    )
    p.add_argument(
        "--by",
        required=True,
        metavar="NAME",
        help=f"{who}（必填；会公开发布，可写职务，如「分管副院长」）",
    )
    p.add_argument(
        "--date",
        type=cli_parser.parse_date,
        metavar="YYYY-MM-DD",
        help="日期（YYYY-MM-DD）。默认：上海时间今天",
    )
    p.add_argument(
        "--wait",
        type=cli_parser.non_negative(float),
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help="另一次运行正在使用同一数据库时最多等待的秒数。默认：%(default).0f",
    )


def add_sign(p: argparse.ArgumentParser) -> None:
    _add_common(p, "签发人")


def add_unsign(p: argparse.ArgumentParser) -> None:
    _add_common(p, "撤销签发的人")
    p.add_argument(
        "--reason", required=True, metavar="TEXT", help="撤销签发的理由（必填，会公开发布）"
    )


def _paths(args: argparse.Namespace) -> tuple[Path, Path, Path]:
    raw = Path(args.raw).expanduser().resolve()
    marts = Path(args.marts).expanduser().resolve()
    work = Path(args.work).expanduser().resolve()
    preflight.check_paths(raw, marts, work)
    if not marts.is_file():
        raise failures.UsageError(
            f"发布数据库 {marts} 不存在：请先运行 employment-eval scoreboard 生成年终结果。"
        )
    if not work.is_file():
        raise failures.UsageError(
            f"工作数据库 {work} 不存在：签发只能针对由本工作数据库发布的结果。"
        )
    return raw, marts, work


def _date(args: argparse.Namespace) -> dt.date:
    from employment_eval.options import today_in_shanghai

    today = today_in_shanghai()
    if args.date is not None and args.date > today:
        raise failures.UsageError(f"--date {args.date} 晚于今天（{today}）：不能预先签发。")
    return args.date or today


def _rewrite_year_end(marts: Path, year: int) -> list[Path]:
    """The year's year-end files beside the published file, so that they say whether it is
    signed (those of --out elsewhere: run `scoreboard` again)."""
    from employment_eval.render.yearend import read_year_end, write_files

    return write_files(read_year_end(marts, year), marts.parent)


def cmd_sign(args: argparse.Namespace) -> int:
    from employment_eval.signing import record

    raw, marts, work = _paths(args)
    on = _date(args)
    rules = _rules_path(args, raw)
    fsmodes.public_dir(marts.parent)
    with locks.hold(work, args.wait, say), locks.hold(marts, args.wait, say):
        from employment_eval import warehouse

        con = warehouse.open_work(work)
        try:
            done = record.sign(con, marts, args.year, args.by, on)
            changed = record.changes_since(con, raw, rules, args.year)
        finally:
            con.close()
        written = _rewrite_year_end(marts, args.year)
    print(
        f"{args.year} 年度已审定签发（签发人 {args.by.strip()}，日期 {on}），签发编号 "
        f"{done.signature_id}：运行 {done.run_id} 发布的 {done.signed_rows} 行结果、"
        f"{done.input_files} 个输入文件及规则文件已记录。此后任何运行都不会改变 {args.year} "
        "年度已发布的结果。"
    )
    print(f"发布数据库已更新：{marts}（sha256 {done.marts_sha256[:12]}）")
    for path in written:
        print(f"  {path}")
    if changed:
        say(
            "注意：签发的是已发布的结果；以下文件与计算这些结果时不同，此后的运行会就其中属于 "
            f"{args.year} 年度的给出警告（结果不变）："
        )
        for note in changed:
            say(f"  {note}")
    return 0


def _rules_path(args: argparse.Namespace, raw: Path) -> Path | None:
    from employment_eval.options import default_rules_dir
    from employment_eval.rules import RulesSource

    folder = Path(args.rules).expanduser().resolve() if args.rules else default_rules_dir(raw)
    return RulesSource(folder).path_for(args.year)


def cmd_unsign(args: argparse.Namespace) -> int:
    from employment_eval.signing import record

    _raw, marts, work = _paths(args)
    on = _date(args)
    with locks.hold(work, args.wait, say), locks.hold(marts, args.wait, say):
        from employment_eval import warehouse

        con = warehouse.open_work(work)
        try:
            done = record.unsign(con, marts, args.year, args.by, args.reason, on)
        finally:
            con.close()
        written = _rewrite_year_end(marts, args.year)
    print(
        f"已撤销 {args.year} 年度的签发（签发编号 {done.signature_id}），撤销人与理由已记录。"
        f"下一次运行将按届时的输入文件与规则重新计算 {args.year} 年度。"
    )
    for path in written:
        print(f"  {path}")
    return 0


COMMANDS = {
    "sign": ("审定签发某年度的最终结果：此后任何运行都不再改变该年度", add_sign, cmd_sign),
    "unsign": ("撤销某年度的签发（须写明理由，记录在案）", add_unsign, cmd_unsign),
}
