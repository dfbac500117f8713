"""The SQL marts against the independent polars implementation (tests/reference_impl), on
generated seasons of several seeds and scales and under every knob setting: every cell of
indicator_scores and scoreboard must be equal (the Chinese `detail` sentences aside).

Every generated season carries the committee's adjustments (an indicator adjusted, a tie at
the quota line decided): the reference implementation reads them from the raw files itself.
The default demo season (`make demo`) is compared as is, at the year's end and mid-season."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest

from employment_eval import build, warehouse
from employment_eval.generate import generate
from employment_eval.ingest.api import ingest
from employment_eval.rules import KNOB_CHOICES, Rules, load_rules
from tests.reference_impl import read_adjustments, score

RULES = load_rules(2021)
AS_OF = dt.date(2021, 12, 20)
INDICATOR_COLUMNS = [
    "year",
    "unit_code",
    "indicator",
    "category",
    "base_points",
    "computed_points",
    "points",
    "adjusted",
    "needs_review",
]
SCOREBOARD_COLUMNS = [
    "year",
    "unit_code",
    "unit_group",
    "total_points",
    "rank_in_group",
    "quota",
    "is_advanced",
    "tie_at_cutoff",
    "is_decided_by_committee",
    "status",
]
KNOB_SETTINGS = [
    ("require_verification", False),
    ("deduction_rounding", "ceil"),
    ("deduction_rounding", "exact"),
    ("large_unit_threshold", 30),
    ("partial_credit", "none"),
    ("guided_denominator", "all_graduates"),
    ("special_group_scope", "pooled_by_degree"),
]


def test_every_knob_setting_is_covered() -> None:
    covered = {(k, v) for k, v in KNOB_SETTINGS} | {(k, RULES.knobs[k]) for k in KNOB_CHOICES}
    for knob, spec in KNOB_CHOICES.items():
        if isinstance(spec, tuple):
            assert {(knob, v) for v in spec} <= covered
        elif spec is bool:
            assert {(knob, True), (knob, False)} <= covered


def _warehouse(
    tmp: Path, as_of: dt.date, **season: object
) -> tuple[duckdb.DuckDBPyConnection, Path]:
    """A generated season (generate's defaults unless given) ingested into a fresh database."""
    raw = tmp / "raw"
    generate(raw, year=2021, **season)
    con = duckdb.connect()
    ingest(raw, con, as_of=as_of, run_id="diff")
    warehouse.ensure_meta(con)
    warehouse.record_run_facts(
        con,
        run_id="diff",
        year=2021,
        as_of=as_of,
        rules_file=RULES.path,
        rules_sha256=RULES.sha256,
        policy_number=RULES.policy_number,
        code_version="test",
        generated_at=dt.datetime(2021, 12, 20, 2, 0),
        input_files=0,
    )
    return con, raw


def _staged(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    registrations = con.sql(
        """select as_of_date, student_id, unit_code, degree, is_completion, graduation_year,
                  destination_family, employer_name, employer_type_code,
                  employer_province as province, is_grassroots_flag, is_verified,
                  verification_date, ethnicity
           from staging.stg_registrations"""
    ).pl()
    special = con.sql(
        "select student_id, special_group, graduation_year from staging.stg_special_groups"
    ).pl()
    submissions = con.sql(
        """select unit_code, year, i1_review_score, i2_complaints, i4_review_score,
                  i4_report_date, i5_meeting_date, i5_talks, i7_forms, i8_stories
           from staging.stg_submissions"""
    ).pl()
    return {"registrations": registrations, "special_groups": special, "submissions": submissions}


def _rows(frame: pl.DataFrame, columns: list[str]) -> list[tuple]:
    return sorted(frame.select(columns).rows(), key=repr)


def _compare(con: duckdb.DuckDBPyConnection, raw: Path, rules: Rules, as_of: dt.date) -> dict:
    """Build, score independently, compare; returns the reference's frames."""
    build.build_models(con, [rules])
    staged = _staged(con)
    expected = score(
        staged["registrations"],
        staged["special_groups"],
        staged["submissions"],
        rules,
        as_of,
        adjustments=read_adjustments(raw / "adjustments"),
    )
    sql_scores = con.sql(f"select {', '.join(INDICATOR_COLUMNS)} from marts.indicator_scores").pl()
    sql_board = con.sql(f"select {', '.join(SCOREBOARD_COLUMNS)} from marts.scoreboard").pl()
    got, want = (
        _rows(sql_scores, INDICATOR_COLUMNS),
        _rows(expected["indicator_scores"], INDICATOR_COLUMNS),
    )
    diff = [(g, w) for g, w in zip(got, want, strict=True) if g != w]
    assert not diff, diff[:5]
    assert _rows(sql_board, SCOREBOARD_COLUMNS) == _rows(expected["scoreboard"], SCOREBOARD_COLUMNS)
    return expected


@pytest.mark.parametrize(
    ("seed", "scale", "exports", "as_of"),
    [
        (1, 0.3, 6, AS_OF),
        (2, 1.0, 10, AS_OF),
        (3, 0.5, 8, dt.date(2021, 9, 1)),  # mid-season: provisional nodes
        (4, 0.2, 3, AS_OF),  # few exports: reconstructed nodes
    ],
)
def test_sql_equals_polars_across_seeds_and_scales(tmp_path, seed, scale, exports, as_of) -> None:
    con, raw = _warehouse(tmp_path, as_of, seed=seed, scale=scale, exports=exports)
    _compare(con, raw, RULES, as_of)


def test_sql_equals_polars_for_every_knob_setting(tmp_path) -> None:
    con, raw = _warehouse(tmp_path, AS_OF, seed=11, scale=0.4, exports=6)
    for knob, value in KNOB_SETTINGS:
        _compare(con, raw, RULES.with_knobs(**{knob: value}), AS_OF)


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2021, 8, 20)])
def test_sql_equals_polars_on_the_default_demo_season(tmp_path, as_of) -> None:
    """`make demo`'s season (generate's defaults): adjusted cell, decided tie, exact rates."""
    con, raw = _warehouse(tmp_path, as_of)
    expected = _compare(con, raw, RULES, as_of)
    scores, board = expected["indicator_scores"], expected["scoreboard"]
    assert scores.filter(pl.col("adjusted")).height == 1  # the cases are really exercised
    decided = board.filter(pl.col("is_decided_by_committee"))
    assert decided.height == 2 and decided["tie_at_cutoff"].all()
    assert decided["is_advanced"].sum() == 1
