"""The nightly refresh: ingest → build → audit → publish (write–audit–publish).

Each task calls one plain function of `employment_eval`; the logic is tested there directly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from employment_eval import adjustments, artifacts, audit, build, publish, quality, warehouse
from employment_eval.faults import pause_point
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
def audit_marts(con: duckdb.DuckDBPyConnection, opts: RunOptions) -> tuple[Path, list[str]]:
    """Copy the marts into a candidate file and run every check on it (the grains and the
    Great Expectations suites); raise AuditError on an error-level failure. Returns the
    candidate and the warnings."""
    logger = get_run_logger()
    warehouse.log_run_report(con, opts.run_id, audit.report_dir(opts))
    try:
        candidate, results = audit.audit_candidate(con, opts)
    except audit.AuditError as exc:
        for r in exc.results:
            if not r.ok and r.severity == "warning":
                logger.warning(r.render())
        errors = sum(1 for r in exc.results if not r.ok and r.severity == "error")
        logger.error("质量检查未通过：%d 项错误，未发布；报告：%s", errors, exc.report_dir)
        raise
    warnings = [r.render() for r in results if not r.ok]
    for text in warnings:
        logger.warning(text)
    logger.info(
        "质量检查：%d 项，%d 项警告；报告与 Data Docs：%s",
        len(results),
        len(warnings),
        audit.report_dir(opts),
    )
    return candidate, warnings


@task(name="publish", cache_policy=NO_CACHE)
def publish_marts(con: duckdb.DuckDBPyConnection, candidate: Path, opts: RunOptions) -> str:
    """Rename the audited candidate over the marts (atomic) and record its sha256."""
    digest = publish.sha256_file(candidate)
    size = candidate.stat().st_size
    publish.publish(candidate, opts.marts_path)
    pause_point("published")
    warehouse.log_run_output(con, opts.run_id, "marts", opts.marts_path, digest, size)
    quality.mark_validated(con)  # these exports need not be validated again
    get_run_logger().info("已发布：%s（sha256 %s）", opts.marts_path, digest[:12])
    return digest


@task(name="artifacts", cache_policy=NO_CACHE)
def attach_artifacts(inputs: IngestResult, quality_warnings: list[str], opts: RunOptions) -> None:
    """The run's Prefect artifacts: scoreboard, quality summary, units furthest behind."""
    parsed = sum(f.parsed_now for f in inputs.files)
    lines = [
        f"评估日期 {opts.as_of}，年度 {opts.year}",
        f"输入文件 {len(inputs.files)} 个（本次新解析 {parsed} 个）",
        f"结业记录 {inputs.excluded_completion_rows} 条，不计入毕业生",
        f"质量检查无错误（{len(quality_warnings)} 项警告），已发布",
    ]
    warnings = [p.render() for p in inputs.problems] + quality_warnings
    artifacts.attach(opts.marts_path, opts.year, lines, warnings)


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
        interrupted = warehouse.log_run_start(
            con,
            run_id=opts.run_id,
            flow="nightly_refresh",
            as_of=opts.as_of,
            raw_dir=opts.raw_dir,
            marts_path=opts.marts_path,
        )
        stale = publish.remove_stale_candidates(opts.marts_path)
        if interrupted or stale:
            get_run_logger().warning(
                "上次运行被中断（%d 次），已清理其未发布的候选文件 %d 个；已发布的数据未受影响",
                interrupted,
                len(stale),
            )
        try:
            inputs = ingest_inputs(con, opts)
            pause_point("ingested")
            build_models(con, opts)
            pause_point("built")
            candidate, quality_warnings = audit_marts(con, opts)
            pause_point("audited")
            publish_marts(con, candidate, opts)
            attach_artifacts(inputs, quality_warnings, opts)
        except BaseException as exc:
            warehouse.log_run_end(con, opts.run_id, "failed", str(exc))
            raise
        warehouse.log_run_end(con, opts.run_id, "published")
    finally:
        con.close()
    return opts.run_id
