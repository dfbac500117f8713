"""Write–audit–publish: the marts are copied into a new DuckDB file beside the published one,
audited there, and only then renamed over it (atomic on one filesystem). A reader never sees a
half-built file; a failed run leaves the previous file byte for byte as it was."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from employment_eval.faults import pause_point
from employment_eval.ingest.read import sha256_of

PUBLISHED_SCHEMAS = ("marts", "reference")


def candidate_path(marts_path: Path, run_id: str) -> Path:
    return marts_path.with_name(f".{marts_path.name}.{run_id}.building")


def stale_candidates(marts_path: Path) -> list[Path]:
    """Candidate files (and their WAL) left beside the marts by a run that was killed."""
    return sorted(marts_path.parent.glob(f".{marts_path.name}.*.building*"))


def remove_stale_candidates(marts_path: Path) -> list[Path]:
    """Delete what killed runs left behind; called at the start of a run, which holds the
    working database's lock. The published file itself is never touched."""
    stale = stale_candidates(marts_path)
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


sha256_file = sha256_of  # one definition of a file's content hash (ingest.read)


def export_candidate(con: duckdb.DuckDBPyConnection, marts_path: Path, run_id: str) -> Path:
    """Copy the marts and reference tables of the working database into a new file."""
    marts_path.parent.mkdir(parents=True, exist_ok=True)
    target = candidate_path(marts_path, run_id)
    target.unlink(missing_ok=True)
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = current_database() and schema_name in ('marts', 'reference') "
        "order by schema_name, table_name"
    ).fetchall()
    con.execute(f"attach '{target}' as candidate")
    try:
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"create schema if not exists candidate.{schema}")
        for schema, table in tables:
            con.execute(
                f"create table candidate.{schema}.{table} as "
                f"select * from {schema}.{table} order by all"
            )
            pause_point("exporting")
        con.execute("checkpoint candidate")
    finally:
        con.execute("detach candidate")
    return target


def publish(candidate: Path, marts_path: Path) -> None:
    """Atomically replace the published marts with the audited candidate."""
    with open(candidate, "rb") as fh:
        os.fsync(fh.fileno())
    pause_point("renaming")
    os.replace(candidate, marts_path)
    dir_fd = os.open(marts_path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def discard(candidate: Path | None) -> None:
    if candidate is not None:
        candidate.unlink(missing_ok=True)
        Path(str(candidate) + ".wal").unlink(missing_ok=True)


def open_published(marts_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a published (or candidate) marts file in which `marts.x` and
    `reference.x` always mean the schemas: the file is attached under a fixed catalog name,
    so a file called marts.duckdb cannot shadow the schema `marts`."""
    con = duckdb.connect()
    con.execute(f"attach '{marts_path}' as published (read_only)")
    con.execute("use published")
    return con
