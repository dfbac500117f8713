"""A small dbt/SQLMesh-style model runner for the SQL under sql/.

A model is one SELECT query in `sql/<schema>/<name>.sql`; it becomes the view or table
`<schema>.<name>`. Its dependencies are read from the SQL with sqlglot (never declared twice):
every schema-qualified table reference that is not a CTE is either another model or a source
(a table or view that already exists in the connection, e.g. `raw.registrations`).

Header comments document the model: free text (the first line states the grain) plus the
optional directives `-- materialized: view|table` and `-- grain: col_a, col_b`. Trailing
comments on the projections of the final SELECT document the columns (`column_docs`).

`load_seeds` loads the reference CSVs and the rules tables into the schema `reference`;
`build` creates every model in dependency order inside one transaction.

The sqlglot analysis of a model (dependencies, grain, column docs, executable body) is pure in
the file's text: it is cached in the process and, through `AnalysisCache`, across processes in
a small JSON file keyed by the sha256 of the text (invalidated by another sqlglot version or
another version of this module), so a new process does not parse unchanged models again."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import fnmatch
import functools
import hashlib
import heapq
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.optimizer.scope import traverse_scope
from sqlglot.tokens import Token, TokenType

from employment_eval import reference
from employment_eval.paths import REFERENCE_DIR, SQL_DIR
from employment_eval.rules import Rules

DIALECT = "duckdb"
MATERIALIZATIONS = ("view", "table")
DEFAULT_MATERIALIZATIONS: Mapping[str, str] = {
    "staging": "view",
    "intermediate": "view",
    "marts": "table",
}
FALLBACK_MATERIALIZATION = "view"
SEED_SCHEMA = "reference"

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DIRECTIVE = re.compile(r"^(materialized|grain)\s*:\s*(.*)$", re.IGNORECASE)
_INSERT_CHUNK = 200


class ModelError(Exception):
    """A model (or seed) cannot be read, resolved or built; the message names the file."""


@dataclass(frozen=True)
class Model:
    """One SQL model file. `sql` is the file's original text, executed as written."""

    schema: str
    name: str
    path: Path
    sql: str
    depends_on: set[str]
    materialized: str
    grain: tuple[str, ...] = ()
    description: str = ""
    column_docs: dict[str, str] = field(default_factory=dict)
    body: str = ""  # the query without its trailing semicolon(s): what `build` executes

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class ModelRun:
    """How one model was built: seconds spent and, for tables, the row count."""

    model: Model
    seconds: float
    rows: int | None

    @property
    def name(self) -> str:
        return self.model.qualified_name

    @property
    def materialized(self) -> str:
        return self.model.materialized


@dataclass
class BuildResult:
    """Every model built, in build order, and the total wall time."""

    models: list[ModelRun]
    seconds: float

    @property
    def timings(self) -> dict[str, float]:
        return {run.name: run.seconds for run in self.models}

    @property
    def row_counts(self) -> dict[str, int]:
        return {run.name: run.rows for run in self.models if run.rows is not None}


# --- discovery and parsing ---------------------------------------------------------------


def discover(
    sql_dir: Path = SQL_DIR,
    *,
    materializations: Mapping[str, str] = DEFAULT_MATERIALIZATIONS,
    cache: AnalysisCache | None = None,
) -> list[Model]:
    """Every model under `sql_dir/<schema>/<name>.sql`, sorted by qualified name.

    Files directly in `sql_dir` (e.g. macros.sql) and names starting with `_` are ignored.
    `cache`: analyses kept across processes (see AnalysisCache)."""
    sql_dir = Path(sql_dir)
    if not sql_dir.is_dir():
        raise ModelError(f"model folder {sql_dir} does not exist")
    models: dict[str, Model] = {}
    for folder in sorted(p for p in sql_dir.iterdir() if p.is_dir()):
        if folder.name.startswith(("_", ".")):
            continue
        default = materializations.get(folder.name, FALLBACK_MATERIALIZATION)
        for path in sorted(folder.glob("*.sql")):
            if path.name.startswith("_"):
                continue
            model = parse_model(path, default_materialized=default, cache=cache)
            if model.qualified_name in models:
                other = models[model.qualified_name].path
                raise ModelError(f"{path}: model {model.qualified_name} also defined in {other}")
            models[model.qualified_name] = model
    return [models[k] for k in sorted(models)]


