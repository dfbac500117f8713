"""The working database (--work): raw and staging layers, the parsed-file cache, the run log.

It holds personal data and is never given to analysts; the published marts file is built
from it by `publish.export_candidate`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from employment_eval import fsmodes, memory

RUN_LOG_DDL = (
    "create schema if not exists meta",
    """create table if not exists meta.run_log (
        run_id varchar primary key,
        flow varchar not null,
        started_at timestamp not null,
        finished_at timestamp,
        as_of_date date not null,
        raw_dir varchar not null,
        marts_path varchar not null,
        outcome varchar not null,  -- running / published / failed / interrupted / refused
        message varchar
    )""",
    "alter table meta.run_log add column if not exists report_dir varchar",
    "alter table meta.run_log add column if not exists published_sha256 varchar",
    "alter table meta.run_log add column if not exists fingerprint varchar",
    """create table if not exists meta.run_log_files (
        run_id varchar not null,
        kind varchar not null,
        source_file varchar not null,
        file_sha256 varchar not null,
        as_of_date date,
        is_included boolean
    )""",
    """create table if not exists meta.run_facts (
        run_id varchar primary key,
        year integer not null,
        as_of_date date not null,
        rules_file varchar not null,
        rules_sha256 varchar not null,
        policy_number varchar,
        code_version varchar not null,
        generated_at timestamp not null,
        input_files integer not null
    )""",
    """create table if not exists meta.run_log_outputs (
        run_id varchar not null,
        kind varchar not null,  -- marts (the published DuckDB file), …
        path varchar not null,
        file_sha256 varchar not null,
        bytes bigint not null,
        published_at timestamp not null
    )""",
)


def open_work(path: Path) -> duckdb.DuckDBPyConnection:
    """Open (or create) the working database in its private folder."""
    make_private(path)
    con = duckdb.connect(str(path))
    memory.limit(con, path)  # bounded buffer pool, spilling beside the database
    ensure_meta(con)
    return con


def make_private(path: Path) -> None:
    """The working database's folder made private (0700), and the database and its
    write-ahead log if an older version left them readable by others (0600). Every command
    that opens the working database calls it first."""
    fsmodes.private_dir(path.parent)
    for existing in (path, path.with_name(path.name + ".wal")):
        fsmodes.private_file(existing)


def ensure_meta(con: duckdb.DuckDBPyConnection) -> None:
    from employment_eval.signing import store  # the signatures (read by the models)

    for ddl in RUN_LOG_DDL:
        con.execute(ddl)
    store.ensure_schema(con)


def record_run_facts(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    year: int,
    as_of: dt.date,
    rules_file: Path,
    rules_sha256: str,
    policy_number: str,
    code_version: str,
    generated_at: dt.datetime,
    input_files: int,
) -> None:
    """What `marts.run_info` says of this run (read by sql/marts/run_info.sql)."""
    con.execute(
        "insert or replace into meta.run_facts values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            year,
            as_of,
            str(rules_file),
            rules_sha256,
            policy_number or None,
            code_version,
            generated_at,
            input_files,
        ],
    )


def log_run_start(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    flow: str,
    as_of: dt.date,
    raw_dir: Path,
    marts_path: Path,
) -> int:
    """Record the run's start. A run still marked `running` was killed (this run holds the
    working database's lock, so no other run is active on it): it is marked `interrupted`.
    Returns how many such runs were found."""
    stale = con.execute(
        "update meta.run_log set outcome = 'interrupted', "
        "message = coalesce(message, '运行被中断（进程被终止）') "
        "where outcome = 'running' returning run_id"
    ).fetchall()
    con.execute(
        "insert into meta.run_log (run_id, flow, started_at, as_of_date, raw_dir, marts_path, "
        "outcome) values (?, ?, now()::timestamp, ?, ?, ?, 'running')",
        [run_id, flow, as_of, str(raw_dir), str(marts_path)],
    )
    return len(stale)


def record_run(con: duckdb.DuckDBPyConnection, opts, rules: list, input_files: int) -> None:
    """`record_run_facts` for a run's options and its loaded rules (the run's year's file)."""
    from employment_eval.options import now_in_shanghai
    from employment_eval.version import code_version

    this_year = next(r for r in rules if r.year == opts.year)
    record_run_facts(
        con,
        run_id=opts.run_id,
        year=opts.year,
        as_of=opts.as_of,
        rules_file=this_year.path,
        rules_sha256=this_year.sha256,
        policy_number=this_year.policy_number,
        code_version=code_version(),
        generated_at=now_in_shanghai(),
        input_files=input_files,
    )


def log_run_report(con: duckdb.DuckDBPyConnection, run_id: str, report_dir: Path) -> None:
    """Where the run's quality report and Data Docs are (the working folder)."""
    con.execute(
        "update meta.run_log set report_dir = ? where run_id = ?", [str(report_dir), run_id]
    )


def log_run_output(
    con: duckdb.DuckDBPyConnection, run_id: str, kind: str, path: Path, sha256: str, size: int
) -> None:
    """Record a file the run published (its content hash as published)."""
    con.execute(
        "insert into meta.run_log_outputs values (?, ?, ?, ?, ?, now()::timestamp)",
        [run_id, kind, str(path), sha256, size],
    )
    if kind == "marts":
        con.execute(
            "update meta.run_log set published_sha256 = ? where run_id = ?", [sha256, run_id]
        )


def log_run_fingerprint(
    con: duckdb.DuckDBPyConnection, run_id: str, fingerprint: str | None
) -> None:
    """What the published marts depend on (employment_eval.nochange)."""
    con.execute("update meta.run_log set fingerprint = ? where run_id = ?", [fingerprint, run_id])


def log_run_files(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Record which files this run read (from the manifest ingestion wrote)."""
    con.execute(
        """insert into meta.run_log_files
        select run_id, kind, source_file, file_sha256, as_of_date, is_included
        from meta.current_files where run_id = ?""",
        [run_id],
    )


def log_refused(opts, flow: str, message: str) -> None:
    """A run refused before it started (e.g. an as-of older than the published one) is in the
    run log too, with its reason (the caller holds the working database's lock)."""
    con = open_work(opts.work_path)
    try:
        log_run_start(
            con,
            run_id=opts.run_id,
            flow=flow,
            as_of=opts.as_of,
            raw_dir=opts.raw_dir,
            marts_path=opts.marts_path,
        )
        log_run_end(con, opts.run_id, "refused", message)
    finally:
        con.close()


def log_run_end(
    con: duckdb.DuckDBPyConnection, run_id: str, outcome: str, message: str = ""
) -> None:
    con.execute(
        "update meta.run_log set finished_at = now()::timestamp, outcome = ?, message = ? "
        "where run_id = ?",
        [outcome, message[:4000] or None, run_id],
    )
