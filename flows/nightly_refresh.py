"""The nightly refresh: ingest → build → audit → publish (write–audit–publish).

Each task calls plain functions of `employment_eval`; the logic is tested there directly.

What Prefect sees (logs, state messages, events, artifacts) never holds personal data: every
task body runs inside `failures.guarded`, which keeps a failure's full text (it may quote a
student number) in the run's private report folder and in this process, and hands Prefect a
summary; warnings reach Prefect as counts per file, their text goes to the private folder (and
to the console when the command line runs the flow). No task persists a result."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from employment_eval import (
    adjustments,
    artifacts,
    audit,
    build,
    failures,
    followup,
    fsmodes,
    locks,
    nochange,
    preflight,
    publish,
    quality,
    warehouse,
    years,
)
from employment_eval.faults import pause_point
from employment_eval.ingest.api import IngestResult, ingest
from employment_eval.options import (
    DEFAULT_KEEP_FOLLOWUP,
    DEFAULT_WAIT_SECONDS,
    RunOptions,
    default_year,
)
from employment_eval.problems import raise_if_errors
from employment_eval.render import morning
from employment_eval.rules import Rules
from employment_eval.signing import drift

TASK = {"cache_policy": NO_CACHE, "persist_result": False}


def _counts_by_file(files: list[str]) -> str:
    counts = Counter(files)
    shown = "、".join(f"{f} {n} 条" for f, n in counts.most_common(5))
    return shown + (f" 等 {len(counts)} 个文件" if len(counts) > 5 else "")


@task(name="ingest", **TASK)
def ingest_inputs(
    con: duckdb.DuckDBPyConnection, opts: RunOptions, rules: list[Rules]
) -> tuple[IngestResult, int]:
    """Read every input; returns what was read and the year the run evaluates (--year, else
    the latest year with an export: years.settle_year, said on the console)."""
    logger = get_run_logger()
    with failures.guarded(opts.run_id, audit.report_dir(opts)):
        result = ingest(
            opts.raw_dir,
            con,
            as_of=opts.as_of,
            run_id=opts.run_id,
            progress=logger.info,
            rules=rules,
        )
        raise_if_errors(years.missing_rules_problems(con, opts.rules_source))  # every year's rules
        result.problems += drift.drift_problems(con, opts.rules_source)  # signed years' inputs
        year, why = years.settle_year(con, opts.year, opts.run_id)
        warehouse.log_run_files(con, opts.run_id)
        warehouse.record_run(con, replace(opts, year=year), rules, len(result.files))
        failures.keep_warnings(
            opts.run_id, audit.report_dir(opts), [p.render() for p in result.problems]
        )
    logger.info(why)
    years.remember_choice(opts.run_id, why)
    parsed = sum(f.parsed_now for f in result.files)
    logger.info(
        "读取输入：%d 个文件（新解析 %d 个，其余按内容哈希复用），%d 条警告",
        len(result.files),
        parsed,
        len(result.problems),
    )
    if result.problems:
        logger.warning(
            "输入警告 %d 条（%s）；全文见 %s",
            len(result.problems),
            _counts_by_file([p.file for p in result.problems]),
            failures.warnings_file(audit.report_dir(opts)),
        )
    return result, year


@task(name="build", **TASK)
def build_models(con: duckdb.DuckDBPyConnection, opts: RunOptions, rules: list[Rules]) -> None:
    with failures.guarded(opts.run_id, audit.report_dir(opts)):
        result = build.build_models(con, rules)
        raise_if_errors(adjustments.decision_problems(con))  # D12: judged on the built scoreboard
    get_run_logger().info("计算各项结果：%d 张表，用时 %.2f 秒", len(result.models), result.seconds)


@task(name="audit", **TASK)
def audit_marts(con: duckdb.DuckDBPyConnection, opts: RunOptions) -> tuple[Path, list[str]]:
    """Copy the marts into a candidate file and run every check on it (the grains and the
    Great Expectations suites); fails on an error-level failure. Returns the candidate and
    the warnings (check names, counts and raw rows: no values)."""
    logger = get_run_logger()
    warehouse.log_run_report(con, opts.run_id, audit.report_dir(opts))
    with failures.guarded(opts.run_id, audit.report_dir(opts)):
        # Data Docs when a check fails, or when asked (--data-docs)
        candidate, results = audit.audit_candidate(con, opts, data_docs=opts.data_docs or None)
    warnings = [r.render().splitlines()[0] for r in results if not r.ok]
    for text in warnings:
        logger.warning(text)
    logger.info(
        "质量检查：%d 项，%d 项警告；运行报告：%s",
        len(results),
        len(warnings),
        audit.report_dir(opts),
    )
    return candidate, warnings


@task(name="publish", **TASK)
def publish_marts(
    con: duckdb.DuckDBPyConnection, candidate: Path, opts: RunOptions, rules: list[Rules]
) -> str:
    """Rename the audited candidate over the marts (atomic) and record its sha256 and what
    it depends on (so that a night with nothing new does nothing)."""
    with failures.guarded(opts.run_id, audit.report_dir(opts)):
        digest = publish.sha256_file(candidate)
        size = candidate.stat().st_size
        publish.publish(candidate, opts.marts_path)
        pause_point("published")
        warehouse.log_run_output(con, opts.run_id, "marts", opts.marts_path, digest, size)
        warehouse.log_run_fingerprint(con, opts.run_id, nochange.fingerprint(opts, rules, con))
        quality.mark_validated(con)  # these exports need not be validated again
    get_run_logger().info("已发布：%s（sha256 %s）", opts.marts_path, digest[:12])
    return digest


@task(name="morning_report", **TASK)
def morning_report(
    con: duckdb.DuckDBPyConnection,
    inputs: IngestResult,
    quality_warnings: list[str],
    opts: RunOptions,
) -> list[str]:
    """The night's morning report beside the published marts (read from them: no personal
    data; warnings as counts only) and its artifact. Returns the files' paths."""
    logger = get_run_logger()
    with failures.guarded(opts.run_id, audit.report_dir(opts)):
        notes = morning.notes_from_run(inputs.problems, quality_warnings)
        paths = morning.publish_report(opts.marts_path, opts.year, opts.as_of, notes, logger.info)
        for path in paths:
            digest = publish.sha256_file(path)
            size = path.stat().st_size
            warehouse.log_run_output(con, opts.run_id, "morning_report", path, digest, size)
    logger.info("晨报：%s", "，".join(str(p) for p in paths) or "无")
    return [str(p) for p in paths]


