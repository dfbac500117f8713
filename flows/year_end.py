"""The year-end flow: a nightly refresh (as a subflow), then the scoreboard files of
OUTPUTS.md — scoreboard_<year>.xlsx, scoreboard_<year>.csv, report_<year>.html — written into
the output folder from the published marts file alone (opened read-only)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from employment_eval.options import RunOptions
from employment_eval.yearend import read_year_end, write_files
from flows.nightly_refresh import nightly_refresh


@task(name="write_year_end_files", cache_policy=NO_CACHE)
def write_year_end_files(marts_path: Path, year: int, out_dir: Path) -> list[str]:
    ye = read_year_end(marts_path, year)
    paths = write_files(ye, out_dir)
    logger = get_run_logger()
    logger.info("年终文件（%s）：%s", ye.status_name, "，".join(str(p) for p in paths))
    if not ye.is_final:
        logger.warning("记分板为暂定：文件标题与报告中均已注明「暂定」")
    return [str(p) for p in paths]


@flow(name="year_end_scoreboard", log_prints=True)
def year_end_scoreboard(
    raw_dir: str = "data/raw",
    marts_path: str = "data/marts/employment.duckdb",
    work_path: str = "data/work/warehouse.duckdb",
    year: int | None = None,
    as_of: dt.date | None = None,
    out_dir: str | None = None,
) -> list[str]:
    """Refresh the marts, then write the year's scoreboard files into out_dir (default: the
    folder of the marts file). Returns the paths written."""
    opts = RunOptions.resolve(raw_dir, marts_path, work_path, year, as_of)
    nightly_refresh(
        str(opts.raw_dir), str(opts.marts_path), str(opts.work_path), opts.year, opts.as_of
    )
    out = Path(out_dir).expanduser().resolve() if out_dir else opts.marts_path.parent
    return write_year_end_files(opts.marts_path, opts.year, out)
