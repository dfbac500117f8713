"""Scheduled deployments, served from one long-running process on the centre's machine:

- `nightly`: the nightly refresh at 02:00 Asia/Shanghai, every day from June to December;
- `year-end`: the year-end scoreboard at 09:00 Asia/Shanghai on 20 December.

    employment-eval server                    # terminal 1 (or a systemd service)
    export PREFECT_API_URL=http://127.0.0.1:4200/api
    employment-eval serve --raw /data/raw --marts /data/marts/employment.duckdb \\
        --work /data/work/warehouse.duckdb   # terminal 2: registers both and runs them on time

The deployments run the flows of flows/served.py: the paths are bound here, at the start, and
are not parameters (a run may set only `as_of` and `force`). The runner holds the flow objects
themselves and runs them in a subprocess of this process, so a run never loads code from the
entrypoint recorded on the Prefect server either."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from dataclasses import dataclass

from prefect import Flow
from prefect.exceptions import TerminationSignal
from prefect.schedules import Cron

from employment_eval.paths import PROJECT_ROOT
from flows import served
from flows.served import Bound

TIMEZONE = "Asia/Shanghai"  # a bare cron string would be read as UTC
NIGHTLY_CRON = "0 2 * 6-12 *"  # 02:00 every day, June to December
YEAR_END_CRON = "0 9 20 12 *"  # 09:00 on 20 December


@dataclass(frozen=True)
class Deployment:
    flow: Flow
    name: str
    cron: str
    description: str


def deployments() -> list[Deployment]:
    """The two deployments (the paths are bound by `serve`, not held by them)."""
    return [
        Deployment(
            served.served_nightly,
            "nightly",
            NIGHTLY_CRON,
            "夜间刷新：每年 6–12 月每天 02:00（上海时间）",
        ),
        Deployment(
            served.served_year_end,
            "year-end",
            YEAR_END_CRON,
            "年终记分板：每年 12 月 20 日 09:00（上海时间）",
        ),
    ]


def serve(bound: Bound) -> None:
    """Bind the paths, register both deployments and run them on schedule (blocks)."""
    from prefect.runner import Runner

    os.environ[served.ENVIRONMENT] = bound.to_environment()  # inherited by the runs' processes
    os.chdir(PROJECT_ROOT)  # the served runs import the flows from the repository
    runner = Runner(name="employment-eval", pause_on_shutdown=True)
    for d in deployments():
        runner.add_flow(
            d.flow,
            name=d.name,
            schedule=Cron(d.cron, timezone=TIMEZONE),
            description=d.description,
            tags=["employment-eval"],
        )
    with contextlib.suppress(KeyboardInterrupt, TerminationSignal):  # stopped: not an error
        asyncio.run(runner.start())


def main(argv: list[str] | None = None) -> int:
    """`python -m flows.schedules …` = `employment-eval serve …`."""
    from employment_eval.cli import main as cli_main

    return cli_main(["serve", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
