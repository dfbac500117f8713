"""Several years against the independent implementation (tests/reference_impl): a generated
2020–2022 season in one working database, each year scored by the SQL under its own rules
(2020 and 2022 with other targets and quotas than 2021), and under non-default drafts (decimal
targets, other knobs); every cell of indicator_scores and scoreboard of every year must equal
the reference's for that year alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest

from employment_eval import build, warehouse
from employment_eval.generate import generate
from employment_eval.ingest.api import ingest
from employment_eval.rules import Rules, RulesSource, load_rules_file
from tests.differential_helpers import compare_with_reference

END = dt.date(2022, 12, 20)


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("diffyears")
    generate(root / "raw", years="2020-2022", seed=13, scale=0.3, exports=6)
    rules = RulesSource(root / "rules").load_all()
    assert [r.year for r in rules] == [2020, 2021, 2022]
    return {"raw": root / "raw", "rules": rules, "drafts": root / "rules" / "drafts"}


def _warehouse(raw: Path, rules: list[Rules], as_of: dt.date) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ingest(raw, con, as_of=as_of, run_id="diff-years", rules=rules)
    warehouse.ensure_meta(con)
    latest = rules[-1]
    warehouse.record_run_facts(
        con, run_id="diff-years", year=latest.year, as_of=as_of, rules_file=latest.path,
        rules_sha256=latest.sha256, policy_number=latest.policy_number, code_version="test",
        generated_at=dt.datetime(2022, 12, 20, 2, 0), input_files=0,
    )  # fmt: skip
    return con


def _compare_every_year(con: duckdb.DuckDBPyConnection, raw: Path, rules: list[Rules], as_of):
    build.build_models(con, rules)
    compare_with_reference(con, raw, rules, as_of)
    board = con.sql("select year, status from marts.scoreboard").pl()
    return {r.year: set(board.filter(pl.col("year") == r.year)["status"]) for r in rules}


def test_every_year_scores_under_its_own_rules(season) -> None:
    rules = season["rules"]
    assert len({tuple(sorted(r.quotas.items())) for r in rules}) > 1  # the years really differ
    con = _warehouse(season["raw"], rules, END)
    statuses = _compare_every_year(con, season["raw"], rules, END)
    assert statuses[2020] == statuses[2021] == {"final"}


def test_mid_season_the_current_year_alone_is_provisional(season) -> None:
    as_of = dt.date(2022, 9, 1)
    con = _warehouse(season["raw"], season["rules"], as_of)
    statuses = _compare_every_year(con, season["raw"], season["rules"], as_of)
    assert statuses[2022] == {"provisional"} and statuses[2021] == {"final"}


def test_non_default_drafts_for_every_year(season) -> None:
    """Each year under its generated decimal-target draft, with other knobs per year."""
    knobs = {
        2020: {"deduction_rounding": "exact", "special_group_scope": "pooled_by_degree"},
        2021: {"guided_denominator": "all_graduates", "partial_credit": "none"},
        2022: {"deduction_rounding": "ceil", "large_unit_threshold": 300},
    }
    drafts = []
    for r in season["rules"]:
        draft = load_rules_file(season["drafts"] / f"{r.year}-decimal-targets.toml", r.year)
        assert any(bp % 100 for m in draft.milestones for bp in m.target_bp.values())
        drafts.append(draft.with_knobs(**knobs[r.year]))
    con = _warehouse(season["raw"], season["rules"], END)
    _compare_every_year(con, season["raw"], drafts, END)
