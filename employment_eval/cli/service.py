"""The long-running commands behind the scheduled runs (systemd units in docs/使用说明.md):
`server` runs the Prefect server with the product's settings — its API always behind the
password kept in the working folder (prefect_auth.py), on the loopback address unless
`--allow-remote` — and `serve` registers the two deployments (nightly refresh, year-end
scoreboard) with the paths bound at its start (flows/served.py) and runs them on schedule."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from employment_eval import failures, fsmodes, prefect_auth, prefect_env, preflight
from employment_eval.cli import parser as cli_parser
from employment_eval.options import DEFAULT_KEEP_FOLLOWUP, DEFAULT_WORK, RunOptions


def add_server(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--host", default="127.0.0.1", metavar="HOST",
        help="监听地址（只在本机访问时保持默认）。默认：%(default)s",
    )  # fmt: skip
    p.add_argument(
        "--port", type=cli_parser.positive(int), default=4200, metavar="PORT",
        help="监听端口；PREFECT_API_URL 为 http://<地址>:<端口>/api。默认：%(default)s",
    )  # fmt: skip
    p.add_argument(
        "--allow-remote", action="store_true",
        help="允许在非本机回环地址（如 0.0.0.0）上监听，让其他计算机访问。访问仍需口令，"
        "但通信不加密（明文 HTTP）。默认：不允许",
    )  # fmt: skip
    p.add_argument(
        "--work",
        default=DEFAULT_WORK,
        metavar="FILE",
        help="工作数据库；Prefect 的数据存放在其文件夹的 prefect/ 中，服务器的口令在其文件夹的 "
        f"{prefect_auth.SECRET_FILE} 中（仅本账户可读）。默认：%(default)s",
    )


def cmd_server(args: argparse.Namespace) -> int:
    """Replace this process by `prefect server start` (so systemd supervises the server), its
    API behind the working folder's secret."""
    warning = prefect_auth.check_host(args.host, args.allow_remote)
    work_dir = Path(args.work).expanduser().resolve().parent
    preflight.check_writable_folder(work_dir, "工作文件夹")
    fsmodes.private_by_default()
    fsmodes.private_dir(work_dir)
    secret = prefect_auth.ensure_secret(work_dir)
    prefect_env.configure(work_dir)
    os.environ[prefect_auth.SERVER_VARIABLE] = secret
    os.environ[prefect_auth.CLIENT_VARIABLE] = secret  # the server's own client calls
    command = [
        sys.executable, "-m", "prefect", "server", "start",
        "--host", args.host, "--port", str(args.port), "--analytics-off",
    ]  # fmt: skip
    print(
        f"Prefect 服务器：http://{args.host}:{args.port}/api（数据：{os.environ['PREFECT_HOME']}）"
    )
    print(
        f"访问需要口令：口令在 {prefect_auth.secret_path(work_dir)}（仅本账户可读）；"
        "本程序的命令（serve、run、scoreboard）用相同的 --work 时自动读取，其他客户端"
        "（如 prefect 命令）须把环境变量 PREFECT_API_AUTH_STRING 设为该文件的内容。"
    )
    if warning:
        print(warning)
    sys.stdout.flush()
    os.execve(sys.executable, command, os.environ.copy())
    return 0  # not reached


def add_serve(p: argparse.ArgumentParser) -> None:
    cli_parser.add_raw(p)
    p.add_argument(
        "--marts", default="data/marts/employment.duckdb", metavar="FILE",
        help="发布的数据库文件。默认：%(default)s",
    )  # fmt: skip
    p.add_argument(
        "--work", default=DEFAULT_WORK, metavar="FILE",
        help="工作数据库（含个人信息）。默认：%(default)s",
    )  # fmt: skip
    cli_parser.add_rules(p)
    p.add_argument(
        "--out", metavar="DIR", help="年终文件的输出文件夹。默认：发布数据库所在的文件夹"
    )
    p.add_argument(
        "--keep-followup",
        type=cli_parser.positive(int),
        default=DEFAULT_KEEP_FOLLOWUP,
        metavar="N",
        help="工作文件夹中保留最近 N 晚的各单位文件夹（进度单与跟进名单）。默认：%(default)s",
    )


def cmd_serve(args: argparse.Namespace) -> int:
    if prefect_env.api_url() is None:
        raise failures.UsageError(
            "定时运行需要常驻的 Prefect 服务器：请先运行 employment-eval server，"
            "并设置环境变量 PREFECT_API_URL=http://127.0.0.1:4200/api。"
        )
    opts = RunOptions.resolve(args.raw, args.marts, args.work, rules=args.rules)
    out = Path(args.out).expanduser().resolve() if args.out else None
    preflight.check_paths(opts.raw_dir, opts.marts_path, opts.work_path, out)
    fsmodes.public_dir(opts.marts_path.parent)
    prefect_env.configure(opts.work_dir)
    prefect_env.check_server()
    from flows.schedules import serve
    from flows.served import Bound

    bound = Bound(
        raw_dir=opts.raw_dir,
        marts_path=opts.marts_path,
        work_path=opts.work_path,
        rules_dir=opts.rules_dir,
        out_dir=out or opts.marts_path.parent,
        keep_followup=args.keep_followup,
    )
    print(
        "已注册定时运行：夜间刷新（6–12 月每天 02:00）与年终记分板（12 月 20 日 09:00），上海时间。"
        "各文件位置已在此确定，通过 Prefect 接口只能指定评估日期（as_of）和是否强制重算（force）。"
    )
    sys.stdout.flush()
    serve(bound)
    return 0


COMMANDS = {
    "server": ("启动 Prefect 服务器（供定时运行；可作为 systemd 服务）", add_server, cmd_server),
    "serve": (
        "注册并执行定时运行：夜间刷新与年终记分板（可作为 systemd 服务）",
        add_serve,
        cmd_serve,
    ),
}
