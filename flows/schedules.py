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
import logging
import os
import signal
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
    """Bind the paths, register both deployments and run them on schedule (blocks until
    SIGTERM or Ctrl-C, which stop it cleanly: the deployments are paused, one Chinese line)."""
    os.environ[served.ENVIRONMENT] = bound.to_environment()  # inherited by the runs' processes
    os.chdir(PROJECT_ROOT)  # the served runs import the flows from the repository
    logging.getLogger("prefect.runner").setLevel(logging.WARNING)  # its English progress lines
    signal.signal(signal.SIGTERM, _stop)  # until the runner's loop takes over (_runner)
    try:
        runner = _runner()
        for d in deployments():
            runner.add_flow(
                d.flow,
                name=d.name,
                schedule=Cron(d.cron, timezone=TIMEZONE),
                description=d.description,
                tags=["employment-eval"],
            )
        asyncio.run(runner.start())
    except BaseException as exc:  # a stop may arrive wrapped in the runner's task groups
        if not _is_stop(exc):
            raise
        print("定时运行已停止。", flush=True)
        return
    print("定时运行已停止（两个定时任务已在服务器上暂停，再次运行 serve 即恢复）。", flush=True)


class _Stop(BaseException):
    """SIGTERM before the runner had started its loops."""


def _stop(*args: object) -> None:
    raise _Stop


def _runner():
    """Prefect's Runner, stopped on SIGTERM from inside its event loop (Prefect 3.8's own
    handler calls the async `stop` without awaiting it, then exits mid-await)."""
    from prefect.runner import Runner

    class _Runner(Runner):
        def handle_sigterm(self, *args: object, **kwargs: object) -> None:
            loop = getattr(self, "_loop", None)
            if not self.started or loop is None:
                raise _Stop
            loop.call_soon_threadsafe(lambda: loop.create_task(self.astop()))

    return _Runner(name="employment-eval", pause_on_shutdown=True)


def _is_stop(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_stop(e) for e in exc.exceptions)
    if isinstance(exc, SystemExit):
        return not exc.code
    return isinstance(exc, (KeyboardInterrupt, TerminationSignal, _Stop))


def main(argv: list[str] | None = None) -> int:
    """`python -m flows.schedules …` = `employment-eval serve …`."""
    from employment_eval.cli import main as cli_main

    return cli_main(["serve", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
