"""The analysts' data dictionary, generated from the models' own documentation (the header
comment and each output column's comment in sql/marts/*.sql).

    python -m employment_eval.datadict > docs/DATA_DICTIONARY.md
"""

from __future__ import annotations

import sys

from employment_eval import runner
from employment_eval.paths import SQL_DIR

HEADER = """# Data dictionary: the published marts

Generated from the models' own documentation by `python -m employment_eval.datadict`
(a test keeps this file in step with `sql/`). The published file
`data/marts/employment.duckdb` holds schema `marts` (below) and schema `reference` (the seeds
under `reference/` and the year's rules as `reference.rule_*`). Open it read-only.

Conventions: rates are DECIMAL fractions in [0, 1] (0.935000, not 93.5); points are
DECIMAL(18,2); counts are integers (persons); dates are DATE; `year` is the evaluation year
(the graduating cohort). No table holds a name, a student number or another personal field.
"""


def render(sql_dir=SQL_DIR) -> str:
    parts = [HEADER]
    for model in runner.discover(sql_dir):
        if model.schema != "marts":
            continue
        parts.append(f"\n## `marts.{model.name}`\n")
        parts.append(model.description.strip() + "\n")
        if model.grain:
            parts.append(f"\n**Grain:** one row per `{'`, `'.join(model.grain)}`.\n")
        parts.append("\n| column | meaning |\n|---|---|\n")
        for column, doc in model.column_docs.items():
            parts.append(f"| `{column}` | {doc.replace('|', '/')} |\n")
    return "".join(parts)


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
