"""Build step: reference seeds and rules, the SQL macros, then every model in sql/.

A build in a new process costs little more than the models' SQL itself:
- the models' sqlglot analysis is read from a cache file beside the working database
  (`<work>.analysis.json`, runner.AnalysisCache: keyed by each model's text);
- the seeds, the rules tables and the macros are loaded again only when their fingerprint
  (the seed files, the rules tables' rows, macros.sql and the loader's code) differs from the
  one recorded in `meta.build_inputs` by the last load, or when a reference table's content
  (row count and a hash of its rows) or a macro is not what that load left;
- no row counts are taken (callers of build_models do not use them)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

from employment_eval import reference, runner
from employment_eval.paths import REFERENCE_DIR, SQL_DIR
from employment_eval.rules import Rules, available_years, load_rules
from employment_eval.signing.snapshot import Pinner

# Staging stays a view over the raw layer; intermediate models are read by several marts,
# so they are tables (computed once per build); marts are tables.
MATERIALIZATIONS = {"staging": "view", "intermediate": "table", "marts": "table"}
INPUTS_DDL = (
    "create schema if not exists meta",
    """create table if not exists meta.build_inputs (
        name varchar primary key,  -- 'reference': the seeds, rules tables and macros
        fingerprint varchar not null,
        loaded_at timestamp not null
    )""",
)


def load_all_rules(rules: list[Rules] | None = None) -> list[Rules]:
    """Every year that has a rules file (the marts hold every such year with data)."""
    return rules if rules is not None else [load_rules(y) for y in available_years()]


def build_models(
    con: duckdb.DuckDBPyConnection,
    rules: list[Rules] | None = None,
    sql_dir: Path = SQL_DIR,
    reference_dir: Path = REFERENCE_DIR,
) -> runner.BuildResult:
    load_reference(con, load_all_rules(rules), sql_dir, reference_dir)
    signed = Pinner(con)  # a signed year's rows replace the computed ones (signing.snapshot)
    signed.reference(con)
    cache_path = analysis_cache_path(con)
    cache = runner.AnalysisCache(cache_path) if cache_path is not None else None
    models = runner.discover(sql_dir, materializations=MATERIALIZATIONS, cache=cache)
    if cache is not None:
        cache.save()
    return runner.build(
        con, models, row_counts=False, after_each=signed.after_model if signed else None
    )


def analysis_cache_path(con: duckdb.DuckDBPyConnection) -> Path | None:
    """`<database file>.analysis.json` beside the database (None for an in-memory one)."""
    rows = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()
    if not rows or not rows[0][0] or rows[0][0] == ":memory:":
        return None
    db = Path(rows[0][0])
    return db.with_name(db.name + ".analysis.json")


def load_reference(
    con: duckdb.DuckDBPyConnection,
    rules: list[Rules],
    sql_dir: Path = SQL_DIR,
    reference_dir: Path = REFERENCE_DIR,
) -> bool:
    """The seeds, rules tables and macros, loaded unless the database already holds exactly
    these (same fingerprint, every table and macro present). Returns whether it loaded."""
    macros = (sql_dir / "macros.sql").read_text(encoding="utf-8")
    tables = runner.rules_tables(rules)
    fingerprint = reference_fingerprint(reference_dir, tables, macros)
    for ddl in INPUTS_DDL:
        con.execute(ddl)
    if _loaded(con, fingerprint):
        return False
    counts = runner.load_seeds(con, reference_dir, rules)
    con.execute(macros)
    expected = {"tables": _contents(con, sorted(counts)), "macros": _macro_names(con)}
    con.execute(
        "insert or replace into meta.build_inputs values ('reference', ?, now()::timestamp)",
        [f"{fingerprint}:{json.dumps(expected, sort_keys=True)}"],
    )
    return True


def reference_fingerprint(reference_dir: Path, tables: dict, macros: str) -> str:
    digest = hashlib.sha256()
    for name in reference.SEED_FILES:
        digest.update(name.encode())
        digest.update((Path(reference_dir) / f"{name}.csv").read_bytes())
    digest.update(repr(sorted(tables.items())).encode())
    digest.update(macros.encode())
    for module in (runner, reference):  # the loader's typing rules, the seed list
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def _macro_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select distinct function_name from duckdb_functions() "
        "where database_name = current_database() and function_type like '%macro%' "
        "and not internal order by 1"
    ).fetchall()
    return [r[0] for r in rows]


def _contents(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, str]:
    """'reference.x' → its row count and the sum of its rows' hashes (one query)."""
    existing = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database() and schema_name = ?",
            [runner.SEED_SCHEMA],
        ).fetchall()
    }
    present = [t for t in tables if t in existing]
    if not present:
        return {}
    parts = [
        f"select '{t}', count(*) || ':' || coalesce(sum(hash(r))::varchar, '') "
        f'from "{runner.SEED_SCHEMA}"."{t.split(".", 1)[1]}" as r'
        for t in present
    ]
    return dict(con.execute(" union all ".join(parts)).fetchall())


def _loaded(con: duckdb.DuckDBPyConnection, fingerprint: str) -> bool:
    """The recorded load has this fingerprint, and its tables (same content) and macros are
    all still there."""
    rows = con.execute(
        "select fingerprint from meta.build_inputs where name = 'reference'"
    ).fetchall()
    if not rows or not rows[0][0].startswith(fingerprint + ":"):
        return False
    try:
        expected = json.loads(rows[0][0][len(fingerprint) + 1 :])
        tables, macros = dict(expected["tables"]), set(expected["macros"])
    except (ValueError, KeyError, TypeError):
        return False
    return _contents(con, sorted(tables)) == tables and macros <= set(_macro_names(con))
