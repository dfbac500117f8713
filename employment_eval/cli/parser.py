"""The argument parser, in Chinese: every option has a help line with its default, and bad
usage is one Chinese paragraph with exit code 2 (argparse's own messages are translated)."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import unicodedata
from collections.abc import Callable
from typing import NoReturn

from employment_eval.options import (
    DEFAULT_KEEP_FOLLOWUP,
    DEFAULT_MARTS,
    DEFAULT_RAW,
    DEFAULT_WAIT_SECONDS,
    DEFAULT_WORK,
)

PROG = "employment-eval"

# argparse's messages (msgids of Python 3.11–3.13) → Chinese.
_MESSAGES = {
    "usage: ": "用法：",
    "options": "选项",
    "positional arguments": "位置参数",
    "subcommands": "命令",
    "show this help message and exit": "显示本帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "unrecognized arguments: %s": "不认识的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "无效的选项 %(value)r（可选：%(choices)s）"
    ),
    "invalid %(type)s value: %(value)r": "无效的值 %(value)r",
    "expected one argument": "需要一个值",
    "expected at least one argument": "至少需要一个值",
    "expected at most one argument": "最多一个值",
    "ambiguous option: %(option)s could match %(matches)s": (
        "选项 %(option)s 不明确，可能是 %(matches)s"
    ),
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "须给出参数 %s 之一",
    "ignored explicit argument %r": "多余的值 %r",
    " (default: %(default)s)": "（默认：%(default)s）",
    "%(heading)s:": "%(heading)s：",
}


def _translate(message: str) -> str:
    return _MESSAGES.get(message, message)


def _ntranslate(singular: str, plural: str, n: int) -> str:
    if singular == "expected %s argument":
        return "需要 %s 个值"
    return singular if n == 1 else plural


argparse._ = _translate  # type: ignore[attr-defined]  # argparse looks `_` up at call time
argparse.ngettext = _ntranslate  # type: ignore[attr-defined]


NO_LINE_START = "。，、；：！？）」』》"


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """Wrap by display width (a Chinese character takes two columns)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for ch in paragraph:
            if line and display_width(line + ch) > width and ch not in NO_LINE_START:
                lines.append(line.rstrip())
                line = "" if ch == " " else ch
            else:
                line += ch
        lines.append(line)
    return lines


class ChineseHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help lines wrapped by display width, so Chinese text keeps its column."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap(" ".join(text.split()), width)


class ChineseParser(argparse.ArgumentParser):
    """An ArgumentParser whose help and errors are Chinese."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("add_help", False)
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        super().__init__(*args, **kwargs)
        self.add_argument("-h", "--help", action="help", help="显示本帮助并退出")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"用法有误：{message}。运行「{self.prog} --help」查看每个选项的说明。\n")


# --- value types ---------------------------------------------------------------------------

_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_date(text: str) -> dt.date:
    """YYYY-MM-DD only (no ISO week dates, no times); an impossible date says why."""
    match = _DATE.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"「{text}」不是 YYYY-MM-DD 格式的日期（例如 2021-12-20）")
    year, month, day = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        raise argparse.ArgumentTypeError(f"日期「{text}」不存在：月份须在 1–12 之间")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"日期「{text}」不存在：{year} 年 {month} 月没有 {day} 日"
        ) from None


def parse_year(text: str) -> int:
    if not re.fullmatch(r"\d{4}", text.strip()):
        raise argparse.ArgumentTypeError(f"「{text}」不是四位数的年度（例如 2021）")
    return int(text)


def positive(kind: type) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"「{text}」不是数字") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"须为正数：{text}")
        return value

    return parse


def non_negative(kind: type) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"「{text}」不是数字") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"不能为负数：{text}")
        return value

    return parse


# --- shared options ------------------------------------------------------------------------


def add_raw(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--raw",
        default=DEFAULT_RAW,
        metavar="DIR",
        help="原始数据文件夹（只读，含 registrations/ 等子文件夹）。默认：%(default)s",
    )


def add_rules(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--rules",
        metavar="DIR",
        help="中心自己的规则文件夹（<年度>.toml）；某年度没有时用程序自带的规则文件。"
        "默认：原始数据文件夹旁的 rules/",
    )


def add_year_as_of(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--year",
        type=parse_year,
        metavar="YEAR",
        help="评估年度。默认：有规则文件的最近年度",
    )
    p.add_argument(
        "--as-of",
        type=parse_date,
        metavar="YYYY-MM-DD",
        help="按该日评估（YYYY-MM-DD），晚于该日的导出不计入，可重放过去某晚。默认：上海时间今天",
    )


def add_run_options(p: argparse.ArgumentParser) -> None:
    add_raw(p)
    p.add_argument(
        "--marts",
        default=DEFAULT_MARTS,
        metavar="FILE",
        help="发布的数据库文件（供分析人员只读查询，不含个人信息）。默认：%(default)s",
    )
    p.add_argument(
        "--work",
        default=DEFAULT_WORK,
        metavar="FILE",
        help="工作数据库（含个人信息，仅限本机；其文件夹另存报告与跟进名单）。默认：%(default)s",
    )
    add_rules(p)
    add_year_as_of(p)
    p.add_argument(
        "--allow-older",
        action="store_true",
        help="允许以早于已发布数据的评估日期发布（重放过去某晚时使用）。默认：不允许",
    )
    p.add_argument(
        "--wait",
        type=non_negative(float),
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help="另一次运行正在使用同一数据库时最多等待的秒数。默认：%(default).0f",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="即使输入、评估规则与程序都未变，也重新计算并发布。默认：未变时不做任何事",
    )
    p.add_argument(
        "--data-docs",
        action="store_true",
        help="即使全部质量检查通过，也在运行报告中生成检查结果网页。默认：只在有检查未通过时生成",
    )
    p.add_argument(
        "--keep-followup",
        type=positive(int),
        default=DEFAULT_KEEP_FOLLOWUP,
        metavar="N",
        help="工作文件夹中保留最近 N 晚的各单位文件夹（进度单与跟进名单）。默认：%(default)s",
    )


def build_parser(commands: dict[str, Callable[[argparse.ArgumentParser], None]]) -> ChineseParser:
    """The parser with one sub-parser per command; `commands` maps a name to a function that
    adds the command's options (each command module owns its options)."""
    p = ChineseParser(
        prog=PROG,
        description="上海交通大学医学院毕业生就业工作评估数据管道。\n"
        "退出码：0 完成；1 运行失败（未发布任何结果，原因见提示）；2 用法或配置有误（未运行）。",
    )
    sub = p.add_subparsers(dest="command", required=True, title="命令", metavar="<命令>")
    for name, (help_text, add_options) in commands.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        add_options(sp)
    return p