def parse_model(
    path: Path,
    *,
    default_materialized: str = FALLBACK_MATERIALIZATION,
    cache: AnalysisCache | None = None,
) -> Model:
    """Read one model file; the folder is the schema, the file name (without .sql) the table."""
    path = Path(path)
    schema, name = path.parent.name, path.stem
    for part in (schema, name):
        if not _IDENTIFIER.match(part):
            raise ModelError(f"{path}: '{part}' is not a valid lower-case SQL name")
    text = path.read_text(encoding="utf-8-sig")
    return _parse_text(path, schema, name, text, default_materialized, cache)


def _parse_text(
    path: Path,
    schema: str,
    name: str,
    text: str,
    default_materialized: str,
    cache: AnalysisCache | None = None,
) -> Model:
    description, directives = parse_header(text, path)
    materialized = directives.get("materialized", default_materialized)
    if materialized not in MATERIALIZATIONS:
        raise ModelError(f"{path}: materialized must be view or table, not '{materialized}'")
    cached = cache.get(text) if cache is not None else None  # (marks the entry as used)
    analysis = cached or _SEEN.get(text) or _analyse(path, text)
    if cache is not None and cached is None:
        cache.put(text, analysis)
    _SEEN[text] = analysis  # later discoveries in this process (audit, catalog comments)
    depends_on, grain, docs, body_end = analysis
    return Model(
        schema=schema,
        name=name,
        path=path,
        sql=text,
        depends_on=set(depends_on),
        materialized=materialized,
        grain=grain,
        description=description,
        column_docs=dict(docs),
        body=text[:body_end],
    )


Analysis = tuple[frozenset[str], tuple[str, ...], tuple[tuple[str, str], ...], int]
_SEEN: dict[str, Analysis] = {}  # model text → its analysis, in this process


@functools.lru_cache(maxsize=512)
def _analyse(path: Path, text: str) -> Analysis:
    """The sqlglot work (pure in the file's text, whatever the materialization): cached, since
    the build and the audit both discover the models. The last item is the length of the
    query's body (`query_body`)."""
    _, directives = parse_header(text, path)
    tree = _parse_query(text, path)
    grain = _parse_grain(directives.get("grain"), path)
    docs = tuple(column_docs(tree).items())
    return frozenset(find_dependencies(tree, path)), grain, docs, len(query_body(text))


def _code_version() -> str:
    """sqlglot's version and this module's source: an analysis is reused only by the same."""
    source = Path(__file__).read_bytes()
    return f"sqlglot {sqlglot.__version__}; runner {hashlib.sha256(source).hexdigest()[:16]}"


