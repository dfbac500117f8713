"""The raw layer in the working DuckDB: parsed rows, the parsed-file cache, the run manifest.

Tables (schema `raw`): one per kind (schema.raw_table_ddl), `raw.files` (the cache: a file
whose content hash and parser fingerprint are listed there is not parsed again) and
`raw.file_warnings` (per-file warnings, replayed on a cache hit). Schema `meta`:
`current_files` and `run_context`, rewritten by every successful run. Files with errors are
never cached: their rows go to connection-local temp tables (`ingest_pending_<kind>`) so that the
cross-file rules still see them, and vanish with the connection or at the end of the run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from employment_eval.ingest.schema import COLUMNS, RESOLVED, raw_table_ddl
from employment_eval.ingest.validated import Validated
from employment_eval.paths import RAW_KINDS
from employment_eval.problems import Problem

FILES_DDL = """
create table if not exists raw.files (
    file_sha256 varchar not null,
    kind varchar not null,
    parser_fingerprint varchar not null,
    source_file varchar not null,
    as_of_date date,
    row_count integer not null,
    ingested_at timestamp not null,
    as_of_source varchar  -- registrations: 'column' (导出日期) or 'file_name'
)"""

WARNINGS_DDL = """
create table if not exists raw.file_warnings (
    file_sha256 varchar not null,
    kind varchar not null,
    source_row integer,
    column_name varchar,
    reason varchar not null
)"""

CURRENT_FILES_DDL = """
create table if not exists meta.current_files (
    run_id varchar not null,
    kind varchar not null,
    source_file varchar not null,
    file_sha256 varchar not null,
    as_of_date date,
    is_included boolean not null
)"""

RUN_CONTEXT_DDL = """
create table if not exists meta.run_context (
    run_id varchar not null,
    as_of_date date not null
)"""


@dataclass(frozen=True)
class CacheEntry:
    kind: str
    sha256: str
    as_of_date: date | None
    as_of_source: str | None
    row_count: int
    source_file: str  # the name it was first parsed under


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists meta")
    for kind in RAW_KINDS:
        con.execute(raw_table_ddl(kind))
    for ddl in (FILES_DDL, WARNINGS_DDL, CURRENT_FILES_DDL, RUN_CONTEXT_DDL):
        con.execute(ddl)


def cached_files(
    con: duckdb.DuckDBPyConnection, fingerprint: str
) -> dict[tuple[str, str], CacheEntry]:
    rows = con.execute(
        "select kind, file_sha256, as_of_date, as_of_source, row_count, source_file from raw.files "
        "where parser_fingerprint = ?",
        [fingerprint],
    ).fetchall()
    return {(r[0], r[1]): CacheEntry(*r) for r in rows}


def cached_warnings(
    con: duckdb.DuckDBPyConnection, kind: str, sha256: str, rel: str
) -> list[Problem]:
    rows = con.execute(
        "select source_row, column_name, reason from raw.file_warnings "
        "where kind = ? and file_sha256 = ? order by source_row, column_name",
        [kind, sha256],
    ).fetchall()
    return [Problem(rel, r[0], r[1], r[2], "warning") for r in rows]


def column_list(kind: str) -> list[str]:
    text = [c.name for c in COLUMNS[kind]]
    return ["file_sha256", "source_file", "source_row", *text, "extra_columns", *RESOLVED[kind]]


def _select_exprs(kind: str) -> str:
    """The INSERT's select list over `_frame`: the provenance constants are its first two
    parameters (file_sha256, source_file)."""
    exprs = ["?::varchar", "?::varchar", "cast(source_row as integer)"]
    exprs += [f'"{c.name}"' for c in COLUMNS[kind]]
    exprs.append("extra_columns")
    exprs += [f'cast("{n}" as {t}) as "{n}"' for n, t in RESOLVED[kind].items()]
    return ", ".join(exprs)


def _frame(v: Validated):
    """The validated rows as Arrow without copying their text (string views; a 10-million-row
    export would otherwise be copied once more); the file's hash and name are added by the
    INSERT rather than repeated in every row here."""
    provenance = ("file_sha256", "source_file")
    columns = [c for c in column_list(v.kind) if c not in provenance]
    return v.data.select(columns).to_arrow(compat_level=pl.CompatLevel.newest())


def _insert(con: duckdb.DuckDBPyConnection, target: str, v: Validated, sha256: str) -> None:
    name = f"__ingest_{v.kind}"
    con.register(name, _frame(v))
    try:
        cols = ", ".join(f'"{c}"' for c in column_list(v.kind))
        con.execute(
            f"insert into {target} ({cols}) select {_select_exprs(v.kind)} from {name}",
            [sha256, v.rel],
        )
    finally:
        con.unregister(name)


COMMIT_ROWS = 500_000  # rows stored after which the ingest transaction commits


class Transaction:
    """The ingest transaction (see `transaction`); `stored(rows)` after each file stored."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.rows = 0

    def stored(self, rows: int) -> None:
        self.rows += rows
        if self.rows >= COMMIT_ROWS:
            self.con.execute("commit")
            self.con.execute("begin transaction")
            self.rows = 0


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[Transaction]:
    """One transaction around the files parsed in a run: one commit (one WAL flush) for many
    files instead of one per file — committed again once COMMIT_ROWS rows are stored (DuckDB
    holds a transaction's appended rows in memory until it commits: a season of millions of
    rows in one transaction held gigabytes). A file's rows, cache entry and warnings are
    always in one transaction; an exception rolls back the files since the last commit
    (they are parsed again next time)."""
    con.execute("begin transaction")
    try:
        yield Transaction(con)
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def save_clean(con: duckdb.DuckDBPyConnection, v: Validated, sha256: str, fingerprint: str) -> None:
    """Store a file without errors in the raw layer and the cache, replacing any earlier
    parse of the same content (another parser fingerprint). Call it inside `transaction`."""
    earlier = con.execute(
        "select count(*) from raw.files where kind = ? and file_sha256 = ?", [v.kind, sha256]
    ).fetchall()[0][0]
    if earlier:  # rows are only ever stored together with their raw.files entry
        con.execute(f"delete from raw.{v.kind} where file_sha256 = ?", [sha256])
        con.execute("delete from raw.files where kind = ? and file_sha256 = ?", [v.kind, sha256])
        con.execute(
            "delete from raw.file_warnings where kind = ? and file_sha256 = ?", [v.kind, sha256]
        )
    _insert(con, f"raw.{v.kind}", v, sha256)
    con.execute(
        "insert into raw.files values (?, ?, ?, ?, ?, ?, current_timestamp, ?)",
        [sha256, v.kind, fingerprint, v.rel, v.as_of_date, v.data.height, v.as_of_source],
    )
    warnings = [(sha256, v.kind, p.row, p.column, p.reason) for p in v.problems]
    if warnings:
        con.executemany("insert into raw.file_warnings values (?, ?, ?, ?, ?)", warnings)