@task(name="followup_lists", **TASK)
def followup_lists(con: duckdb.DuckDBPyConnection, opts: RunOptions) -> str:
    """Each unit's folder in the working folder: its follow-up list (personal data) and its
    one-page sheet, after reading the lists the units handed back (a refused one is a warning:
    its problems go to the console and the private report, Prefect gets the counts). Returns
    the night's folder."""
    logger = get_run_logger()
    with failures.guarded(opts.run_id, audit.report_dir(opts)):
        written = followup.write_followup_lists(
            con,
            opts.work_dir,
            opts.year,
            opts.as_of,
            opts.run_id,
            opts.keep_followup,
            marts_path=opts.marts_path,
        )
        failures.keep_returned_warnings(
            opts.run_id, audit.report_dir(opts), written.returned.lines()
        )
    returned = written.returned
    if returned.refused:
        logger.warning(
            "%s；拒收原因见 %s",
            returned.summary(),
            failures.returned_warnings_file(audit.report_dir(opts)),
        )
    elif returned.accepted or returned.known:
        logger.info(returned.summary())
    logger.info("%s（每个单位一个文件夹，含个人信息，仅限本机）：%s", followup.STEP, written.folder)
    return str(written.folder)


@task(name="artifacts", **TASK)
def attach_artifacts(inputs: IngestResult, quality_warnings: list[str], opts: RunOptions) -> None:
    """The run's Prefect artifacts: scoreboard, quality summary, units furthest behind. Input
    warnings appear as counts per file (their text may quote personal data)."""
    parsed = sum(f.parsed_now for f in inputs.files)
    lines = [
        f"评估日期 {opts.as_of}，年度 {opts.year}，运行编号 {opts.run_id}",
        f"输入文件 {len(inputs.files)} 个（本次新解析 {parsed} 个）",
        f"结业记录 {inputs.excluded_completion_rows} 条，不计入毕业生",
        f"质量检查无错误（{len(quality_warnings)} 项警告），已发布",
    ]
    warnings = [
        f"{file}：输入警告 {n} 条（全文在工作文件夹的运行报告中）"
        for file, n in sorted(Counter(p.file for p in inputs.problems).items())
    ] + quality_warnings
    with failures.guarded(opts.run_id, audit.report_dir(opts)):
        artifacts.attach(opts.marts_path, opts.year, lines, warnings)