class AnalysisCache:
    """Model analyses kept across processes in a JSON file (e.g. beside the working
    database), keyed by the sha256 of the model's text. Entries made by another sqlglot or
    another version of this module are ignored; a cache that cannot be read is empty (the
    models are parsed again), one that cannot be written is skipped."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.version = _code_version()
        self.entries: dict[str, list] = {}
        self.used: set[str] = set()
        self.changed = False
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") == self.version and isinstance(data.get("models"), dict):
                self.entries = data["models"]

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get(self, text: str) -> Analysis | None:
        key = self.key(text)
        entry = self.entries.get(key)
        if entry is None:
            return None
        try:
            deps, grain, docs, body_end = entry
            analysis = (
                frozenset(deps),
                tuple(grain),
                tuple((str(c), str(d)) for c, d in docs),
                int(body_end),
            )
        except (TypeError, ValueError):
            return None
        self.used.add(key)
        return analysis

    def put(self, text: str, analysis: Analysis) -> None:
        deps, grain, docs, body_end = analysis
        key = self.key(text)
        self.entries[key] = [sorted(deps), list(grain), [list(d) for d in docs], body_end]
        self.used.add(key)
        self.changed = True

    def save(self) -> None:
        """Write the entries used since loading (others belong to older model texts)."""
        if not self.changed and set(self.entries) == self.used:
            return
        models = {k: v for k, v in self.entries.items() if k in self.used}
        text = json.dumps({"version": self.version, "models": models}, ensure_ascii=False)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)


def parse_header(text: str, path: Path | str = "<sql>") -> tuple[str, dict[str, str]]:
    """The leading `--` comment lines: (description, directives).

    The header ends at the first line that is not a `--` comment (a blank line included, once
    the header has started). `materialized:` and `grain:` lines are directives (each at most
    once); every other line is description text, empty comment lines kept as paragraph breaks."""
    lines: list[str] = []
    directives: dict[str, str] = {}
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped.startswith("--"):
            if stripped or lines or directives:
                break
            continue
        content = stripped.lstrip("-").strip()
        match = _DIRECTIVE.match(content)
        if match is None:
            lines.append(content)
            continue
        key = match.group(1).lower()
        if key in directives:
            raise ModelError(f"{path}: directive '{key}' is given twice in the header")
        directives[key] = (
            match.group(2).strip().lower() if key == "materialized" else match.group(2)
        )
    return "\n".join(lines).strip("\n"), directives


def _parse_grain(value: str | None, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    columns = tuple(c.strip() for c in value.split(","))
    if not columns or not all(_COLUMN.match(c) for c in columns):
        raise ModelError(f"{path}: '-- grain:' must list column names separated by commas: {value}")
    return columns


def _tokenize(text: str, path: Path) -> list[Token]:
    try:
        return Dialect.get_or_raise(DIALECT).tokenize(text)
    except SqlglotError as exc:
        raise ModelError(f"{path}: SQL cannot be tokenized: {exc}") from exc


def _parse_error_message(exc: SqlglotError) -> str:
    errors = getattr(exc, "errors", None) if isinstance(exc, ParseError) else None
    if not errors:
        return str(exc)
    first = errors[0]
    return f"{first.get('description')} (line {first.get('line')}, column {first.get('col')})"


def _parse_query(text: str, path: Path) -> exp.Query:
    """The file's single query; anything else (DDL, several statements, nothing) is an error."""
    tokens = _tokenize(text, path)
    dialect = Dialect.get_or_raise(DIALECT)
    try:
        statements = dialect.parser().parse(tokens, text)
    except SqlglotError as exc:
        raise ModelError(f"{path}: SQL parse error: {_parse_error_message(exc)}") from exc
    statements = [s for s in statements if s is not None and not isinstance(s, exp.Semicolon)]
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ModelError(f"{path}: a model must hold exactly one SELECT query")
    return statements[0]


@functools.lru_cache(maxsize=512)
def query_body(text: str) -> str:
    """The query text without its trailing semicolon(s) (and anything after them)."""
    tokens = Dialect.get_or_raise(DIALECT).tokenize(text)
    end = len(tokens)
    while end and tokens[end - 1].token_type == TokenType.SEMICOLON:
        end -= 1
    if end == len(tokens):
        return text
    return text[: tokens[end].start].rstrip()


# --- dependencies --------------------------------------------------------------------------


def _table_key(table: exp.Table) -> str:
    parts = (table.catalog, table.db, table.name)
    return ".".join(p.lower() for p in parts if p)


def _is_table_function(table: exp.Table) -> bool:
    """read_csv(...), range(...), generate_series(...): a function in place of a name."""
    return not isinstance(table.this, exp.Identifier)


def find_dependencies(tree: exp.Query, path: Path | str = "<sql>") -> set[str]:
    """Qualified names ('schema.table') of every relation the query reads.

    Walks every query scope; unqualified names must be CTEs visible in that scope."""
    try:
        scopes = traverse_scope(tree)
    except SqlglotError as exc:
        raise ModelError(f"{path}: cannot analyse the query: {exc}") from exc
    refs: set[str] = set()
    seen: set[int] = set()
    for scope in scopes:
        ctes = {name.lower() for name in scope.cte_sources}
        for table in scope.tables:
            seen.add(id(table))
            _add_reference(refs, table, ctes, path)
    # Safety net: a table node that no scope reached is resolved against every CTE name.
    all_ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if id(table) not in seen:
            _add_reference(refs, table, all_ctes, path)
    return refs


def _add_reference(refs: set[str], table: exp.Table, ctes: set[str], path: Path | str) -> None:
    if _is_table_function(table) or not table.name:
        return
    if not table.db:
        if table.name.lower() in ctes:
            return
        raise ModelError(
            f"{path}: unknown reference '{table.name}': not a CTE of this query; "
            "models and sources must be schema-qualified (e.g. staging.stg_x, raw.t)"
        )
    refs.add(_table_key(table))


