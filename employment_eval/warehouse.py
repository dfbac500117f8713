"""The working database (--work): raw and staging layers, the parsed-file cache, the run log.

It holds personal data and is never given to analysts; the published marts file is built
from it by `publish.export_candidate`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

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
        outcome varchar not null,  -- running / published / failed
        message varchar
    )""",
    """create table if not exists meta.run_log_files (
        run_id varchar not null,
        kind varchar not null,
        source_file varchar not null,
        file_sha256 varchar not null,
        as_of_date date,
        is_included boolean
    )""",
)


def open_work(path: Path) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    for ddl in RUN_LOG_DDL:
        con.execute(ddl)
    return con


def log_run_start(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    flow: str,
    as_of: dt.date,
    raw_dir: Path,
    marts_path: Path,
) -> None:
    con.execute(
        "insert into meta.run_log values (?, ?, now()::timestamp, null, ?, ?, ?, 'running', null)",
        [run_id, flow, as_of, str(raw_dir), str(marts_path)],
    )


def log_run_files(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Record which files this run read (from the manifest ingestion wrote)."""
    con.execute(
        """insert into meta.run_log_files
        select run_id, kind, source_file, file_sha256, as_of_date, is_included
        from meta.current_files where run_id = ?""",
        [run_id],
    )


def log_run_end(
    con: duckdb.DuckDBPyConnection, run_id: str, outcome: str, message: str = ""
) -> None:
    con.execute(
        "update meta.run_log set finished_at = now()::timestamp, outcome = ?, message = ? "
        "where run_id = ?",
        [outcome, message[:4000] or None, run_id],
    )
