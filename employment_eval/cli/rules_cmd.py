"""`employment-eval rules new` (a new year's rules file to edit) and `rules check` (validate
rules files: every problem at once, each with its key and line).

Exit codes of `rules check`: 0 every file valid; 1 a file is invalid (one paragraph per
problem); 2 bad usage (a file that does not exist or cannot be read)."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from employment_eval import failures, preflight
from employment_eval.cli import parser as cli_parser
from employment_eval.options import DEFAULT_RAW, default_rules_dir
from employment_eval.paths import PROJECT_ROOT, RULES_DIR
from employment_eval.rules import (
    RulesError,
    RulesSource,
    check_rules_file,
    load_rules,
    load_rules_file,
)
from employment_eval.rules_text import commented_text, for_year

PACKAGE_FOLDERS = (RULES_DIR.parent, PROJECT_ROOT / "employment_eval")


def add_rules_command(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="rules_command", required=True, title="子命令", metavar="<子命令>")
    new = sub.add_parser(
        "new",
        help="由上一年度的规则生成新年度的规则文件（带中文注释，供修改）",
        description="由某年度的正式规则生成新年度的规则文件：每节、每项设置都有中文注释，"
        "日期已移到新年度。不会覆盖已有文件。",
    )
    new.add_argument(
        "--year", type=cli_parser.parse_year, required=True, metavar="YEAR", help="新的评估年度"
    )
    new.add_argument(
        "--from",
        dest="from_year",
        type=cli_parser.parse_year,
        metavar="YEAR",
        help="复制哪一年度的正式规则。默认：早于 --year 的最近一个有规则文件的年度",
    )
    cli_parser.add_raw(new)
    cli_parser.add_rules(new)
    new.add_argument(
        "--out",
        metavar="FILE",
        help="写入的文件（不会覆盖已有文件）。默认：规则文件夹中的 <年度>.toml",
    )
    check = sub.add_parser(
        "check",
        help="检查规则文件：一次列出全部错误（含设置项与行号）",
        description="检查一个或多个规则文件，一次列出每个文件的全部错误，每条错误注明设置项"
        "与行号。退出码：0 全部有效；1 有文件无效；2 用法有误（文件不存在或无法读取）。",
    )
    check.add_argument("files", nargs="+", metavar="FILE", help="规则文件（<年度>.toml 或草案）")


def cmd_rules(args: argparse.Namespace) -> int:
    if args.rules_command == "new":
        return cmd_new(args)
    return cmd_check(args)


# --- new -----------------------------------------------------------------------------------------


def _inside_package(path: Path) -> bool:
    return any(path == f or path.is_relative_to(f) for f in PACKAGE_FOLDERS)


def cmd_new(args: argparse.Namespace) -> int:
    if args.rules and not Path(args.rules).expanduser().is_dir():
        raise failures.UsageError(
            f"--rules {args.rules} 不是一个文件夹（应为存放 <年度>.toml 的文件夹）。"
        )
    raw = Path(args.raw or DEFAULT_RAW).expanduser().resolve()
    rules_dir = Path(args.rules).expanduser().resolve() if args.rules else default_rules_dir(raw)
    source = RulesSource(rules_dir)
    from_year = args.from_year if args.from_year is not None else _previous_year(source, args.year)
    if from_year == args.year:
        raise failures.UsageError(
            f"--from 与 --year 都是 {args.year}：新年度的规则须由另一年度复制。"
        )
    out = Path(args.out).expanduser().resolve() if args.out else rules_dir / f"{args.year}.toml"
    if _inside_package(out):
        raise failures.UsageError(
            f"{out} 在程序自带的文件夹中：新规则文件应放在中心自己的规则文件夹（默认为原始数据"
            f"文件夹旁的 rules/，现为 {rules_dir}），以免升级程序时丢失。"
            "请换一个 --out 或 --rules。"
        )
    if out.exists():
        raise failures.UsageError(
            f"{out} 已存在，未覆盖（以免覆盖已修改的规则）。请换一个 --out，或先移走原文件。"
        )
    if out.suffix != ".toml":
        raise failures.UsageError(f"--out {out} 须以 .toml 结尾。")
    if args.out:
        preflight.check_outside_raw("--out", out, [raw, *preflight.raw_folders_holding(out)])
    else:
        raws = [raw, *preflight.raw_folders_holding(rules_dir)]
        preflight.check_outside_raw("--rules", rules_dir, raws)
    preflight.check_writable_folder(out.parent, "规则文件夹")
    old = source.load(from_year)
    new = for_year(old, args.year)
    text = commented_text(new, old, f"employment-eval rules check {out}")
    _write_new(out, text)
    _read_back(out, args.year)
    official = out.name == f"{args.year}.toml"
    print(f"已生成 {args.year} 年度的规则文件：{out}")
    print(f"（由 {from_year} 年度规则 {old.path} 复制，日期已移到 {args.year} 年。）")
    print("请按新年度的评估办法修改目标、分值、名额与口径设置，核对文号，然后检查：")
    print(f"  employment-eval rules check {out}")
    if official:
        print(
            f"在 {args.year} 届的第一次导出放入原始数据文件夹之前，不带 --year 的运行仍评估"
            f"原来的年度；第一次导出放入之后，{args.year} 年度自动成为默认的评估年度。"
        )
    else:
        print(
            f"注意：只有规则文件夹中名为 {args.year}.toml 的文件才是正式规则；此文件可作草案试算："
        )
        print(f"  employment-eval whatif --rules {out}")
    return 0


def _previous_year(source: RulesSource, year: int) -> int:
    earlier = [y for y in source.years() if y < year]
    if not earlier:
        where = "、".join(str(f) for f in source.folders())
        raise failures.UsageError(
            f"找不到早于 {year} 年度的规则文件（在 {where} 中），请用 --from 指定复制哪一年度。"
        )
    return earlier[-1]


def _write_new(out: Path, text: str) -> None:
    """Write a new file atomically, never replacing one that appeared meanwhile."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.link(tmp, out)  # fails if `out` exists
    except FileExistsError:
        raise failures.UsageError(f"{out} 已存在，未覆盖。") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def _read_back(out: Path, year: int) -> None:
    if out.name == f"{year}.toml":
        load_rules(year, out.parent)
    else:
        load_rules_file(out, year)


