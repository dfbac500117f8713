"""The signed rows: taken from the published file when a year is signed, put back into every
build.

Where they re-enter: a signed year's rows replace the computed ones in the working database
— the `reference.rule_*` rows right after the reference tables are loaded (so the models
compute that year under the rules it was signed with), and each marts table's rows right after
that model is built, inside the build's transaction and before any model that reads it. Every
published table with a `year` column except the run's own facts and the signature record
(`store.NOT_PINNED`) is replaced: a signed year has exactly the rows it was signed with, even
none (a table that had no row of the year keeps none), whatever the raw folder holds now.
The audit and the export then see the signed rows like any others. A table that a later
version of the program adds is computed (the signature has no rows of it); a column it adds
is null in the signed rows."""

from __future__ import annotations

import hashlib

import duckdb

from employment_eval.signing import store

PUBLISHED_SCHEMAS = ("marts", "reference")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def pinned_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str]]:
    """(schema, table) of every published table of `catalog` with a `year` column that a
    signature holds."""
    rows = con.execute(
        "select distinct schema_name, table_name from duckdb_columns() "
        "where database_name = ? and schema_name in ('marts', 'reference') "
        "and column_name = 'year' order by 1, 2",
        [catalog],
    ).fetchall()
    return [(s, t) for s, t in rows if (s, t) not in store.NOT_PINNED]


def snapshot_name(schema: str, table: str, year: int) -> str:
    return f"{schema}__{table}__{year}"


def rows_digest(con: duckdb.DuckDBPyConnection, relations: list[tuple[str, str]]) -> str:
    """sha256 over the rows of each (label, relation) in order, every column, rows sorted: the
    same rows give the same digest wherever they are read (the working database, the
    published file)."""
    digest = hashlib.sha256(b"employment-eval signed rows v1\n")
    for label, relation in relations:
        rows = con.execute(f"select * from {relation} order by all").fetchall()
        digest.update(f"{label}\n{rows!r}\n".encode())
    return digest.hexdigest()


def published_digest(con: duckdb.DuckDBPyConnection, catalog: str, year: int) -> str:
    """The digest of a year's rows of every pinned table of `catalog` (a published file)."""
    relations = [
        (f"{s}.{t}", f"(select * from {_q(catalog)}.{_q(s)}.{_q(t)} where year = {int(year)})")
        for s, t in pinned_tables(con, catalog)
    ]
    return rows_digest(con, relations)


def take(con: duckdb.DuckDBPyConnection, catalog: str, year: int) -> tuple[int, str]:
    """Copy the year's rows of every pinned table of `catalog` (the published file, attached)
    into schema `signed`; returns (rows, digest). Call it inside the signing transaction."""
    total = 0
    relations = []
    for schema, table in pinned_tables(con, catalog):
        snap = snapshot_name(schema, table, year)
        con.execute(
            f"create or replace table {store.SCHEMA}.{_q(snap)} as select * "
            f"from {_q(catalog)}.{_q(schema)}.{_q(table)} where year = ? order by all",
            [year],
        )
        rows = con.execute(f"select count(*) from {store.SCHEMA}.{_q(snap)}").fetchone()[0]
        con.execute(
            f"insert into {store.SCHEMA}.snapshot_tables values (?, ?, ?, ?, ?)",
            [year, schema, table, snap, rows],
        )
        total += rows
        relations.append((f"{schema}.{table}", f"{store.SCHEMA}.{_q(snap)}"))
    return total, rows_digest(con, relations)


def drop(con: duckdb.DuckDBPyConnection, year: int) -> None:
    """Forget a year's signed rows (unsign)."""
    for (snap,) in con.execute(
        f"select snapshot from {store.SCHEMA}.snapshot_tables where year = ?", [year]
    ).fetchall():
        con.execute(f"drop table if exists {store.SCHEMA}.{_q(snap)}")
    con.execute(f"delete from {store.SCHEMA}.snapshot_tables where year = ?", [year])


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = ? and table_name = ? order by column_index",
            [schema, table],
        ).fetchall()
    ]


class Pinner:
    """Puts the signed rows back into a build (see the module docstring). Falsy when no year
    is signed: the build then runs exactly as without signatures."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.snapshots = store.snapshots(con)

    def __bool__(self) -> bool:
        return bool(self.snapshots)

    def _replace(self, con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
        target = _columns(con, schema, table)
        if not target:
            return  # not built here (a model selection without it)
        for year, snap in self.snapshots.get((schema, table), []):
            kept = set(_columns(con, store.SCHEMA, snap))
            cols = ", ".join(_q(c) for c in target if c in kept)
            con.execute(f"delete from {_q(schema)}.{_q(table)} where year = ?", [year])
            con.execute(
                f"insert into {_q(schema)}.{_q(table)} ({cols}) "
                f"select {cols} from {store.SCHEMA}.{_q(snap)}"
            )

    def reference(self, con: duckdb.DuckDBPyConnection) -> None:
        """The signed years' rules rows (reference.rule_*), after the reference is loaded."""
        for schema, table in self.snapshots:
            if schema == "reference":
                self._replace(con, schema, table)

    def after_model(self, con: duckdb.DuckDBPyConnection, model) -> None:
        """runner.build's hook: a marts table just built gets its signed years' rows."""
        if (model.schema, model.name) in self.snapshots and model.materialized == "table":
            self._replace(con, model.schema, model.name)
