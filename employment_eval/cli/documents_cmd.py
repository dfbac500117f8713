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

from employment_eval import failures, preflight
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
    from employment_eval import publish

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


# --- notice ----------------------------------------------------------------------------------


def add_notice(p: argparse.ArgumentParser) -> None:
    _add_marts(p)
    cli_parser.add_rules(p)
    p.add_argument(
        "--settings",
        metavar="FILE",
        help="通知与证书的设置文件。默认：规则文件夹中的 notice.toml，没有时用程序自带的",
    )
    p.add_argument(
        "--date",
        type=cli_parser.parse_date,
        metavar="YYYY-MM-DD",
        help="通知与证书的日期（公示期自该日起算），不得早于签发日期。默认：上海时间今天",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="写入通知（docx）与荣誉证书（pdf）的文件夹。默认：发布数据库旁的 notice_<年度>/",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="只检查设置文件（一次列出全部错误，注明设置项与行号），不生成文件",
    )


def _settings(args: argparse.Namespace, raw: Path):
    from employment_eval.notice.settings import load_settings, settings_path
    from employment_eval.options import default_rules_dir
    from employment_eval.rules import RulesError

    rules = Path(args.rules).expanduser().resolve() if args.rules else default_rules_dir(raw)
    path = Path(args.settings).expanduser().resolve() if args.settings else settings_path(rules)
    try:
        return load_settings(path)
    except RulesError as exc:
        raise failures.UsageError(str(exc).replace("规则文件", "通知设置文件", 1)) from None


def cmd_notice(args: argparse.Namespace) -> int:
    import os

    from employment_eval import fsmodes
    from employment_eval.notice.certificate import certificate_name, write_certificate
    from employment_eval.notice.data import read_notice_data
    from employment_eval.notice.word import write_notice
    from employment_eval.options import today_in_shanghai

    raw = Path(args.raw).expanduser().resolve()
    settings = _settings(args, raw)
    if args.check:
        print(f"通知设置文件有效：{settings.path}")
        return 0
    raw, marts, year, _as_of = _published(args)
    data = read_notice_data(marts, year)
    day = args.date or today_in_shanghai()
    if day < data.signature.signed_date:
        raise failures.UsageError(
            f"通知日期 {day} 早于签发日期 {data.signature.signed_date}：结果须在签发之后公布。"
        )
    out = _out(args, raw, marts, f"notice_{year}")
    fsmodes.public_dir(out)
    targets = [(out / f"评估结果通知_{year}.docx", lambda p: write_notice(data, settings, day, p))]
    targets += [
        (
            out / certificate_name(year, u),
            lambda p, u=u: write_certificate(data, settings, u, day, p),
        )
        for u in data.units
    ]
    written: list[tuple[Path, Path]] = []
    try:
        for path, write in targets:
            temp = path.with_name(f".{path.name}.writing")
            written.append((write(temp), path))
    except BaseException:
        for temp, _ in written:
            temp.unlink(missing_ok=True)
        for path, _ in targets[len(written) :]:
            path.with_name(f".{path.name}.writing").unlink(missing_ok=True)
        raise
    for temp, path in written:
        fsmodes.make_public(temp)
        os.replace(temp, path)
    print(
        f"已生成 {year} 年度评估结果通知与荣誉证书（{data.signature.line}，签发编号 "
        f"{data.signature.signature_id}）：{out}"
    )
    for _, path in written:
        print(f"  {path}")
    if settings.contact_unfilled:
        from employment_eval.notice.settings import BUNDLED, FILE_NAME
        from employment_eval.options import default_rules_dir

        where = settings.path
        if where == BUNDLED:
            rules = (
                Path(args.rules).expanduser().resolve() if args.rules else default_rules_dir(raw)
            )
            where = f"{rules / FILE_NAME}（把程序自带的 {BUNDLED} 复制过去）"
        print(f"提示：通知中的联系方式仍是示例（含 ××），请在 {where} 中填写后重新生成。")
    return 0


COMMANDS = {
    "selfcheck": ("评估第一阶段：为每个单位生成自评表（xlsx）", add_selfcheck, cmd_selfcheck),
    "notice": (
        "公布结果：已签发年度的评估结果通知（docx）与荣誉证书（pdf）",
        add_notice,
        cmd_notice,
    ),
}
