"""The published file rewritten with new signature tables, without a rebuild: the signature
models (staging.stg_signature*, marts.signature*, marts.signed_files) are built from the record
in the working database, then every table of the published file is copied into a new file —
the signature tables from the working database, every other table from the published file
itself, values unchanged — with the catalog's documentation, and renamed over it (atomic,
like every publish). The caller holds both locks."""

from __future__ import annotations

from pathlib import Path

import duckdb

from employment_eval import build, fsmodes, publish, runner
from employment_eval.paths import SQL_DIR

SIGNATURE_TABLES = ("signatures", "signature_events", "signed_files")
SIGNATURE_MODELS = (
    "staging.stg_signatures",
    "staging.stg_signature_events",
    "staging.stg_signed_files",
    *(f"marts.{t}" for t in SIGNATURE_TABLES),
)
OLD, NEW = "republish_source", "republish_candidate"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def republish(con: duckdb.DuckDBPyConnection, marts_path: Path, tag: str) -> str:
    """Rewrite the published file with the signature tables of the record; returns its
    sha256."""
    models = runner.discover(SQL_DIR, materializations=build.MATERIALIZATIONS)
    runner.build(con, models, select=list(SIGNATURE_MODELS), row_counts=False)
    candidate = publish.candidate_path(marts_path, tag)
    publish.discard(candidate)
    comments = publish.catalog_comments()
    con.execute(f"attach ? as {OLD} (read_only)", [str(marts_path)])
    try:
        con.execute(
            f"attach ? as {NEW} (storage_version '{publish.STORAGE_VERSION}')", [str(candidate)]
        )
        try:
            tables = con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = ? "
                "and schema_name in ('marts', 'reference') order by 1, 2",
                [OLD],
            ).fetchall()
            for schema in publish.PUBLISHED_SCHEMAS:
                con.execute(f"create schema if not exists {NEW}.{_q(schema)}")
            copied = [(s, t) for s, t in tables if not (s == "marts" and t in SIGNATURE_TABLES)]
            sources = [(s, t, f"{OLD}.{_q(s)}.{_q(t)}") for s, t in copied]
            sources += [("marts", t, f"marts.{_q(t)}") for t in SIGNATURE_TABLES]
            for schema, table, source in sorted(sources):
                name = f"{NEW}.{_q(schema)}.{_q(table)}"
                con.execute(f"create table {name} as select * from {source} order by all")
                publish.comment(con, name, comments.get(f"{schema}.{table}"))
            con.execute(f"checkpoint {NEW}")
        finally:
            con.execute(f"detach {NEW}")
    except BaseException:
        publish.discard(candidate)
        raise
    finally:
        con.execute(f"detach {OLD}")
    digest = publish.sha256_file(candidate)
    fsmodes.public_dir(marts_path.parent)
    publish.publish(candidate, marts_path)
    return digest
