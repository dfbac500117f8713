"""Audit step: the checks that decide whether a build may be published.

Two kinds of check, each with a severity (an error blocks publishing, a warning is reported):
- the grain of every model (`-- grain:` in its SQL), on the working database;
- the Great Expectations suites of `expectations/` (see `quality`): staging suites on the
  working database, marts suites on the candidate file, the personal-data suite on both.

Every run writes its full report (JSON, with sample values) and the GX Data Docs to
`<work folder>/reports/<run id>/`: they may quote personal data, so they live beside the
working database, never beside the marts. The console summary (AuditError) names the suite,
the expectation, the failing count and the raw file and rows, but no values."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from employment_eval import gate_rows, gate_worker, publish, quality, runner
from employment_eval.paths import SQL_DIR

REPORTS_KEPT = 30  # report folders of the most recent runs kept in <work>/reports/
MAX_ROWS_SHOWN = 20  # row numbers per file on the console
MAX_REPORT_ROWS = 500  # failing rows per expectation in report.json


@dataclass(frozen=True)
class CheckResult:
    suite: str
    name: str  # what is expected (Chinese, shown to the centre)
    severity: str  # error / warning
    failing: int
    samples: list[tuple] = field(default_factory=list)  # key values of failing rows (no personal)
    expectation: str = ""  # GX expectation (type and column), or 'grain' for model grains
    check_id: str = ""
    row_id: tuple[str, ...] = ()
    failing_rows: list[dict] = field(default_factory=list)  # row_id values of failing rows
    detail: dict = field(default_factory=dict)  # report only: values, kwargs, exception
    title: str = ""  # what was checked, in Chinese (the suite's title, never its name)

    @property
    def ok(self) -> bool:
        return self.failing == 0

    def render(self) -> str:
        label = "错误" if self.severity == "error" else "警告"
        lines = [f"[{label}] {self.title or '质量检查'}：{self.name}——{self.failing} 行不符合"]
        if self.detail.get("exception"):
            lines.append(f"    检查执行出错：{self.detail['exception']}")
        lines += [f"    {line}" for line in where_lines(self.failing_rows, self.failing)]
        if not self.failing_rows and self.samples:
            lines.append("    例：" + "；".join(" ".join(map(str, s)) for s in self.samples[:5]))
        return "\n".join(lines)


def where_lines(rows: list[dict], failing: int) -> list[str]:
    """Where the failing rows are: raw file and row numbers when the frame has provenance,
    else the rows' keys (year, unit, …). Never a value of a personal field."""
    if not rows:
        return []
    if "source_file" in rows[0]:
        by_file: dict[str, list] = {}
        for row in rows:
            rest = [v for k, v in row.items() if k != "source_file"]
            by_file.setdefault(str(row["source_file"]), []).append(rest)
        lines = []
        for file, rests in list(by_file.items())[:5]:
            if all(len(r) == 1 and isinstance(r[0], int) for r in rests):
                lines.append(f"{file} 第 {_ranges(sorted({r[0] for r in rests}))} 行")
            else:
                shown = "；".join(" ".join(map(str, r)) for r in rests[:MAX_ROWS_SHOWN])
                more = f" 等 {len(rests)} 处" if len(rests) > MAX_ROWS_SHOWN else ""
                lines.append(f"{file}：{shown}{more}")
        if len(by_file) > 5:
            lines.append(f"……另有 {len(by_file) - 5} 个文件")
        if len(rows) < failing:  # the first ROW_LIMIT failing rows are kept (by file and row)
            lines.append(f"……以上按文件与行号列出前 {len(rows)} 行，共 {failing} 行不符合")
        return lines
    shown = "；".join(" ".join(str(v) for v in row.values()) for row in rows[:5])
    more = f" 等 {failing} 行" if failing > 5 else ""
    return [f"例：{shown}{more}"]


def _ranges(numbers: list[int]) -> str:
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    if len(parts) > MAX_ROWS_SHOWN:
        return "、".join(parts[:MAX_ROWS_SHOWN]) + f" 等（共 {len(numbers)} 行）"
    return "、".join(parts)


