"""Property tests (hypothesis) of the SQL scoring: monotonicity of I3, node floors, bonuses,
and the advanced-unit selection around the quota line (D3, D10)."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from employment_eval import runner
from employment_eval.build import MATERIALIZATIONS
from employment_eval.paths import SQL_DIR
from employment_eval.reference import Reference
from tests.warehouse_factory import Grad, build_scenario, season, unemployed

REF = Reference()
UNITS = REF.unit_codes
GROUP_OF = {u.code: u.group for u in REF.units}
QUOTA = {"school": 2, "general": 4, "specialty": 3}
DEGREES = ("bachelor", "master", "doctor")
PROPERTY_SETTINGS = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# One cell per unit: (degree, graduates, employed)
cells = st.lists(
    st.tuples(st.sampled_from(DEGREES), st.integers(1, 60), st.integers(0, 60)).map(
        lambda t: (t[0], t[1], min(t[1], t[2]))
    ),
    min_size=len(UNITS),
    max_size=len(UNITS),
)


def _grads(cohorts: list[tuple[str, int, int]]) -> list[Grad]:
    grads: list[Grad] = []
    for unit, (degree, n, e) in zip(UNITS, cohorts, strict=True):
        grads += [Grad(f"{unit}-{i}", unit, degree) for i in range(e)]
        grads += [unemployed(f"{unit}-{i}", unit, degree) for i in range(e, n)]
    return grads


def _i3(con: duckdb.DuckDBPyConnection) -> dict[str, Decimal]:
    return dict(
        con.execute(
            "select unit_code, points from marts.indicator_scores where indicator = 'I3'"
        ).fetchall()
    )


@PROPERTY_SETTINGS
@given(cohorts=cells)
def test_one_more_employed_graduate_never_lowers_i3(cohorts) -> None:
    more = [(d, n, min(n, e + 1)) for d, n, e in cohorts]
    before = _i3(build_scenario(season(_grads(cohorts))))
    after = _i3(build_scenario(season(_grads(more))))
    for unit in UNITS:
        assert after[unit] >= before[unit], unit


@PROPERTY_SETTINGS
@given(cohorts=cells)
def test_nodes_never_below_zero_and_bonus_is_persons_above_required(cohorts) -> None:
    con = build_scenario(season(_grads(cohorts)))
    rows = con.execute(
        "select unit_code, graduates, employed, required_employed, bonus, deduction, target_rate "
        "from marts.milestone_rates"
    ).fetchall()
    for _unit, n, e, required, bonus, deduction, target in rows:
        assert required * 100 >= target * 100 * n and (required - 1) < target * n
        assert bonus == max(0, e - required)
        if e >= required:
            assert deduction == 0
        else:  # ⌊(t − 100·E/N) / 0.5⌋, computed here with exact fractions
            shortfall = Fraction(target) * 100 - Fraction(100 * e, n)
            assert deduction == math.floor(shortfall / Fraction(1, 2))
    i3 = _i3(con)
    bonuses = dict(
        con.execute("select unit_code, sum(bonus) from marts.milestone_rates group by 1").fetchall()
    )
    for unit in UNITS:
        # I3 = Σ max(0, base − deductions) + Σ bonuses, so 0 <= I3 − bonuses <= 35
        assert 0 <= i3[unit] - bonuses[unit] <= 35


# --- ranking around the quota line -------------------------------------------------------


@pytest.fixture(scope="module")
def ranking_warehouse() -> duckdb.DuckDBPyConnection:
    """A built warehouse where every unit has the same I3 and 15 Dec rate; each example then
    replaces the indicator points and rebuilds only marts.scoreboard."""
    return build_scenario(season([], identical=True))


def _rank_with_totals(con: duckdb.DuckDBPyConnection, totals: dict[str, int]) -> list[tuple]:
    con.execute("delete from marts.indicator_scores")
    rows = [
        {
            "year": 2021,
            "unit_code": unit,
            "indicator": f"I{i}",
            "computed_points": Decimal(total if i == 1 else 0),
            "points": Decimal(total if i == 1 else 0),
            "adjusted": False,
            "needs_review": False,
        }
        for unit, total in totals.items()
        for i in range(1, 10)
    ]
    frame = pa.Table.from_pylist(rows)  # noqa: F841 - read by the query below
    con.execute("insert into marts.indicator_scores by name select * from frame")
    models = runner.discover(SQL_DIR, materializations=MATERIALIZATIONS)
    runner.build(con, models, select="marts.scoreboard")
    return con.execute(
        "select unit_code, unit_group, rank_in_group, is_advanced, tie_at_cutoff "
        "from marts.scoreboard"
    ).fetchall()


totals_strategy = st.lists(st.integers(60, 66), min_size=len(UNITS), max_size=len(UNITS))


@settings(max_examples=60, deadline=None)
@given(values=totals_strategy)
def test_advanced_units_around_the_quota_line(ranking_warehouse, values) -> None:
    totals = dict(zip(UNITS, values, strict=True))
    board = _rank_with_totals(ranking_warehouse, totals)
    for group, quota in QUOTA.items():
        members = {u: t for u, t in totals.items() if GROUP_OF[u] == group}
        rows = {r[0]: r for r in board if r[1] == group}
        any_tie = False
        for unit, total in members.items():
            above = sum(1 for t in members.values() if t > total)
            tied = sum(1 for t in members.values() if t == total)
            straddles = above < quota < above + tied
            _, _, rank, advanced, tie = rows[unit]
            assert rank == above + 1  # competition ranking
            assert tie == straddles
            assert advanced == (above + tied <= quota)
            if straddles:
                assert not advanced
            any_tie |= straddles
        advanced_count = sum(1 for r in rows.values() if r[3])
        if not any_tie:
            assert advanced_count == min(quota, len(members))
        else:
            assert advanced_count < quota


def test_d10_tie_breakers_i3_then_exact_rate() -> None:
    con = build_scenario(season([], identical=True))
    points = {
        "ruijin": (60, 30),
        "renji": (60, 20),
        "xinhua": (50, 10),
        "ninth": (50, 10),
        "first": (40, 10),
        "sixth": (40, 10),
    }
    rates = {"xinhua": (199, 300), "ninth": (2, 3), "first": (2, 3), "sixth": (4, 6)}
    con.execute("delete from marts.indicator_scores")
    rows = [
        {
            "year": 2021,
            "unit_code": unit,
            "indicator": f"I{i}",
            "computed_points": Decimal(value),
            "points": Decimal(value),
            "adjusted": False,
            "needs_review": False,
        }
        for unit in UNITS
        for i, value in [
            (1, points.get(unit, (10, 0))[0] - points.get(unit, (10, 0))[1]),
            (3, points.get(unit, (10, 0))[1]),
        ]
        + [(k, 0) for k in (2, 4, 5, 6, 7, 8, 9)]
    ]
    frame = pa.Table.from_pylist(rows)  # noqa: F841 - read by the query below
    con.execute("insert into marts.indicator_scores by name select * from frame")
    for unit, (employed, graduates) in rates.items():
        con.execute(
            "update intermediate.int_unit_final_counts set employed = ?, graduates = ? "
            "where unit_code = ?",
            [employed, graduates, unit],
        )
    runner.build(
        con, runner.discover(SQL_DIR, materializations=MATERIALIZATIONS), select="marts.scoreboard"
    )
    ranks = dict(
        con.execute(
            "select unit_code, rank_in_group from marts.scoreboard where unit_group = 'general'"
        ).fetchall()
    )
    # equal totals: I3 decides (ruijin over renji); equal I3: the 15 Dec rate, exactly
    # (2/3 over 199/300); 2/3 and 4/6 are the same rate: a shared rank
    assert ranks == {"ruijin": 1, "renji": 2, "ninth": 3, "xinhua": 4, "first": 5, "sixth": 5}
