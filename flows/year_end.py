"""The year-end flow: a nightly refresh (as a subflow), then the scoreboard files of the year —
scoreboard_<year>.xlsx, scoreboard_<year>.csv, report_<year>.html — written into the output
folder from the published marts file alone (opened read-only), under the run's locks."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from employment_eval import failures, fsmodes, locks, preflight, publish
from employment_eval.options import DEFAULT_KEEP_FOLLOWUP, DEFAULT_WAIT_SECONDS, RunOptions
from employment_eval.render.yearend import WRITERS, read_year_end, write_files
from flows.nightly_refresh import nightly_refresh


@task(name="write_year_end_files", cache_policy=NO_CACHE, persist_result=False)
def write_year_end_files(opts: RunOptions, out_dir: Path) -> list[str]:
    with failures.guarded(opts.run_id, opts.work_dir / "reports" / opts.run_id):
        ye = read_year_end(opts.marts_path, opts.year)
        paths = write_files(ye, out_dir)
        for path in paths:
            fsmodes.make_public(path)
    logger = get_run_logger()
    logger.info("年终文件（%s）：%s", ye.status_name, "，".join(str(p) for p in paths))
    if not ye.is_final:
        logger.warning("记分板为暂定：文件标题与报告中均已注明「暂定」")
    return [str(p) for p in paths]


@flow(name="year_end_scoreboard", persist_result=False)
def year_end_scoreboard(
    raw_dir: str = "data/raw",
    marts_path: str = "data/marts/employment.duckdb",
    work_path: str = "data/work/warehouse.duckdb",
    year: int | None = None,
    as_of: dt.date | None = None,
    out_dir: str | None = None,
    rules_dir: str | None = None,
    allow_older: bool = False,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    run_id: str | None = None,
    keep_followup: int = DEFAULT_KEEP_FOLLOWUP,
    force: bool = False,
    data_docs: bool = False,
) -> list[str]:
    """Refresh the marts, then write the year's scoreboard files into out_dir (default: the
    folder of the marts file). Returns the paths written."""
    parameters = dict(locals())  # the flow's parameters, as given
    parameters.pop("out_dir")
    opts = RunOptions.from_flow_parameters(**parameters)
    fsmodes.private_by_default()
    out = Path(out_dir).expanduser().resolve() if out_dir else opts.marts_path.parent
    preflight.check_paths(opts.raw_dir, opts.marts_path, opts.work_path, out)
    fsmodes.public_dir(opts.marts_path.parent)
    fsmodes.public_dir(out)
    with (
        locks.hold(opts.work_path, opts.wait_seconds),
        locks.hold(opts.marts_path, opts.wait_seconds),
    ):
        nightly_refresh(**opts.flow_parameters())
        opts = replace(opts, year=publish.published_year(opts.marts_path))  # settled by the run
        try:
            return write_year_end_files(opts, out)
        except failures.RunFailed as exc:  # the marts are published: said, exit code 3
            kept = [out / name.format(year=opts.year) for name, _ in WRITERS]
            kept = [p for p in kept if p.exists()]
            where = (
                "原有年终文件保持不变：" + "、".join(str(p) for p in kept)
                if kept
                else "此前没有该年度的年终文件"
            )
            text = f"年终文件未能生成（{exc.summary}）；{where}"
            failures.keep_after_publish(opts.run_id, [text])
            get_run_logger().warning("数据已发布，但%s", text)
            return []
