"""The `employment-eval` command line. Exit codes: 0 done; 1 the run failed (nothing
published, reasons in Chinese); 2 bad usage or configuration found before anything ran.

Each command module contributes (help line, add_options, command) entries to `COMMANDS`."""

from __future__ import annotations

import argparse
from pathlib import Path

from employment_eval import fsmodes
from employment_eval.cli import (
    commands,
    documents_cmd,
    rules_cmd,
    service,
    sign_cmd,
    whatif_cmd,
)
from employment_eval.cli.outcome import explain, say
from employment_eval.cli.parser import build_parser

COMMANDS = {
    **commands.COMMANDS,
    **rules_cmd.COMMANDS,
    **whatif_cmd.COMMANDS,
    **sign_cmd.COMMANDS,
    **documents_cmd.COMMANDS,
    **service.COMMANDS,
}


def _crash_dir(args: argparse.Namespace | None) -> Path | None:
    work = getattr(args, "work", None) if args is not None else None
    return Path(work).expanduser().resolve().parent / "logs" if work else None


def main(argv: list[str] | None = None) -> int:
    fsmodes.private_by_default()  # the working area's files are private (published: see fsmodes)
    parser = build_parser({name: (help_, add) for name, (help_, add, _) in COMMANDS.items()})
    args = parser.parse_args(argv)  # bad usage exits 2 with a Chinese paragraph
    try:
        return COMMANDS[args.command][2](args)
    except KeyboardInterrupt:
        say("已中断：本次未发布任何结果，已发布的数据保持不变。")
        return 130
    except Exception as exc:
        text, code = explain(exc, _crash_dir(args))
        say(text)
        return code
