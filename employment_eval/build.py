"""Build step: reference seeds and rules, the SQL macros, then every model in sql/."""

from __future__ import annotations

from pathlib import Path

import duckdb

from employment_eval import runner
from employment_eval.paths import REFERENCE_DIR, SQL_DIR
from employment_eval.rules import Rules, available_years, load_rules

# Staging stays a view over the raw layer; intermediate models are read by several marts,
# so they are tables (computed once per build); marts are tables.
MATERIALIZATIONS = {"staging": "view", "intermediate": "table", "marts": "table"}


def load_all_rules(rules: list[Rules] | None = None) -> list[Rules]:
    """Every year that has a rules file (the marts hold every such year with data)."""
    return rules if rules is not None else [load_rules(y) for y in available_years()]


def build_models(
    con: duckdb.DuckDBPyConnection,
    rules: list[Rules] | None = None,
    sql_dir: Path = SQL_DIR,
    reference_dir: Path = REFERENCE_DIR,
) -> runner.BuildResult:
    runner.load_seeds(con, reference_dir, load_all_rules(rules))
    con.execute((sql_dir / "macros.sql").read_text(encoding="utf-8"))
    models = runner.discover(sql_dir, materializations=MATERIALIZATIONS)
    return runner.build(con, models)