def load_rules(opts: RunOptions) -> list[Rules]:
    """Every year that has a rules file (a year given with --year must have one)."""
    source = opts.rules_source
    if opts.year is not None:
        source.load(opts.year)  # a year without a rules file is an error naming the file
    else:
        default_year(source)  # at least one year's rules
    return source.load_all()


@flow(name="nightly_refresh", persist_result=False)
def nightly_refresh(
    raw_dir: str = "data/raw",
    marts_path: str = "data/marts/employment.duckdb",
    work_path: str = "data/work/warehouse.duckdb",
    year: int | None = None,
    as_of: dt.date | None = None,
    rules_dir: str | None = None,
    allow_older: bool = False,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    run_id: str | None = None,
    keep_followup: int = DEFAULT_KEEP_FOLLOWUP,
    force: bool = False,
    data_docs: bool = False,
) -> str:
    """Refresh the marts from the files now under raw_dir; returns the run id. When nothing
    changed since the last publish (employment_eval.nochange) it does nothing, unless
    `force`."""
    opts = RunOptions.from_flow_parameters(**locals())  # the flow's parameters, as given
    fsmodes.private_by_default()
    preflight.check_paths(opts.raw_dir, opts.marts_path, opts.work_path)
    rules = load_rules(opts)
    fsmodes.public_dir(opts.marts_path.parent)
    logger = get_run_logger()
    with (
        locks.hold(opts.work_path, opts.wait_seconds, logger.info),
        locks.hold(opts.marts_path, opts.wait_seconds, logger.info),
    ):
        nochange.refuse_older(opts)
        last = None if opts.force else nochange.unchanged_since(opts, rules)
        if last is not None:
            logger.info(nochange.nothing_new_message(last))
            return last.run_id
        run(opts, rules)
    return opts.run_id


def run(opts: RunOptions, rules: list[Rules]) -> None:
    """The run proper, under both locks."""
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
        stale = publish.remove_stale_candidates(opts.marts_path)  # we hold the marts lock
        if interrupted or stale:
            get_run_logger().warning(
                "上次运行被中断（%d 次），已清理其未发布的候选文件 %d 个；已发布的数据未受影响",
                interrupted,
                len(stale),
            )
        try:
            inputs, year = ingest_inputs(con, opts, rules)
            opts = replace(opts, year=year)
            pause_point("ingested")
            build_models(con, opts, rules)
            pause_point("built")
            candidate, quality_warnings = audit_marts(con, opts)
            pause_point("audited")
            publish_marts(con, candidate, opts, rules)
        except BaseException as exc:
            detail = failures.recall(opts.run_id) or exc  # the working DB is private
            warehouse.log_run_end(con, opts.run_id, "failed", str(detail))
            raise
        # The marts are published: what follows serves the morning. A failure there is
        # reported (task failed in Prefect, a warning, the run log) but unpublishes nothing.
        missing = after_publish(con, inputs, quality_warnings, opts)
        warehouse.log_run_end(con, opts.run_id, "published", "；".join(missing))
    finally:
        con.close()


def after_publish(
    con: duckdb.DuckDBPyConnection,
    inputs: IngestResult,
    quality_warnings: list[str],
    opts: RunOptions,
) -> list[str]:
    """The morning report, the follow-up lists and the artifacts; returns what failed, each
    with where the previous file is (the command line ends with exit code 3)."""
    missing = []
    steps = (
        (
            "晨报",
            lambda: morning_report(con, inputs, quality_warnings, opts),
            lambda: morning.previous_report(opts.marts_path.parent, opts.year, opts.as_of),
        ),
        (
            followup.STEP,
            lambda: followup_lists(con, opts),
            lambda: followup.previous_night(opts.work_dir, opts.year, opts.as_of),
        ),
        ("流程界面中的运行摘要", lambda: attach_artifacts(inputs, quality_warnings, opts), None),
    )
    for name, step, previous in steps:
        try:
            step()
        except failures.RunFailed as exc:
            where = previous() if previous else None
            if where is not None:
                kept = f"上一份{name}仍在 {where}"
            elif previous:
                kept = f"此前没有{name}"
            else:
                kept = "不影响已发布的数据"
            missing.append(f"{name}未能生成（{exc.summary}）；{kept}")
            get_run_logger().warning("数据已发布，但%s", missing[-1])
    failures.keep_after_publish(opts.run_id, missing)
    return missing
