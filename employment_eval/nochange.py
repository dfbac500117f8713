"""A night with nothing new does nothing.

A run's *fingerprint* covers everything the published marts depend on: the input files now
under the raw folder (kind, name, content hash, and whether the as-of date includes them), the
rules files (path and content hash), the SQL models, the expectation suites, the reference
seeds, the code of the pipeline, the report templates, the evaluation year, and the part of
the as-of date that the marts read (the next node of each year: `marts.progress`). A
published run records it in the run log. The next run computes it first — before Prefect or
Great Expectations are imported — and when it equals the last published run's fingerprint,
and the published file is still the one that run wrote, there is nothing to do (`--force`
rebuilds anyway)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from employment_eval import publish, warehouse
from employment_eval.failures import RunFailed
from employment_eval.ingest.discover import discover, sha256_of
from employment_eval.options import RunOptions, as_shanghai
from employment_eval.paths import (
    EXPECTATIONS_DIR,
    PROJECT_ROOT,
    REFERENCE_DIR,
    SQL_DIR,
    templates_dir,
)
from employment_eval.rules import Rules
from employment_eval.signing import store as signing_store

CODE_DIRS = (PROJECT_ROOT / "employment_eval", PROJECT_ROOT / "flows")


@dataclass(frozen=True)
class LastPublish:
    run_id: str
    as_of: dt.date
    finished_at: dt.datetime


def tree_digest(
    digest: hashlib._Hash, folder: Path, pattern: str, root: Path = PROJECT_ROOT
) -> None:
    for path in sorted(folder.rglob(pattern)):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())


def _next_nodes(rules: list[Rules], as_of: dt.date) -> list[tuple[int, str]]:
    nodes = []
    for r in rules:
        ahead = [m.date for m in r.milestones if m.date >= as_of]
        nodes.append((r.year, min(ahead).isoformat() if ahead else "-"))
    return nodes


def fingerprint(opts: RunOptions, rules: list[Rules], con: duckdb.DuckDBPyConnection) -> str | None:
    """The run's fingerprint, or None when it cannot be known without parsing (a file that
    is not in the parsed-file cache, or a problem with the raw folder's entries)."""
    found, problems = discover(opts.raw_dir)
    if problems:
        return None
    cached = dict(
        ((kind, sha), as_of)
        for kind, sha, as_of in con.execute(
            "select kind, file_sha256, as_of_date from raw.files"
        ).fetchall()
    )
    digest = hashlib.sha256(b"employment-eval run fingerprint v1\n")
    for f in sorted(found, key=lambda f: (f.kind, f.rel)):
        sha = sha256_of(f.path)
        if (f.kind, sha) not in cached:
            return None
        day = cached[(f.kind, sha)]
        included = f.kind != "registrations" or (day is not None and day <= opts.as_of)
        digest.update(f"{f.kind}\0{f.rel}\0{sha}\0{included}\n".encode())
    for r in sorted(rules, key=lambda r: r.year):
        digest.update(f"rules\0{r.year}\0{r.path}\0{r.sha256}\n".encode())
    year = opts.year_asked  # None: the latest year with an export, settled by the run
    digest.update(f"year\0{year}\0next\0{_next_nodes(rules, opts.as_of)}\n".encode())
    digest.update(f"signed\0{signing_store.state(con)}\n".encode())  # sign / unsign rebuilds
    tree_digest(digest, SQL_DIR, "*.sql")
    tree_digest(digest, EXPECTATIONS_DIR, "*.json")
    tree_digest(digest, REFERENCE_DIR, "*.csv")
    tree_digest(digest, REFERENCE_DIR, "*.toml")  # the catalog comments, bundled rules
    for folder in CODE_DIRS:
        tree_digest(digest, folder, "*.py")
    templates = templates_dir()  # a restyled report is written again
    tree_digest(digest, templates, "*", templates)
    return digest.hexdigest()


def _has_run_log(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_columns() where schema_name = 'meta' "
            "and table_name = 'run_log' and column_name = 'fingerprint'"
        ).fetchone()[0]
    ) and bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'raw' "
            "and table_name = 'files'"
        ).fetchone()[0]
    )


def unchanged_since(opts: RunOptions, rules: list[Rules]) -> LastPublish | None:
    """The last published run when this run would publish exactly what it published."""
    if not opts.work_path.exists() or not opts.marts_path.exists():
        return None
    warehouse.make_private(opts.work_path)
    con = duckdb.connect(str(opts.work_path), read_only=True)
    try:
        if not _has_run_log(con):
            return None
        last = con.execute(
            "select run_id, as_of_date, finished_at, fingerprint, published_sha256 "
            "from meta.run_log where outcome = 'published' and marts_path = ? "
            "order by finished_at desc limit 1",
            [str(opts.marts_path)],
        ).fetchone()
        if last is None or last[3] is None:
            return None
        if fingerprint(opts, rules, con) != last[3]:
            return None
    finally:
        con.close()
    if sha256_of(opts.marts_path) != last[4]:
        return None  # the published file was replaced or changed since
    return LastPublish(last[0], last[1], last[2])


def nothing_new_message(last: LastPublish) -> str:
    return (
        "没有新的输入，评估规则与程序也未改变：已发布的数据保持不变"
        f"（上次发布于北京时间 {as_shanghai(last.finished_at):%Y-%m-%d %H:%M}，"
        f"评估日期 {last.as_of}，运行编号 {last.run_id}）。如需重建，请加 --force。"
    )


def refuse_older(opts: RunOptions) -> None:
    """A run never replaces the published marts with an older night unless asked."""
    published = publish.published_as_of(opts.marts_path)
    if published is not None and opts.as_of < published and not opts.allow_older:
        message = (
            f"已发布的数据评估日期为 {published}，晚于本次的 {opts.as_of}；"
            "为免用较旧的结果覆盖较新的结果，本次未运行。"
            "如确需重放较早的日期并发布，请加 --allow-older。"
        )
        from employment_eval.warehouse import log_refused

        log_refused(opts, "nightly_refresh", message)
        raise RunFailed(message, opts.run_id)
