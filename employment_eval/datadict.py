"""The analysts' data dictionary, generated from the models' own documentation (the header
comment and each output column's comment in sql/marts/*.sql), and the map of which model
computes each indicator (one intermediate model per indicator or family, `INDICATOR_MODELS`).

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


# Which intermediate model computes each indicator's points (marts.indicator_scores is their
# union, through intermediate.int_indicator_points, plus the committee's adjustments).
INDICATOR_MODELS: dict[str, str] = {
    "I1": "int_points_ledger",
    "I2": "int_points_ledger",
    "I3": "int_points_i3_milestones",
    "I4": "int_points_ledger",
    "I5": "int_points_ledger",
    "I6": "int_points_i6_special_groups",
    "I7": "int_points_ledger",
    "I8": "int_points_ledger",
    "I9": "int_points_i9_guided",
}

SCORING_HEADER = """
## How each indicator is computed

Each indicator's points come from one SQL model, found by its name under
`sql/intermediate/` (working database only: they are not published). The `detail` sentence
of `marts.indicator_scores` (and of the what-if comparison) is written by the same model.

| indicators | model | what it does |
|---|---|---|
"""


def render(sql_dir=SQL_DIR) -> str:
    parts = [HEADER]
    models = runner.discover(sql_dir)
    for model in models:
        if model.schema != "marts":
            continue
        parts.append(f"\n## `marts.{model.name}`\n")
        parts.append(model.description.strip() + "\n")
        if model.grain:
            parts.append(f"\n**Grain:** one row per `{'`, `'.join(model.grain)}`.\n")
        parts.append("\n| column | meaning |\n|---|---|\n")
        for column, doc in model.column_docs.items():
            parts.append(f"| `{column}` | {doc.replace('|', '/')} |\n")
    parts.append(SCORING_HEADER)
    described = {m.name: " ".join(m.description.split()) for m in models}
    by_model: dict[str, list[str]] = {}
    for indicator, name in INDICATOR_MODELS.items():
        by_model.setdefault(name, []).append(indicator)
    for name, indicators in by_model.items():
        text = described[name].replace("|", "/")
        parts.append(f"| {', '.join(indicators)} | `intermediate.{name}` | {text} |\n")
    return "".join(parts)


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