# --- check ---------------------------------------------------------------------------------------


def _expected_year(path: Path) -> int | None:
    """A file named `<year>.toml` must be for that year; a draft says its own year."""
    return int(path.stem) if path.stem.isdigit() and len(path.stem) == 4 else None


def cmd_check(args: argparse.Namespace) -> int:
    invalid = unreadable = 0
    for name in args.files:
        path = Path(name).expanduser()
        if not path.is_file():
            print(f"[用法] {path} 不存在或不是文件。")
            unreadable += 1
            continue
        try:
            problems = check_rules_file(path, _expected_year(path))
        except RulesError as exc:
            print(f"[用法] {exc}")
            unreadable += 1
            continue
        if not problems:
            rules = load_rules_file(path, _expected_year(path))
            print(
                f"[有效] 规则文件 {path}：{rules.year} 年度，{len(rules.milestones)} 个时间节点。"
            )
            continue
        invalid += 1
        ordered = sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.key))
        print(f"[无效] 规则文件 {path}：{len(problems)} 处错误。")
        for problem in ordered:
            print(f"[错误] 规则文件 {path} {problem.render()}")
    checked = len(args.files)
    if unreadable:
        print(f"共 {checked} 个文件：{unreadable} 个无法读取，{invalid} 个无效。")
        return 2
    if invalid:
        print(f"共 {checked} 个文件：{invalid} 个无效，须改正后才能使用。")
        return 1
    print(f"共 {checked} 个文件，全部有效。")
    return 0


COMMANDS = {
    "rules": (
        "规则文件：new 生成新年度的规则，check 检查规则文件",
        add_rules_command,
        cmd_rules,
    ),
}