# --- column documentation -----------------------------------------------------------------


def _find_cte(node: exp.Expr, name: str) -> exp.Query | None:
    """The CTE `name` visible from `node` (its own WITH first, then enclosing ones)."""
    current: exp.Expr | None = node
    while current is not None:
        if isinstance(current, exp.Query):
            for cte in current.ctes:
                if cte.alias_or_name.lower() == name.lower() and isinstance(cte.this, exp.Query):
                    return cte.this
        current = current.parent
    return None


def _star_source(select: exp.Select) -> exp.Query | None:
    """For `select * from cte` (nothing else projected, no join) the CTE's query."""
    if len(select.expressions) != 1 or not isinstance(select.expressions[0], exp.Star):
        return None
    from_ = select.args.get("from_")
    if from_ is None or select.args.get("joins") or not isinstance(from_.this, exp.Table):
        return None
    table = from_.this
    if table.db or _is_table_function(table):
        return None
    return _find_cte(select, table.name)


def final_select(tree: exp.Query) -> exp.Select | None:
    """The SELECT whose projections name the model's columns (`select * from final` is
    followed into the CTE; a UNION uses its first branch)."""
    query: exp.Expr | None = tree
    for _ in range(100):  # bounded: `with a as (select * from a)` must not loop forever
        if isinstance(query, exp.Subquery):
            query = query.this
        elif isinstance(query, exp.SetOperation):
            query = query.left
        elif isinstance(query, exp.Select):
            source = _star_source(query)
            if source is None:
                return query
            query = source
        else:
            return None
    return None


def column_docs(tree: exp.Query) -> dict[str, str]:
    """Column name → the comment sqlglot attached to its projection in the final SELECT.

    sqlglot attaches a comment on the same line after `expr as name,` to that projection (the
    last one too, without a comma); a comment on its own line goes to the next projection."""
    select = final_select(tree)
    if select is None:
        return {}
    docs: dict[str, str] = {}
    for projection in select.expressions:
        if projection.is_star or not projection.alias_or_name:
            continue
        text = " ".join(c.strip() for c in projection.comments or [] if c.strip())
        if text:
            docs[projection.alias_or_name] = text
    return docs


# --- ordering and selection ----------------------------------------------------------------


def _index(models: Iterable[Model]) -> dict[str, Model]:
    index: dict[str, Model] = {}
    for model in models:
        key = model.qualified_name.lower()
        if key in index:
            raise ModelError(f"{model.path}: model {key} also defined in {index[key].path}")
        index[key] = model
    return index


def _model_deps(model: Model, index: Mapping[str, Model]) -> list[str]:
    return sorted(dep for dep in model.depends_on if dep in index)


def topological_order(models: Iterable[Model]) -> list[Model]:
    """Models ordered so that each comes after the models it reads; ties broken by name."""
    index = _index(models)
    pending = {key: len(_model_deps(m, index)) for key, m in index.items()}
    readers: dict[str, list[str]] = {key: [] for key in index}
    for key, model in index.items():
        for dep in _model_deps(model, index):
            readers[dep].append(key)
    ready = [key for key, count in pending.items() if count == 0]
    heapq.heapify(ready)
    order: list[Model] = []
    while ready:
        key = heapq.heappop(ready)
        order.append(index[key])
        for reader in readers[key]:
            pending[reader] -= 1
            if pending[reader] == 0:
                heapq.heappush(ready, reader)
    if len(order) < len(index):
        done = {m.qualified_name.lower() for m in order}
        raise ModelError(_cycle_message(index, {k for k in index if k not in done}))
    return order


def _cycle_message(index: Mapping[str, Model], remaining: set[str]) -> str:
    """Every model left has a dependency that is left too, so walking them finds a cycle."""
    path: list[str] = []
    key = min(remaining)
    while key not in path:
        path.append(key)
        key = min(dep for dep in _model_deps(index[key], index) if dep in remaining)
    cycle = [*path[path.index(key) :], key]
    files = " -> ".join(str(index[k].path) for k in cycle)
    return f"dependency cycle between models: {files}"


def _downstream(index: Mapping[str, Model], keys: set[str]) -> set[str]:
    found = set(keys)
    changed = True
    while changed:
        extra = {k for k, m in index.items() if k not in found and m.depends_on & found}
        found |= extra
        changed = bool(extra)
    return found


