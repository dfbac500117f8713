"""Ingestion facade: `ingest` (the nightly run) and `check_inputs` (the `check` command).

Steps: find the files under raw_dir/<kind>/ (discover.py: every entry is read or reported),
hash them, parse the ones not already in the parsed-file cache (read → canonical headers →
row rules), store the clean ones, then apply the cross-file rules to exactly the files now
present, and write the run manifest.

A file with a file-level error (unreadable, empty, undecodable, a required column missing, a
header-only export) is reported once and left out of every cross-file rule; an entry of a
kind folder that could not be read at all (discovery) makes that kind incomplete, and the
cross-file rules that would judge the other files by it are skipped (crossfile.Skips), so one
bad file gives one error, not a cascade. A `--raw` that is missing, a file or unreadable
gives exactly one error."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

import duckdb

from employment_eval.ingest import (
    adjustments,
    crossfile,
    personal,
    registrations,
    selfcheck,
    special_groups,
    store,
    submissions,
)
from employment_eval.ingest.discover import os_reason
from employment_eval.ingest.headers import Table, canonicalise
from employment_eval.ingest.lookups import Lookups
from employment_eval.ingest.read import (
    FoundFile,
    discover,
    raw_dir_problem,
    read_table,
    sha256_of,
    xlsx_numeric_cells,
)
from employment_eval.ingest.schema import COLUMNS
from employment_eval.ingest.validated import Validated
from employment_eval.ingest.values import dates_in_file_name
from employment_eval.problems import InputError, Problem
from employment_eval.reference import Reference
from employment_eval.rules import Rules

VALIDATORS: dict[str, Callable[[Table, Lookups], Validated]] = {
    "registrations": registrations.validate,
    "special_groups": special_groups.validate,
    "submissions": submissions.validate,
    "adjustments": adjustments.validate,
}

Progress = Callable[[str], None]


@dataclass
class IngestedFile:
    kind: str
    path: str  # relative to the raw folder, e.g. 'registrations/x.csv'
    sha256: str
    as_of_date: date | None
    rows: int
    parsed_now: bool
    included: bool


@dataclass
class IngestResult:
    files: list[IngestedFile]
    problems: list[Problem]  # warnings only when returned by ingest / check_inputs
    excluded_completion_rows: int  # 结业 rows of the latest included export, not in the cohort


def ingest(
    raw_dir: Path,
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    run_id: str,
    reference: Reference | None = None,
    progress: Progress | None = None,
    rules: Iterable[Rules] = (),
) -> IngestResult:
    """Read every file under raw_dir into the raw layer of `con` (parsed files are cached by
    content hash) and write meta.current_files / meta.run_context for this run.
    Raises InputError with every problem (errors and warnings) when any error exists.
    `rules` (the run's loaded rules) only word the ledger warnings with the points a blank
    cell puts at stake; without them the rules file is looked up (crossfile.LedgerPoints)."""
    points = crossfile.LedgerPoints(tuple(rules), Path(raw_dir))
    return _run(Path(raw_dir), con, as_of, run_id, reference, progress, points)


def check_inputs(
    raw_dir: Path,
    *,
    as_of: date,
    reference: Reference | None = None,
    progress: Progress | None = None,
    raise_on_error: bool = True,
    rules: Iterable[Rules] = (),
) -> IngestResult:
    """The same reading and checks on an in-memory database: writes nothing anywhere.
    Raises InputError like `ingest`; with raise_on_error=False returns every problem instead."""
    points = crossfile.LedgerPoints(tuple(rules), Path(raw_dir))
    con = duckdb.connect(":memory:")
    try:
        return _run(Path(raw_dir), con, as_of, "check", reference, progress, points, raise_on_error)
    finally:
        con.close()


@dataclass
class _Parsed:
    found: FoundFile
    sha256: str
    as_of_date: date | None
    rows: int
    parsed_now: bool
    stored: str  # 'raw' | 'pending' (see store.CurrentFile; 'broken' is set from `broken`)
    as_of_source: str | None = None
    broken: bool = False  # a file-level error: left out of the cross-file rules


def _run(
    raw_dir: Path,
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    run_id: str,
    reference: Reference | None,
    progress: Progress | None,
    points: crossfile.LedgerPoints,
    raise_on_error: bool = True,
) -> IngestResult:
    lk = Lookups(reference or Reference())
    say = progress or (lambda _msg: None)
    root_problem = raw_dir_problem(raw_dir)
    if root_problem is not None:  # nothing else can be said
        if raise_on_error:
            raise InputError([root_problem])
        return IngestResult([], [root_problem], 0)
    store.ensure_schema(con)
    found, problems = discover(raw_dir)
    hashed, hash_problems = _hash_all(found)
    problems += hash_problems
    entry_problems = list(problems)  # entries that could not be read at all

    cache = store.cached_files(con, lk.parser_fingerprint)
    representative = _representatives(hashed, cache)
    parsed: dict[tuple[str, str], _Parsed] = {}
    try:
        with store.transaction(con) as tx:
            for (kind, sha), f in representative.items():
                hit = cache.get((kind, sha))
                result, file_problems = _parse_or_reuse(con, lk, f, sha, hit, say)
                parsed[(kind, sha)] = result
                problems += file_problems
                tx.stored(result.rows if result.parsed_now else 0)
        skipped = sum(1 for p in parsed.values() if not p.parsed_now)
        if skipped:
            say(f"{skipped} 个文件内容未变，沿用已解析的结果")

        current = _current_files(hashed, representative, parsed, as_of)
        problems += _same_content_conflicts(current, representative, parsed)
        store.register_current(con, current)
        skips = crossfile.Skips.of(entry_problems, current, problems)
        latest = crossfile.latest_export(current)
        problems += crossfile.export_problems(current, as_of, skips)
        problems += crossfile.every_unit_problems(con, lk)
        problems += crossfile.roster_problems(con, latest, skips)
        problems += crossfile.ledger_problems(con, lk, as_of, skips, points)
        problems += crossfile.adjustment_problems(con, lk)
        problems += personal.personal_data_problems(con)
        problems += selfcheck.pack_problems(con, lk, points)
        completion = crossfile.completion_rows(con, latest)
    finally:
        store.drop_current(con)
        store.drop_pending(con)

    problems = selfcheck.locate(problems)  # a returned pack's problems by sheet and cell
    if raise_on_error and any(p.severity == "error" for p in problems):
        raise InputError(problems)
    if not any(p.severity == "error" for p in problems):
        store.write_manifest(con, run_id, as_of, current)
    files = [
        IngestedFile(
            c.kind,
            c.source_file,
            c.sha256,
            c.as_of_date,
            parsed[(c.kind, c.sha256)].rows,
            parsed[(c.kind, c.sha256)].parsed_now and c.is_representative,
            c.is_included,
        )
        for c in current
    ]
    return IngestResult(files, sorted(problems, key=_order), completion)


def _hash_all(found: list[FoundFile]) -> tuple[list[tuple[FoundFile, str]], list[Problem]]:
    hashed: list[tuple[FoundFile, str]] = []
    problems: list[Problem] = []
    for f in found:
        try:
            hashed.append((f, sha256_of(f.path)))
        except OSError as exc:  # changed since discovery probed it
            problems.append(Problem(f.rel, None, None, f"无法读取该文件（{os_reason(exc)}）"))
    return hashed, problems


def _representatives(
    hashed: list[tuple[FoundFile, str]], cache: dict[tuple[str, str], store.CacheEntry]
) -> dict[tuple[str, str], FoundFile]:
    """One name per (kind, content) whose rows are read: the name it was cached under when
    that name is still present, else the first name in sorted order."""
    representative: dict[tuple[str, str], FoundFile] = {}
    for f, sha in hashed:
        representative.setdefault((f.kind, sha), f)
    for f, sha in hashed:
        hit = cache.get((f.kind, sha))
        if hit is not None and hit.source_file == f.rel:
            representative[(f.kind, sha)] = f
    return representative


def _order(p: Problem) -> tuple:
    return (p.severity != "error", p.file, p.row or 0, p.column or "", p.reason)


def _parse_or_reuse(
    con: duckdb.DuckDBPyConnection,
    lk: Lookups,
    f: FoundFile,
    sha: str,
    hit: store.CacheEntry | None,
    say: Progress,
) -> tuple[_Parsed, list[Problem]]:
    if hit is not None and _cache_valid(f, hit):
        warnings = store.cached_warnings(con, f.kind, sha, f.rel)
        parsed = _Parsed(f, sha, hit.as_of_date, hit.row_count, False, "raw", hit.as_of_source)
        return parsed, warnings
    v = parse_file(f, lk)
    say(f"读取 {f.rel}（{v.data.height:,} 行）")
    if v.has_errors:
        if v.data.height:
            store.save_pending(con, v, sha)
        stored = "pending"
    else:
        store.save_clean(con, v, sha, lk.parser_fingerprint)
        stored = "raw"
    result = _Parsed(
        f, sha, v.as_of_date, v.data.height, True, stored, v.as_of_source, v.file_error
    )  # fmt: skip
    return result, v.problems


def _cache_valid(f: FoundFile, hit: store.CacheEntry) -> bool:
    """A cached export dated by its file name is valid only under a name of that date."""
    if f.kind != "registrations" or hit.as_of_source != "file_name":
        return True
    return dates_in_file_name(PurePosixPath(f.rel).name) == [hit.as_of_date]


def parse_file(f: FoundFile, lk: Lookups) -> Validated:
    """Read, canonicalise and validate one file (no database involved)."""
    if f.kind == selfcheck.KIND:  # a workbook read cell by cell, not a table
        return selfcheck.parse(f, lk)
    raw = read_table(f)
    source_rows = raw.data.get_column("source_row")  # canonicalise consumes raw.data
    table = canonicalise(f.kind, f.rel, raw)
    sid = table.column_index.get("student_id")
    if raw.xlsx_path is not None and sid is not None and source_rows.len():
        flags = xlsx_numeric_cells(raw.xlsx_path, sid, source_rows.len())
        table.numeric_id_rows = source_rows.filter(flags).to_list()
    del raw, source_rows
    v = VALIDATORS[f.kind](table, lk)
    if not table.unreadable:
        v.missing_required = [
            c.name for c in COLUMNS[f.kind] if c.required and c.name not in table.present
        ]
    v.file_error = v.file_error or table.unreadable or bool(v.missing_required)
    return v


def _current_files(
    hashed: list[tuple[FoundFile, str]],
    representative: dict[tuple[str, str], FoundFile],
    parsed: dict[tuple[str, str], _Parsed],
    as_of: date,
) -> list[store.CurrentFile]:
    current: list[store.CurrentFile] = []
    for f, sha in hashed:
        p = parsed[(f.kind, sha)]
        is_rep = representative[(f.kind, sha)] == f
        day = p.as_of_date
        if p.broken:
            included = False
        elif f.kind == "registrations":
            included = is_rep and day is not None and day <= as_of
        else:
            included = is_rep
        stored = "broken" if p.broken else p.stored
        current.append(store.CurrentFile(f.kind, f.rel, sha, day, included, is_rep, stored))
    return current


def _same_content_conflicts(
    current: list[store.CurrentFile],
    representative: dict[tuple[str, str], FoundFile],
    parsed: dict[tuple[str, str], _Parsed],
) -> list[Problem]:
    """Same export content under two names is one export — unless its as-of date comes from
    the file names and the names disagree."""
    problems: list[Problem] = []
    for c in current:
        if c.kind != "registrations" or c.is_representative:
            continue
        rep = representative[(c.kind, c.sha256)]
        p = parsed[(c.kind, c.sha256)]
        if p.broken or p.as_of_date is None or p.as_of_source != "file_name":
            continue
        if dates_in_file_name(PurePosixPath(c.source_file).name) != [p.as_of_date]:
            problems.append(
                Problem(
                    c.source_file,
                    None,
                    None,
                    f"与 {rep.rel} 内容完全相同，但文件名中的日期不同（无法确定导出日期），"
                    "请删除其中一个",
                )
            )
    return problems
