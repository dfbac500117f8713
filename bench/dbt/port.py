"""Port the product's models (sql/<schema>/<name>.sql) to a dbt project.

Each model becomes models/<schema>/<name>.sql with its relation references rewritten: another
model → `{{ ref('name') }}`, anything else read (raw.*, reference.*, meta.*) →
`{{ source('schema', 'name') }}` (listed in models/sources.yml). Only the table references the
runner's own sqlglot analysis found are rewritten, token by token (never inside a comment or a
string); the rest of the text is the product's, unchanged. The models' materializations come
from dbt_project.yml (as build.MATERIALIZATIONS)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from employment_eval import build, runner
from employment_eval.paths import SQL_DIR

SKELETON = Path(__file__).resolve().parent
NAME_TOKENS = {TokenType.VAR, TokenType.IDENTIFIER}


def port(target: Path, sql_dir: Path = SQL_DIR) -> list[str]:
    """Write the dbt project into `target` (replaced); returns the ported model names."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(SKELETON / name, target / name)
    shutil.copytree(SKELETON / "macros", target / "macros")
    models = runner.discover(sql_dir, materializations=build.MATERIALIZATIONS)
    names = {m.qualified_name.lower(): m.name for m in models}
    sources: dict[str, set[str]] = {}
    for model in models:
        text = _rewrite(model, names, sources)
        out = target / "models" / model.schema / f"{model.name}.sql"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    lines = ["version: 2", "sources:"]
    for schema in sorted(sources):
        lines += [f"  - name: {schema}", f"    schema: {schema}", "    tables:"]
        lines += [f"      - name: {table}" for table in sorted(sources[schema])]
    (target / "models" / "sources.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sorted(names.values())


def _rewrite(model: runner.Model, names: dict[str, str], sources: dict[str, set[str]]) -> str:
    text = model.body  # without the trailing semicolon: dbt wraps the query
    if any(mark in text for mark in ("{{", "{%", "{#")):
        raise SystemExit(f"{model.path}: Jinja markers in the SQL, cannot port it as is")
    tokens = Dialect.get_or_raise(runner.DIALECT).tokenize(text)
    edits: list[tuple[int, int, str]] = []
    i = 0
    while i + 2 < len(tokens):
        a, dot, b = tokens[i], tokens[i + 1], tokens[i + 2]
        key = f"{a.text}.{b.text}".lower()
        if (
            a.token_type in NAME_TOKENS
            and dot.token_type == TokenType.DOT
            and b.token_type in NAME_TOKENS
            and key in model.depends_on
            and not (i > 0 and tokens[i - 1].token_type == TokenType.DOT)
        ):
            if key in names:
                replacement = f"{{{{ ref('{names[key]}') }}}}"
            else:
                schema, table = key.split(".")
                sources.setdefault(schema, set()).add(table)
                replacement = f"{{{{ source('{schema}', '{table}') }}}}"
            edits.append((a.start, b.end + 1, replacement))
            i += 3
            continue
        i += 1
    for start, end, replacement in reversed(edits):
        text = text[:start] + replacement + text[end:]
    return text + "\n"


if __name__ == "__main__":
    out = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else SKELETON.parent / "results" / "dbt" / "project"
    )
    print(f"{len(port(out))} models ported to {out}")