def _upstream(index: Mapping[str, Model], keys: set[str]) -> set[str]:
    found, todo = set(keys), list(keys)
    while todo:
        for dep in _model_deps(index[todo.pop()], index):
            if dep not in found:
                found.add(dep)
                todo.append(dep)
    return found


def select_models(models: Sequence[Model], select: Iterable[str] | str) -> list[Model]:
    """The models matched by dbt-like selectors, in build order.

    A selector is a qualified name or glob (`staging.*`); a leading `+` adds its upstream
    models, a trailing `+` its downstream models."""
    ordered = topological_order(models)
    index = _index(ordered)
    chosen: set[str] = set()
    for selector in [select] if isinstance(select, str) else select:
        pattern = selector.strip().strip("+").lower()
        matched = set(fnmatch.filter(index, pattern))
        if not matched:
            raise ModelError(f"selector '{selector}' matches no model")
        if selector.strip().startswith("+"):
            matched = _upstream(index, matched)
        if selector.strip().endswith("+"):
            matched = _downstream(index, matched)
        chosen |= matched
    return [m for m in ordered if m.qualified_name.lower() in chosen]


# --- building ------------------------------------------------------------------------------


def _existing_relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    """'schema.name' of the current database and 'database.schema.name' of every database."""
    rows = con.execute(
        """
        select database_name, schema_name, table_name, database_name = current_database()
        from duckdb_tables()
        union all
        select database_name, schema_name, view_name, database_name = current_database()
        from duckdb_views() where not internal
        """
    ).fetchall()
    names: set[str] = set()
    for database, schema, name, current in rows:
        names.add(f"{database}.{schema}.{name}".lower())
        if current:
            names.add(f"{schema}.{name}".lower())
    return names


def _check_references(
    con: duckdb.DuckDBPyConnection, models: Sequence[Model], chosen: Sequence[Model]
) -> None:
    all_models = {m.qualified_name.lower() for m in models}
    building = {m.qualified_name.lower() for m in chosen}
    existing = _existing_relations(con)
    for model in chosen:
        for dep in sorted(model.depends_on):
            if dep in building or dep in existing:
                continue
            if dep in all_models:
                raise ModelError(
                    f"{model.path}: reads model {dep}, which is not selected and not built yet"
                )
            raise ModelError(
                f"{model.path}: unknown reference '{dep}': neither a model nor an existing "
                "table or view (source)"
            )


