"""`employment-eval selfcheck` (stage 1: a self-check pack per unit) and `notice` (stage 3:
the notice of results and the certificates of the advanced units). Both read the published
marts file only (read-only): no lock, no Prefect, nothing recomputed.

Exit codes: 0 written; 1 a file could not be written (disk, a text too long for Excel, a
missing Chinese font for the certificates); 2 bad usage found before anything was written
(options, no published file, the year not in it, --as-of not the published date, a year not
signed, a bad notice.toml)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from employment_eval import failures, preflight, publish
from employment_eval.cli import parser as cli_parser
from employment_eval.options import DEFAULT_MARTS, DEFAULT_RAW


def _add_marts(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--raw",
        default=DEFAULT_RAW,
        metavar="DIR",
        help="原始数据文件夹（只用于确认输出不写入其中）。默认：%(default)s",
    )
    p.add_argument(
        "--marts",
        default=DEFAULT_MARTS,
        metavar="FILE",
        help="发布的数据库文件（只读取）。默认：%(default)s",
    )
    p.add_argument(
        "--year",
        type=cli_parser.parse_year,
        metavar="YEAR",
        help="评估年度。默认：发布数据库所描述的年度",
    )


def _published(args: argparse.Namespace) -> tuple[Path, Path, int, dt.date]:
    raw = Path(args.raw).expanduser().resolve()
    marts = Path(args.marts).expanduser().resolve()
    if not marts.is_file():
        raise failures.UsageError(
            f"发布数据库 {marts} 不存在：请先运行 employment-eval run（或 scoreboard）。"
        )
    con = publish.open_published(marts)
    try:
        row = con.execute("select year, as_of_date from marts.run_info limit 1").fetchone()
        years = {r[0] for r in con.execute("select distinct year from marts.scoreboard").fetchall()}
    finally:
        con.close()
    year = args.year if args.year is not None else row[0]
    if year not in years:
        held = "、".join(str(y) for y in sorted(years)) or "无"
        raise failures.UsageError(
            f"发布数据库中没有 {year} 年度的结果（现有：{held}）。请用 --year 选择一个年度。"
        )
    return raw, marts, year, row[1]


def _out(args: argparse.Namespace, raw: Path, marts: Path, default: str) -> Path:
    out = Path(args.out).expanduser().resolve() if args.out else marts.parent / default
    if out == raw or out.is_relative_to(raw):
        raise failures.UsageError(
            f"--out {out} 位于原始数据文件夹 {raw} 之内；原始数据文件夹只读，请改到其他位置。"
        )
    if out.exists() and not out.is_dir():
        raise failures.UsageError(f"--out {out} 是一个文件；--out 应为输出文件夹。")
    preflight.check_writable_folder(out, "输出文件夹")
    return out


# --- selfcheck -------------------------------------------------------------------------------


def add_selfcheck(p: argparse.ArgumentParser) -> None:
    _add_marts(p)
    p.add_argument(
        "--as-of",
        type=cli_parser.parse_date,
        metavar="YYYY-MM-DD",
        help="自评表所依据的数据日期，须与发布数据库的评估日期相同（防止用旧数据发出）。"
        "默认：发布数据库的评估日期",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="写入各单位自评表的文件夹（不含个人信息，可发给各单位）。"
        "默认：发布数据库旁的 selfcheck_<年度>/",
    )


def cmd_selfcheck(args: argparse.Namespace) -> int:
    from employment_eval.selfcheck.packs import read_packs, write_packs

    raw, marts, year, published_as_of = _published(args)
    if args.as_of is not None and args.as_of != published_as_of:
        raise failures.UsageError(
            f"发布数据库的评估日期是 {published_as_of}，不是 --as-of {args.as_of}：自评表只从"
            f"已发布的数据生成。请先运行 employment-eval run --as-of {args.as_of}，再生成自评表。"
        )
    out = _out(args, raw, marts, f"selfcheck_{year}")
    packs = read_packs(marts, year)
    paths = write_packs(packs, out)
    status = "最终" if packs.status == "final" else "暂定"
    print(
        f"已生成 {year} 年度各单位自评表 {len(paths)} 份（数据截至 {packs.as_of}，{status}）：{out}"
    )
    print(
        "请把每个单位的文件发给该单位；交回的文件不要改名，放入原始数据文件夹的 selfcheck/ 中，"
        "下一次运行即读取并检查。"
    )
    return 0


COMMANDS = {
    "selfcheck": ("评估第一阶段：为每个单位生成自评表（xlsx）", add_selfcheck, cmd_selfcheck),
}
