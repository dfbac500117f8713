"""The nightly refresh: ingest → build → audit → publish (write–audit–publish).

Each task calls one plain function of `employment_eval`; the logic is tested there directly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from employment_eval import adjustments, artifacts, audit, build, publish, warehouse
from employment_eval.ingest.api import IngestResult, ingest
from employment_eval.options import RunOptions
from employment_eval.problems import raise_if_errors
from employment_eval.rules import load_rules


@task(name="ingest", cache_policy=NO_CACHE)
def ingest_inputs(con: duckdb.DuckDBPyConnection, opts: RunOptions) -> IngestResult:
    logger = get_run_logger()
    result = ingest(opts.raw_dir, con, as_of=opts.as_of, run_id=opts.run_id, progress=logger.info)
    warehouse.log_run_files(con, opts.run_id)
    parsed = sum(f.parsed_now for f in result.files)
    logger.info(
        "读取输入：%d 个文件（新解析 %d 个，其余按内容哈希复用），%d 条警告",
        len(result.files),
        parsed,
        len(result.problems),
    )
    for problem in result.problems:
        logger.warning(problem.render())
    return result


@task(name="build", cache_policy=NO_CACHE)
def build_models(con: duckdb.DuckDBPyConnection, opts: RunOptions) -> None:
    result = build.build_models(con)
    get_run_logger().info("构建模型：%d 个，用时 %.2f 秒", len(result.models), result.seconds)
    raise_if_errors(adjustments.decision_problems(con))  # D12: judged on the built scoreboard


@task(name="audit", cache_policy=NO_CACHE)
def audit_marts(con: duckdb.DuckDBPyConnection, opts: RunOptions) -> Path:
    """Copy the marts into a candidate file and run every check on it; raise on errors."""
    logger = get_run_logger()
    candidate = publish.export_candidate(con, opts.marts_path, opts.run_id)
    try:
        results = audit.run_audit(con, candidate, opts)
        for r in results:
            if not r.ok:
                (logger.error if r.severity == "error" else logger.warning)(r.render())
        audit.raise_on_errors(results)
    except BaseException:
        publish.discard(candidate)
        raise
    logger.info("质量检查：%d 项全部通过", len(results))
    return candidate


@task(name="publish", cache_policy=NO_CACHE)
def publish_marts(candidate: Path, opts: RunOptions) -> None:
    publish.publish(candidate, opts.marts_path)
    get_run_logger().info("已发布：%s", opts.marts_path)


@task(name="artifacts", cache_policy=NO_CACHE)
def attach_artifacts(inputs: IngestResult, opts: RunOptions) -> None:
    """The run's Prefect artifacts: scoreboard, quality summary, units furthest behind."""
    parsed = sum(f.parsed_now for f in inputs.files)
    lines = [
        f"评估日期 {opts.as_of}，年度 {opts.year}",
        f"输入文件 {len(inputs.files)} 个（本次新解析 {parsed} 个）",
        f"结业记录 {inputs.excluded_completion_rows} 条，不计入毕业生",
        "质量检查全部通过，已发布",
    ]
    artifacts.attach(opts.marts_path, opts.year, lines, [p.render() for p in inputs.problems])


@flow(name="nightly_refresh", log_prints=True)
def nightly_refresh(
    raw_dir: str = "data/raw",
    marts_path: str = "data/marts/employment.duckdb",
    work_path: str = "data/work/warehouse.duckdb",
    year: int | None = None,
    as_of: dt.date | None = None,
) -> str:
    """Refresh the marts from the files now under raw_dir; returns the run id."""
    opts = RunOptions.resolve(raw_dir, marts_path, work_path, year, as_of)
    load_rules(opts.year)  # a year without a rules file is an error naming the file
    con = warehouse.open_work(opts.work_path)
    try:
        warehouse.log_run_start(
            con,
            run_id=opts.run_id,
            flow="nightly_refresh",
            as_of=opts.as_of,
            raw_dir=opts.raw_dir,
            marts_path=opts.marts_path,
        )
        try:
            inputs = ingest_inputs(con, opts)
            build_models(con, opts)
            candidate = audit_marts(con, opts)
            publish_marts(candidate, opts)
            attach_artifacts(inputs, opts)
        except BaseException as exc:
            warehouse.log_run_end(con, opts.run_id, "failed", str(exc))
            raise
        warehouse.log_run_end(con, opts.run_id, "published")
    finally:
        con.close()
    return opts.run_id