def _relation_kind(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> str | None:
    row = con.execute(
        """
        select 'table' from duckdb_tables()
        where database_name = current_database() and schema_name = $schema
          and table_name = $name
        union all
        select 'view' from duckdb_views()
        where database_name = current_database() and schema_name = $schema
          and view_name = $name and not internal
        """,
        {"schema": schema, "name": name},
    ).fetchone()
    return row[0] if row else None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qualified(schema: str, name: str) -> str:
    return f"{_quote(schema)}.{_quote(name)}"


def _drop_other_kind(con: duckdb.DuckDBPyConnection, schema: str, name: str, kind: str) -> None:
    """CREATE OR REPLACE cannot turn a view into a table or back: drop the other kind first."""
    existing = _relation_kind(con, schema, name)
    if existing is not None and existing != kind:
        con.execute(f"drop {existing} {_qualified(schema, name)}")


def _relation_kinds(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """(schema, name) → 'table' or 'view', for every relation of the current database."""
    rows = con.execute(
        """
        select schema_name, table_name, 'table' from duckdb_tables()
        where database_name = current_database()
        union all
        select schema_name, view_name, 'view' from duckdb_views()
        where database_name = current_database() and not internal
        """
    ).fetchall()
    return {(schema, name): kind for schema, name, kind in rows}


def _build_one(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    kinds: dict[tuple[str, str], str],
    row_counts: bool,
) -> ModelRun:
    start = time.perf_counter()
    target = _qualified(model.schema, model.name)
    try:
        existing = kinds.get((model.schema, model.name))
        if existing is not None and existing != model.materialized:  # no OR REPLACE across
            con.execute(f"drop {existing} {target}")
        body = model.body or query_body(model.sql)
        con.execute(f"create or replace {model.materialized} {target} as\n{body}\n")
        kinds[(model.schema, model.name)] = model.materialized
        rows = None
        if row_counts and model.materialized == "table":
            rows = con.execute(f"select count(*) from {target}").fetchone()[0]
    except duckdb.Error as exc:
        raise ModelError(f"{model.path}: building {model.qualified_name} failed: {exc}") from exc
    return ModelRun(model, time.perf_counter() - start, rows)


def _begin(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("begin transaction")
    except duckdb.Error as exc:
        raise ModelError(f"cannot start the build transaction: {exc}") from exc


def _commit(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("commit")
    except duckdb.Error as exc:
        raise ModelError(f"committing the build failed (nothing was changed): {exc}") from exc


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    # The transaction may already be gone; the original error is what matters.
    with contextlib.suppress(duckdb.Error):
        con.execute("rollback")


def build(
    con: duckdb.DuckDBPyConnection,
    models: Sequence[Model],
    *,
    select: Iterable[str] | str | None = None,
    row_counts: bool = True,
    after_each: Callable[[duckdb.DuckDBPyConnection, Model], None] | None = None,
) -> BuildResult:
    """Build the models (all, or the selected ones) in dependency order, in one transaction.

    On any error nothing is changed: the transaction is rolled back and a ModelError names
    the failing model file and the DuckDB error. `row_counts=False` skips counting the rows
    of each table (one query per table) when the caller does not need them. `after_each` is
    called after each model is built, before its dependants, inside the transaction (the
    signed years' rows: signing.snapshot.Pinner)."""
    start = time.perf_counter()
    models = list(models)
    chosen = topological_order(models) if select is None else select_models(models, select)
    _check_references(con, models, chosen)
    runs: list[ModelRun] = []
    _begin(con)
    try:
        kinds = _relation_kinds(con)
        for schema in sorted({m.schema for m in chosen}):
            con.execute(f"create schema if not exists {_quote(schema)}")
        for model in chosen:
            runs.append(_build_one(con, model, kinds, row_counts))
            if after_each is not None:
                after_each(con, model)
    except BaseException:
        _rollback(con)
        raise
    _commit(con)
    return BuildResult(runs, time.perf_counter() - start)


def check_grain(con: duckdb.DuckDBPyConnection, model: Model) -> int:
    """Duplicated grain keys (distinct key values seen more than once) plus rows with a null
    key column, in the built relation; 0 when the grain holds or none is declared."""
    if not model.grain:
        return 0
    cols = ", ".join(_quote(c) for c in model.grain)
    any_null = " or ".join(f"{_quote(c)} is null" for c in model.grain)
    target = _qualified(model.schema, model.name)
    query = f"""
        select
            (select count(*) from (
                select 1 from {target} where not ({any_null})
                group by {cols} having count(*) > 1
            ))
            + (select count(*) from {target} where {any_null})
    """
    try:
        return int(con.execute(query).fetchone()[0])
    except duckdb.Error as exc:
        raise ModelError(f"{model.path}: checking grain ({cols}) failed: {exc}") from exc


# --- seeds and rules ------------------------------------------------------------------------


def _seed_type(column: str) -> str:
    if column.startswith(("is_", "has_")):
        return "BOOLEAN"
    return "INTEGER" if column == "sort_order" else "VARCHAR"


def _seed_value(value: str, sql_type: str, where: str) -> object:
    value = value.strip()
    if value == "":
        return None
    if sql_type == "BOOLEAN":
        if value.lower() not in ("true", "false"):
            raise ModelError(f"{where}: '{value}' must be true or false")
        return value.lower() == "true"
    if sql_type == "INTEGER":
        try:
            return int(value)
        except ValueError as exc:
            raise ModelError(f"{where}: '{value}' must be an integer") from exc
    return value


def read_seed_csv(path: Path) -> tuple[list[tuple[str, str]], list[tuple[object, ...]]]:
    """A seed CSV as typed columns [(name, duckdb type)] and rows of Python values.

    Values are stripped; an empty cell is NULL. A header-only file gives no rows."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            records = [r for r in csv.reader(fh) if r]
    except OSError as exc:
        raise ModelError(f"seed file {path} cannot be read: {exc}") from exc
    if not records:
        raise ModelError(f"seed file {path} has no header row")
    header = [h.strip() for h in records[0]]
    if len(set(header)) != len(header) or not all(header):
        raise ModelError(f"seed file {path}: column names must be unique and non-empty")
    columns = [(name, _seed_type(name)) for name in header]
    rows = []
    for line, record in enumerate(records[1:], start=2):
        if len(record) != len(header):
            raise ModelError(
                f"seed file {path}, row {line}: {len(record)} cells, expected {len(header)}"
            )
        rows.append(
            tuple(
                _seed_value(value, sql_type, f"seed file {path}, row {line}, column {name}")
                for value, (name, sql_type) in zip(record, columns, strict=True)
            )
        )
    return columns, rows


def _python_type(value: object) -> str | None:
    """The DuckDB type for a rules value (bool before int: bool is an int in Python)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "INTEGER" if -(2**31) <= value < 2**31 else "BIGINT"
    if isinstance(value, dt.datetime):
        return "TIMESTAMP"
    if isinstance(value, dt.date):
        return "DATE"
    if isinstance(value, str):
        return "VARCHAR"
    raise TypeError(f"no DuckDB type for {type(value).__name__} value {value!r}")


def _column_type(table: str, column: str, values: list[object]) -> str:
    types = {t for t in map(_python_type, values) if t is not None}
    if types == {"INTEGER", "BIGINT"}:
        return "BIGINT"
    if len(types) > 1:
        raise ModelError(f"rules table {table}: column {column} mixes types {sorted(types)}")
    return types.pop() if types else "VARCHAR"


def rules_tables(
    rules: Sequence[Rules],
) -> dict[str, tuple[list[tuple[str, str]], list[tuple[object, ...]]]]:
    """The reference.rule_* tables of all given years: name → (typed columns, rows)."""
    years = [r.year for r in rules]
    if len(set(years)) != len(years):
        raise ModelError(f"rules given twice for a year: {sorted(years)}")
    merged: dict[str, list[dict[str, object]]] = {}
    for rule in rules:
        for table, rows in rule.rows().items():
            merged.setdefault(table, []).extend(rows)
    tables = {}
    for table, records in merged.items():
        names = list(dict.fromkeys(k for record in records for k in record))
        try:
            columns = [(n, _column_type(table, n, [r.get(n) for r in records])) for n in names]
        except TypeError as exc:
            raise ModelError(f"rules table {table}: {exc}") from exc
        rows = [tuple(r.get(n) for n in names) for r in records]
        tables[table] = (columns, rows)
    return tables


def _create_table(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    name: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[tuple[object, ...]],
) -> None:
    """create or replace a table with explicit column types, then insert the rows."""
    _drop_other_kind(con, schema, name, "table")
    target = _qualified(schema, name)
    spec = ", ".join(f"{_quote(col)} {sql_type}" for col, sql_type in columns)
    con.execute(f"create or replace table {target} ({spec})")
    placeholder = "(" + ", ".join("?" for _ in columns) + ")"
    for start in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[start : start + _INSERT_CHUNK]
        values = ", ".join(placeholder for _ in chunk)
        con.execute(f"insert into {target} values {values}", [v for row in chunk for v in row])


def load_seeds(
    con: duckdb.DuckDBPyConnection,
    reference_dir: Path = REFERENCE_DIR,
    rules: Sequence[Rules] = (),
    *,
    seed_files: Sequence[str] | None = None,
) -> dict[str, int]:
    """Load the seed CSVs and the rules tables into schema `reference`, in one transaction.

    Returns 'reference.<table>' → row count."""
    seeds = {
        name: read_seed_csv(Path(reference_dir) / f"{name}.csv")
        for name in (reference.SEED_FILES if seed_files is None else seed_files)
    }
    tables = {**seeds, **rules_tables(rules)}
    _begin(con)
    try:
        con.execute(f"create schema if not exists {SEED_SCHEMA}")
        for name, (columns, rows) in tables.items():
            _create_table(con, SEED_SCHEMA, name, columns, rows)
    except duckdb.Error as exc:
        _rollback(con)
        raise ModelError(f"loading the reference tables failed: {exc}") from exc
    except BaseException:
        _rollback(con)
        raise
    _commit(con)
    return {f"{SEED_SCHEMA}.{name}": len(rows) for name, (_, rows) in tables.items()}
