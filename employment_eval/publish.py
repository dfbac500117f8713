"""Write–audit–publish: the marts are copied into a new DuckDB file beside the published one,
audited there, and only then renamed over it (atomic on one filesystem). A reader never sees a
half-built file; a failed run leaves the previous file byte for byte as it was."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path

import duckdb

from employment_eval import fsmodes
from employment_eval.faults import pause_point
from employment_eval.ingest.discover import sha256_of

PUBLISHED_SCHEMAS = ("marts", "reference")
# The published file is written in a storage format that DuckDB 1.2 and later read (the
# DuckDB CLI of PyPI, DBeaver, R and older Python environments), not only DuckDB 2.0.
STORAGE_VERSION = "v1.2.0"


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


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def export_candidate(
    con: duckdb.DuckDBPyConnection,
    marts_path: Path,
    run_id: str,
    comments: dict[str, tuple[str, dict[str, str]]] | None = None,
) -> Path:
    """Copy the marts and reference tables of the working database into a new file, in the
    published storage version, with each table's and column's documentation in the catalog
    (`comments`: 'schema.table' → (table comment, {column: comment}))."""
    fsmodes.public_dir(marts_path.parent)
    comments = catalog_comments() if comments is None else comments
    target = candidate_path(marts_path, run_id)
    discard(target)
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = current_database() and schema_name in ('marts', 'reference') "
        "order by schema_name, table_name"
    ).fetchall()
    try:
        con.execute(
            f"attach ? as candidate (storage_version {_literal(STORAGE_VERSION)})", [str(target)]
        )
        try:
            for schema in PUBLISHED_SCHEMAS:
                con.execute(f"create schema if not exists candidate.{_quote(schema)}")
            for schema, table in tables:
                name = f"candidate.{_quote(schema)}.{_quote(table)}"
                con.execute(
                    f"create table {name} as select * from {_quote(schema)}.{_quote(table)} "
                    "order by all"
                )
                _comment(con, name, comments.get(f"{schema}.{table}"))
                pause_point("exporting")
            con.execute("checkpoint candidate")
        finally:
            with contextlib.suppress(duckdb.Error):
                con.execute("detach candidate")
    except BaseException:
        discard(target)  # a half-written candidate (disk full, …) is never left behind
        raise
    return target


def catalog_comments() -> dict[str, tuple[str, dict[str, str]]]:
    """The documentation of every published table: the marts models' own header and column
    comments (sql/), and reference/columns.toml for the reference tables."""
    from employment_eval import runner
    from employment_eval.paths import SQL_DIR

    docs: dict[str, tuple[str, dict[str, str]]] = {
        model.qualified_name: (" ".join(model.description.split()), dict(model.column_docs))
        for model in runner.discover(SQL_DIR)
        if model.schema == "marts"
    }
    docs.update(reference_docs())
    return docs


def reference_docs() -> dict[str, tuple[str, dict[str, str]]]:
    """The documentation of the reference tables (reference/columns.toml)."""
    import tomllib

    from employment_eval.paths import REFERENCE_DIR

    with open(REFERENCE_DIR / "columns.toml", "rb") as fh:
        tables = tomllib.load(fh)
    return {
        f"reference.{name}": (doc["table"], dict(doc.get("columns", {})))
        for name, doc in tables.items()
    }


def _comment(
    con: duckdb.DuckDBPyConnection, name: str, docs: tuple[str, dict[str, str]] | None
) -> None:
    """COMMENT ON the table and its columns (DuckDB takes no parameters there: the text is
    quoted as a string literal)."""
    if docs is None:
        return
    table_doc, column_docs = docs
    if table_doc:
        con.execute(f"comment on table {name} is {_literal(table_doc)}")
    for column, doc in column_docs.items():
        con.execute(f"comment on column {name}.{_quote(column)} is {_literal(doc)}")


comment = _comment  # also used by signing.republish


def published_run(marts_path: Path) -> tuple[int, dt.date] | None:
    """(year, as-of date) of the run that wrote the published file (None when there is none,
    or an older file without marts.run_info)."""
    if not marts_path.exists():
        return None
    con = open_published(marts_path)
    try:
        found = con.execute(
            "select count(*) from duckdb_tables() where database_name = 'published' "
            "and schema_name = 'marts' and table_name = 'run_info'"
        ).fetchone()[0]
        if not found:
            return None
        row = con.execute(
            "select year, as_of_date from marts.run_info order by as_of_date desc limit 1"
        ).fetchone()
        return (int(row[0]), row[1]) if row else None
    finally:
        con.close()


def published_as_of(marts_path: Path) -> dt.date | None:
    """The as-of date of the published file (None when there is none)."""
    run = published_run(marts_path)
    return run[1] if run else None


def published_year(marts_path: Path) -> int | None:
    """The year the published file's run evaluated (its console summary and reports)."""
    run = published_run(marts_path)
    return run[0] if run else None


def publish(candidate: Path, marts_path: Path) -> None:
    """Atomically replace the published marts with the audited candidate (readable by the
    analysts: the working area's umask made it private)."""
    fsmodes.make_public(candidate)
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
    con.execute("attach ? as published (read_only)", [str(marts_path)])
    con.execute("use published")
    return con


def fetch_dicts(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | dict | None = None
) -> list[dict]:
    """The rows of a query as dicts keyed by column name (the readers of the published file:
    year-end files, morning report, trends, artifacts)."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
