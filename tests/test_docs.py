"""The analysts' docs stay true: the data dictionary matches the models, every mart column is
documented, and every example query runs on freshly built marts."""

from __future__ import annotations

import re

from employment_eval import datadict, runner
from employment_eval.paths import PROJECT_ROOT, SQL_DIR
from tests.warehouse_factory import build_scenario, season


def test_data_dictionary_is_generated_from_the_models() -> None:
    committed = (PROJECT_ROOT / "docs" / "DATA_DICTIONARY.md").read_text(encoding="utf-8")
    assert committed == datadict.render(), (
        "run: python -m employment_eval.datadict > docs/DATA_DICTIONARY.md"
    )


def test_every_model_has_a_grain_and_every_mart_column_a_comment() -> None:
    con = build_scenario(season([]))
    for model in runner.discover(SQL_DIR):
        assert model.grain, f"{model.path}: no '-- grain:' line"
        assert model.description.strip(), f"{model.path}: no purpose comment"
        if model.schema != "marts":
            continue
        columns = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [model.name],
            ).fetchall()
        ]
        assert columns == list(model.column_docs), model.name


def test_example_queries_run() -> None:
    con = build_scenario(season([]))
    text = (PROJECT_ROOT / "docs" / "QUERIES.md").read_text(encoding="utf-8")
    queries = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    assert len(queries) >= 6
    for query in queries:
        con.execute(query).fetchall()