class AuditError(Exception):
    def __init__(self, results: list[CheckResult], report_dir: Path | None = None):
        self.results = results
        self.report_dir = report_dir
        super().__init__(summary(results, report_dir))


def summary(results: list[CheckResult], report_dir: Path | None = None) -> str:
    """The console summary in Chinese: every failed error-level check, where, and the report."""
    errors = [r for r in results if not r.ok and r.severity == "error"]
    warnings = [r for r in results if not r.ok and r.severity == "warning"]
    lines = [f"质量检查：{len(errors)} 项错误，{len(warnings)} 项警告（共 {len(results)} 项检查）"]
    lines += [r.render() for r in errors]
    if report_dir is not None:
        lines.append(f"完整报告（含样例值，可能含个人信息，勿外传）：{report_dir / 'report.json'}")
        docs = report_dir / "data_docs" / "index.html"
        if docs.exists():
            lines.append(f"检查结果网页（含样例值，勿外传）：{docs}")
    return "\n".join(lines)


def report_dir(opts) -> Path:
    return opts.work_dir / "reports" / opts.run_id


def run_sql_checks(con: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    """The grain of every model that declares one: unique and not null."""
    results = []
    cur = con.cursor()  # check_grain leaves its one-row result open: keep that off `con`
    try:
        grains = [(m, runner.check_grain(cur, m)) for m in runner.discover(SQL_DIR) if m.grain]
    finally:
        cur.close()
    for model, bad in grains:
        results.append(
            CheckResult(
                model.schema,
                "结果表中同一键只有一行（程序内部一致性；出现时请联系维护人员，"
                "详细的表名见运行报告）",
                "error",
                bad,
                expectation=f"grain {model.schema}.{model.name} ({', '.join(model.grain)})",
                check_id=f"grain.{model.schema}.{model.name}",
                title="内部一致性",
            )
        )
    return results


def raise_on_errors(results: list[CheckResult], report_dir: Path | None = None) -> None:
    if any(not r.ok and r.severity == "error" for r in results):
        raise AuditError(results, report_dir)


def audit_candidate(
    con: duckdb.DuckDBPyConnection,
    opts,
    suites: list[quality.Suite] | None = None,
    data_docs: bool | None = None,
    *,
    chunk_rows: int = quality.CHUNK_ROWS,
) -> tuple[Path, list[CheckResult]]:
    """Write and audit: copy the marts into a candidate file beside the published one and run
    every check. Returns the candidate (to be published) and the results; on an error-level
    failure (or any exception) the candidate is deleted and AuditError raised."""
    candidate = publish.export_candidate(con, opts.marts_path, opts.run_id)
    try:
        results = run_audit(con, candidate, opts, suites, data_docs, chunk_rows=chunk_rows)
        raise_on_errors(results, report_dir(opts))
    except BaseException:
        publish.discard(candidate)
        raise
    return candidate, results


def run_audit(
    con: duckdb.DuckDBPyConnection,
    candidate: Path,
    opts,
    suites: list[quality.Suite] | None = None,
    data_docs: bool | None = None,
    *,
    chunk_rows: int = quality.CHUNK_ROWS,
) -> list[CheckResult]:
    """Every check of the run (the grains and every suite of expectations/); writes the report
    to report_dir(opts), and GX Data Docs beside it when an error-level expectation failed
    (`data_docs=None`), always (`True`) or never (`False`). `suites` restricts the run to
    those suites (tests). Frames of more than `chunk_rows` rows are validated in chunks
    (quality.suite_frames): the results are the same."""
    started = time.monotonic()
    out = report_dir(opts)
    out.mkdir(parents=True, exist_ok=True)
    results = run_sql_checks(con) if suites is None else []
    try:
        suites = quality.load_suites() if suites is None else suites
        docs = out / "data_docs" if data_docs is not False else None
        results += run_suites(
            con, candidate, suites, docs, chunk_rows=chunk_rows, docs_always=bool(data_docs)
        )
    except quality.SuiteError as exc:
        results.append(
            CheckResult("expectations", f"检查规则无法使用：{exc}", "error", 1, title="质量检查")
        )
        suites = suites or []
    write_report(out, results, suites, opts, candidate, time.monotonic() - started)
    prune_reports(out.parent, keep=REPORTS_KEPT)
    return results


def run_suites(
    con: duckdb.DuckDBPyConnection,
    candidate: Path,
    suites: list[quality.Suite],
    docs_dir: Path | None = None,
    *,
    chunk_rows: int = quality.CHUNK_ROWS,
    docs_always: bool = True,
) -> list[CheckResult]:
    """Validate every suite: staging on `con`, marts on the candidate, published on both —
    with the GX validator a run started early in a second process (gate_worker), else one
    in this process. Data Docs go to `docs_dir` when an error-level expectation failed, or
    always with `docs_always`."""
    with gate_worker.validator(docs_dir) as validator:
        gate = _Gate(validator)
        outcomes = _validate_all(gate, con, candidate, suites, chunk_rows)
        failed = any(not o.success and o.severity == "error" for o in outcomes)
        if docs_dir is not None and (docs_always or failed):
            gate.complete_docs()
            validator.build_docs()
    titles = {s.name: s.title_zh for s in suites}
    return [_result(o, titles.get(o.suite, "")) for o in outcomes]


class _Gate:
    """The validator, and the suites GX had nothing to see in (every row of their frames
    judged by DuckDB to pass: gate_rows): their results are the whole frame's, all passed,
    and GX validates their empty frames only when Data Docs are written."""

    def __init__(self, validator) -> None:
        self.validator = validator
        self.unseen: list[tuple[quality.Suite, object, dict]] = []

    def check_suites(self, suites) -> None:
        self.validator.check_suites(suites)

    def validate(
        self, suite: quality.Suite, tables, parameters: dict, count: gate_rows.FrameCount
    ) -> list[quality.Outcome]:
        tables = iter(tables)
        head = next(tables)
        if count.narrowed and len(head) == 0:
            rest = next(tables, None)
            if rest is None:  # no row may fail
                self.unseen.append((suite, head, parameters))
                return quality.passed_outcomes(suite, count.rows)
            tables = itertools.chain([rest], tables)
        return self.validator.validate(suite, itertools.chain([head], tables), parameters)

    def complete_docs(self) -> None:
        for suite, empty, parameters in self.unseen:
            self.validator.validate(suite, [empty], parameters)


def _validate_all(
    validator: _Gate, con: duckdb.DuckDBPyConnection, candidate: Path, suites, chunk_rows: int
) -> list[quality.Outcome]:
    validator.check_suites(suites)  # every file loads before anything runs
    outcomes: list[quality.Outcome] = []
    fingerprint = quality.prepare_already_validated(con, suites)
    for suite in (s for s in suites if s.layer == "staging"):
        if suite.per_file is not None:
            outcomes += _validate_new_files(validator, suite, con, chunk_rows, fingerprint)
        else:
            outcomes += _validate(validator, suite, con, chunk_rows)
    marts = [s for s in suites if s.layer == "marts"]
    if marts:
        cand = publish.open_published(candidate)  # `marts.x` is the schema, whatever the name
        try:
            for suite in marts:
                outcomes += _validate(validator, suite, cand, chunk_rows)
        finally:
            cand.close()
    published = [s for s in suites if s.layer == "published"]
    if published:
        con.execute(f"attach ? as {quality.CANDIDATE} (read_only)", [str(candidate)])
        try:
            for suite in published:
                outcomes += _validate(validator, suite, con, chunk_rows)
        finally:
            con.execute(f"detach {quality.CANDIDATE}")
    return outcomes


def _validate(
    validator: _Gate, suite: quality.Suite, con, chunk_rows: int
) -> list[quality.Outcome]:
    """The suite's frame, read and validated chunk by chunk (a query error: SuiteError); of a
    suite whose rows are judged on their own, the rows that may fail (gate_rows)."""
    parameters = quality.suite_parameters(suite, con)
    count = gate_rows.FrameCount()
    tables = quality.suite_tables(suite, con, chunk_rows, parameters=parameters, count=count)
    outcomes = validator.validate(suite, tables, parameters, count)
    return _whole_rows(outcomes, count, 0)


def _whole_rows(
    outcomes: list[quality.Outcome], count: gate_rows.FrameCount, skipped: int
) -> list[quality.Outcome]:
    """rows_checked of the whole frame: the rows GX saw, or (narrowed) all the frame's rows,
    plus the rows of files validated on an earlier night."""
    if not count.narrowed and not skipped:
        return outcomes
    return [
        dataclasses.replace(
            o, rows_checked=(count.rows if count.narrowed else o.rows_checked) + skipped
        )
        for o in outcomes
    ]


def _validate_new_files(
    validator: _Gate, suite: quality.Suite, con, chunk_rows: int, fingerprint: str
) -> list[quality.Outcome]:
    """A per-file suite: the rows of the files not validated before, in full; the files
    that pass every expectation are recorded (marked once the run publishes). The rows of
    the files skipped count as checked, as in a full validation."""
    skipped = quality.skipped_rows(con, suite)
    parameters = quality.suite_parameters(suite, con)
    count = gate_rows.FrameCount()
    tables = quality.suite_tables(suite, con, chunk_rows, parameters=parameters, count=count)
    outcomes = validator.validate(suite, tables, parameters, count)
    ledger = quality.FileLedger(suite, con, count)
    quality.record_passed(con, suite, ledger.passed(outcomes), fingerprint)
    return _whole_rows(outcomes, count, skipped)


def _result(o: quality.Outcome, title: str) -> CheckResult:
    samples = [tuple(row.values()) for row in o.failing_rows[:5]]
    return CheckResult(
        suite=o.suite,
        name=o.description_zh,
        severity=o.severity,
        failing=o.failing,
        samples=samples,
        expectation=o.expectation_label,
        check_id=f"{o.suite}.{o.check_id}",
        row_id=o.row_id,
        failing_rows=o.failing_rows,
        title=title,
        detail={
            "rows_checked": o.rows_checked,
            "kwargs": o.kwargs,
            "sample_values": o.samples,
            "exception": o.exception,
        },
    )


def write_report(
    out: Path,
    results: list[CheckResult],
    suites: list[quality.Suite],
    opts,
    candidate: Path,
    seconds: float,
) -> Path:
    failed = [r for r in results if not r.ok and r.severity == "error"]
    report = {
        "run_id": opts.run_id,
        "created_at": dt.datetime.now().isoformat(timespec="seconds"),
        "as_of_date": opts.as_of.isoformat(),
        "year": opts.year,
        "raw_dir": str(opts.raw_dir),
        "marts_path": str(opts.marts_path),
        "candidate": str(candidate),
        "outcome": "failed" if failed else "passed",
        "errors": len(failed),
        "warnings": sum(1 for r in results if not r.ok and r.severity == "warning"),
        "seconds": round(seconds, 2),
        "suites": [
            {
                "name": s.name,
                "file": s.path.name,
                "layer": s.layer,
                "description_zh": s.description_zh,
                "expectations": len(s.expectations),
            }
            for s in suites
        ],
        "checks": [
            {
                "check_id": r.check_id,
                "suite": r.suite,
                "expectation": r.expectation,
                "description_zh": r.name,
                "severity": r.severity,
                "success": r.ok,
                "failing": r.failing,
                "row_id": list(r.row_id),
                "failing_rows": r.failing_rows[:MAX_REPORT_ROWS],
                **r.detail,
            }
            for r in results
        ],
    }
    path = out / "report.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), "utf-8")
    return path


def prune_reports(reports: Path, keep: int) -> None:
    """Keep the report folders of the `keep` most recent runs (run ids sort by start time)."""
    folders = sorted(p for p in reports.iterdir() if p.is_dir())
    for old in folders[:-keep] if keep > 0 else folders:
        shutil.rmtree(old, ignore_errors=True)
