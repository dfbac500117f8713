"""Scheduled deployments, served from one long-running process on the centre's machine:

- `nightly`: the nightly refresh at 02:00 Asia/Shanghai, every day from June to December;
- `year-end`: the year-end scoreboard at 09:00 Asia/Shanghai on 20 December.

    employment-eval server                    # terminal 1 (or a systemd service)
    export PREFECT_API_URL=http://127.0.0.1:4200/api
    employment-eval serve --raw /data/raw --marts /data/marts/employment.duckdb \\
        --work /data/work/warehouse.duckdb   # terminal 2: registers both and runs them on time
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from prefect.schedules import Cron

from employment_eval.paths import PROJECT_ROOT

TIMEZONE = "Asia/Shanghai"  # a bare cron string would be read as UTC
NIGHTLY_CRON = "0 2 * 6-12 *"  # 02:00 every day, June to December
YEAR_END_CRON = "0 9 20 12 *"  # 09:00 on 20 December


def deployments(
    raw: Path,
    marts: Path,
    work: Path,
    out: Path | None = None,
    rules: Path | None = None,
    keep_followup: int | None = None,
) -> list:
    """The two deployments with absolute paths as parameters (`as_of` left to the run's date)."""
    from flows.nightly_refresh import nightly_refresh
    from flows.year_end import year_end_scoreboard

    paths = {"raw_dir": str(raw), "marts_path": str(marts), "work_path": str(work)}
    if rules is not None:
        paths["rules_dir"] = str(rules)
    if keep_followup is not None:
        paths["keep_followup"] = keep_followup
    nightly = nightly_refresh.to_deployment(
        name="nightly",
        schedule=Cron(NIGHTLY_CRON, timezone=TIMEZONE),
        parameters=paths,
        description="夜间刷新：每年 6–12 月每天 02:00（上海时间）",
        tags=["employment-eval"],
    )
    year_end = year_end_scoreboard.to_deployment(
        name="year-end",
        schedule=Cron(YEAR_END_CRON, timezone=TIMEZONE),
        parameters={**paths, "out_dir": str(out or marts.parent)},
        description="年终记分板：每年 12 月 20 日 09:00（上海时间）",
        tags=["employment-eval"],
    )
    return [nightly, year_end]


def serve(
    raw: Path,
    marts: Path,
    work: Path,
    out: Path | None = None,
    rules: Path | None = None,
    keep_followup: int | None = None,
) -> None:
    """Register both deployments and run them on schedule (blocks)."""
    from prefect import serve as prefect_serve

    os.chdir(PROJECT_ROOT)  # the served runs load the flows from the repository
    prefect_serve(*deployments(raw, marts, work, out, rules, keep_followup))


def main(argv: list[str] | None = None) -> int:
    """`python -m flows.schedules …` = `employment-eval serve …`."""
    from employment_eval.cli import main as cli_main

    return cli_main(["serve", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