def pending_table(kind: str) -> str:
    return f"ingest_pending_{kind}"


def save_pending(con: duckdb.DuckDBPyConnection, v: Validated, sha256: str) -> None:
    """Rows of a file with errors: connection-local, never cached."""
    ddl = raw_table_ddl(v.kind).replace(
        f"create table if not exists raw.{v.kind}",
        f"create temp table if not exists {pending_table(v.kind)}",
    )
    con.execute(ddl)
    _insert(con, pending_table(v.kind), v, sha256)


def drop_pending(con: duckdb.DuckDBPyConnection) -> None:
    for kind in RAW_KINDS:
        con.execute(f"drop table if exists temp.{pending_table(kind)}")


@dataclass(frozen=True)
class CurrentFile:
    kind: str
    source_file: str
    sha256: str
    as_of_date: date | None
    is_included: bool
    is_representative: bool  # the one name of its content whose rows are read
    # 'raw' (clean, cached), 'pending' (row errors: rows in the temp table), or 'broken'
    # (a file-level error: its rows, if any, are left out of the cross-file views)
    stored: str


def register_current(con: duckdb.DuckDBPyConnection, files: list[CurrentFile]) -> None:
    """Temp views ingest_cur_<kind>: the rows of the current representative files, each carrying its
    current name, as-of date and inclusion (what the cross-file rules look at)."""
    frame = pl.DataFrame(
        {
            "kind": [f.kind for f in files],
            "cur_file": [f.source_file for f in files],
            "cur_sha256": [f.sha256 for f in files],
            "cur_as_of": [f.as_of_date for f in files],
            "included": [f.is_included for f in files],
            "stored": [f.stored for f in files],
            "representative": [f.is_representative for f in files],
        },
        schema={
            "kind": pl.String,
            "cur_file": pl.String,
            "cur_sha256": pl.String,
            "cur_as_of": pl.Date,
            "included": pl.Boolean,
            "stored": pl.String,
            "representative": pl.Boolean,
        },
    )
    con.register("__cur_files", frame.to_arrow())
    try:
        con.execute("create or replace temp table ingest_cur_files as select * from __cur_files")
    finally:
        con.unregister("__cur_files")
    for kind in RAW_KINDS:
        pending = pending_table(kind)
        has_pending = con.execute(
            "select count(*) from duckdb_tables() where temporary and table_name = ?", [pending]
        ).fetchone()[0]
        parts = [
            f"""select r.* exclude (source_file), c.cur_file as source_file,
                    c.cur_as_of, c.included
                from raw.{kind} r join ingest_cur_files c
                  on c.kind = '{kind}' and c.cur_sha256 = r.file_sha256
                 and c.stored = 'raw' and c.representative"""
        ]
        if has_pending:
            parts.append(
                f"""select r.* exclude (source_file), c.cur_file as source_file,
                        c.cur_as_of, c.included
                    from temp.{pending} r join ingest_cur_files c
                      on c.kind = '{kind}' and c.cur_sha256 = r.file_sha256
                     and c.stored = 'pending' and c.representative"""
            )
        con.execute(f"create or replace temp view ingest_cur_{kind} as {' union all '.join(parts)}")


def drop_current(con: duckdb.DuckDBPyConnection) -> None:
    for kind in RAW_KINDS:
        con.execute(f"drop view if exists temp.ingest_cur_{kind}")
    con.execute("drop table if exists temp.ingest_cur_files")


def write_manifest(
    con: duckdb.DuckDBPyConnection, run_id: str, as_of: date, files: list[CurrentFile]
) -> None:
    rows = [(run_id, f.kind, f.source_file, f.sha256, f.as_of_date, f.is_included) for f in files]
    con.execute("begin transaction")
    try:
        con.execute("delete from meta.current_files")
        if rows:
            con.executemany("insert into meta.current_files values (?, ?, ?, ?, ?, ?)", rows)
        con.execute("delete from meta.run_context")
        con.execute("insert into meta.run_context values (?, ?)", [run_id, as_of])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
