"""The differential check shared by the single-year and the multi-year tests: the SQL models'
`marts.indicator_scores` and `marts.scoreboard`, cell by cell, against the independent polars
implementation (`tests.reference_impl`) fed from the same staged inputs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl

from employment_eval.rules import Rules
from tests.reference_impl import read_adjustments, score

INDICATOR_COLUMNS = ["year", "unit_code", "indicator", "category", "base_points",
                     "computed_points", "points", "adjusted", "needs_review"]  # fmt: skip
SCOREBOARD_COLUMNS = ["year", "unit_code", "unit_group", "total_points", "rank_in_group",
                      "quota", "is_advanced", "tie_at_cutoff", "is_decided_by_committee",
                      "status"]  # fmt: skip


def staged_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """What the reference implementation reads: the staging views, as polars frames."""
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


def sorted_rows(frame: pl.DataFrame, columns: list[str]) -> list[tuple]:
    return sorted(frame.select(columns).rows(), key=repr)


def compare_with_reference(
    con: duckdb.DuckDBPyConnection, raw: Path, rules: list[Rules], as_of: dt.date
) -> dict[int, dict[str, pl.DataFrame]]:
    """Every cell of every year's scores and scoreboard (built already) equal to the
    reference's under that year's rules; the marts hold exactly the rules' years. Returns the
    reference's frames per year."""
    staged = staged_inputs(con)
    adjustments = read_adjustments(raw / "adjustments")
    sql_scores = con.sql(f"select {', '.join(INDICATOR_COLUMNS)} from marts.indicator_scores").pl()
    sql_board = con.sql(f"select {', '.join(SCOREBOARD_COLUMNS)} from marts.scoreboard").pl()
    assert sorted(set(sql_board["year"])) == sorted(r.year for r in rules)
    expected = {}
    for r in rules:
        want = score(
            staged["registrations"],
            staged["special_groups"],
            staged["submissions"],
            r,
            as_of,
            adjustments=adjustments,
        )
        year = pl.col("year") == r.year
        got = sorted_rows(sql_scores.filter(year), INDICATOR_COLUMNS)
        ref = sorted_rows(want["indicator_scores"], INDICATOR_COLUMNS)
        diff = [(g, w) for g, w in zip(got, ref, strict=True) if g != w]
        assert not diff, (r.year, diff[:5])
        board = sorted_rows(sql_board.filter(year), SCOREBOARD_COLUMNS)
        assert board == sorted_rows(want["scoreboard"], SCOREBOARD_COLUMNS), r.year
        expected[r.year] = want
    return expected
