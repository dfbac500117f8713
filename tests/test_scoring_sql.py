"""The SQL models against docs/评估规则.md: every decision (D1–D11, D13 at ingestion) and worked
example, and every knob in each setting (one knob at a time, the others at their defaults)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from employment_eval.rules import load_rules
from tests.warehouse_factory import (
    Grad,
    Ledger,
    Scenario,
    build_scenario,
    default_cohort,
    fill_units,
    one_export,
    season,
    unemployed,
)

D = dt.date
RULES = load_rules(2021)
DEC15, AUG15, JUN15, DEC1 = D(2021, 12, 15), D(2021, 8, 15), D(2021, 6, 15), D(2021, 12, 1)


def cohort(unit: str, degree: str, n: int, employed: int) -> list[Grad]:
    grads = [Grad(f"{unit}-{degree}-{i:04d}", unit, degree) for i in range(employed)]
    grads += [unemployed(f"{unit}-{degree}-{i:04d}", unit, degree) for i in range(employed, n)]
    return grads


def milestone(con, unit: str, degree: str, node: dt.date) -> dict:
    cur = con.execute(
        "select * from marts.milestone_rates where unit_code = ? and degree = ? "
        "and milestone_date = ?",
        [unit, degree, node],
    )
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    assert row is not None, (unit, degree, node)
    return dict(zip(names, row, strict=True))


def points(con, unit: str, indicator: str) -> Decimal:
    return con.execute(
        "select points from marts.indicator_scores where unit_code = ? and indicator = ?",
        [unit, indicator],
    ).fetchone()[0]


def detail(con, unit: str, indicator: str) -> str:
    return con.execute(
        "select detail from marts.indicator_scores where unit_code = ? and indicator = ?",
        [unit, indicator],
    ).fetchone()[0]


# --- D3: node arithmetic -------------------------------------------------------------------


def test_d3_worked_master_bonus_and_deduction() -> None:
    con = build_scenario(season(cohort("ruijin", "master", 100, 99)))
    row = milestone(con, "ruijin", "master", DEC15)
    assert (row["required_employed"], row["bonus"], row["deduction"]) == (97, 2, Decimal("0.00"))
    con = build_scenario(season(cohort("ruijin", "master", 100, 96)))
    row = milestone(con, "ruijin", "master", DEC15)
    assert row["deduction"] == Decimal("2.00") and row["bonus"] == 0


def test_d3_worked_doctor_93_5_percent_is_three_points_short() -> None:
    con = build_scenario(season(cohort("renji", "doctor", 200, 187)))
    row = milestone(con, "renji", "doctor", AUG15)
    assert row["deduction"] == Decimal("3.00")
    assert row["employment_rate"] == Decimal("0.935000")
    assert "187/200=93.5%，低于95%目标1.5个百分点，扣3分" in detail(con, "renji", "I3")


def test_d3_node_points_sum_over_degrees_floor_at_zero_plus_bonus() -> None:
    # Jun 15 base 5: bachelor 10 short by 8 pp -> 16 points deducted; master 2 above target.
    grads = cohort("xinhua", "bachelor", 100, 72) + cohort("xinhua", "master", 10, 10)
    con = build_scenario(season(grads))
    bachelor = milestone(con, "xinhua", "bachelor", JUN15)
    master = milestone(con, "xinhua", "master", JUN15)
    assert bachelor["deduction"] == Decimal("16.00") and master["bonus"] == 2
    # I3 = Jun max(0, 5-16)+2 + Aug (bachelor 72% vs 90%: 36 off; master +1) + Dec (...)
    aug = max(0, 15 - 36) + (10 - 10)  # master 10/10 vs 94%: R = 10, bonus 0
    jun = 0 + 2
    dec = max(0, 15 - 44) + 0  # bachelor 72 vs 94: 22 pp = 44; master R = 10 -> 0
    assert points(con, "xinhua", "I3") == Decimal(jun + aug + dec)


def test_d3_required_is_ceiling_in_integers() -> None:
    # 94 % of 17 = 15.98 -> 16 required; 16 employed meets it exactly, no bonus, no deduction.
    con = build_scenario(season(cohort("ninth", "bachelor", 17, 16)))
    row = milestone(con, "ninth", "bachelor", DEC15)
    assert (row["required_employed"], row["bonus"], row["deduction"]) == (16, 0, Decimal("0.00"))


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [("floor", Decimal("3.00")), ("ceil", Decimal("3.00")), ("exact", Decimal("3.00"))],
)
def test_knob_deduction_rounding_on_an_exact_multiple(rounding: str, expected: Decimal) -> None:
    con = build_scenario(
        season(cohort("renji", "doctor", 200, 187)), RULES.with_knobs(deduction_rounding=rounding)
    )
    assert milestone(con, "renji", "doctor", AUG15)["deduction"] == expected


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [("floor", Decimal("2.00")), ("ceil", Decimal("3.00")), ("exact", Decimal("2.67"))],
)
def test_knob_deduction_rounding_on_a_fraction(rounding: str, expected: Decimal) -> None:
    # master Dec 15, N = 300, E = 287: 95.667 % vs 97 % -> 1.333 pp -> 2.667 steps
    con = build_scenario(
        season(cohort("first", "master", 300, 287)), RULES.with_knobs(deduction_rounding=rounding)
    )
    assert milestone(con, "first", "master", DEC15)["deduction"] == expected


# --- D2: snapshots, verification, reconstruction --------------------------------------------


def test_d2_cancel_after_node_still_counts_at_that_node() -> None:
    employed = cohort("sixth", "master", 10, 10)
    cancelled = [unemployed(g.student_id, "sixth") for g in employed[:5]] + employed[5:]
    s = Scenario(
        exports={
            JUN15: fill_units(employed),
            D(2021, 7, 1): fill_units(cancelled),
            AUG15: fill_units(cancelled),
            DEC1: fill_units(cancelled),
            DEC15: fill_units(cancelled),
        }
    )
    con = build_scenario(s)
    assert milestone(con, "sixth", "master", JUN15)["employed"] == 10
    assert milestone(con, "sixth", "master", AUG15)["employed"] == 5


def test_d2_later_export_never_rewrites_a_covered_node() -> None:
    before = cohort("chest", "master", 10, 6)
    after = cohort("chest", "master", 10, 10)
    s = Scenario(exports={D(2021, 6, 10): fill_units(before), D(2021, 6, 20): fill_units(after)})
    row = milestone(build_scenario(s), "chest", "master", JUN15)
    assert row["employed"] == 6 and row["snapshot_date"] == D(2021, 6, 10)
    assert row["reconstructed"] is False


def test_d2_node_without_earlier_export_is_reconstructed_from_verification_dates() -> None:
    grads = [Grad(f"c{i}", "chest", verified_date=D(2021, 6, 1)) for i in range(6)]
    grads += [Grad(f"l{i}", "chest", verified_date=D(2021, 6, 30)) for i in range(4)]
    s = Scenario(exports={D(2021, 7, 1): fill_units(grads), D(2021, 12, 20): fill_units(grads)})
    row = milestone(build_scenario(s), "chest", "master", JUN15)
    assert row["reconstructed"] is True and row["employed"] == 6
    assert row["snapshot_date"] == D(2021, 7, 1)


def test_d2_verification_after_the_node_does_not_count() -> None:
    grads = [Grad(f"v{i}", "scmc", verified_date=D(2021, 6, 16)) for i in range(5)]
    grads += [Grad(f"u{i}", "scmc", is_verified=False, verified_date=None) for i in range(5)]
    con = build_scenario(Scenario(exports={JUN15: fill_units(grads)}))
    # the export of 15 Jun cannot hold a verification of 16 Jun in real data; ingestion
    # rejects that, here the model alone is shown to compare dates
    assert milestone(con, "scmc", "master", JUN15)["employed"] == 0


@pytest.mark.parametrize(("require", "employed"), [(True, 5), (False, 10)])
def test_knob_require_verification(require: bool, employed: int) -> None:
    grads = [Grad(f"v{i}", "ipmch") for i in range(5)]
    grads += [Grad(f"u{i}", "ipmch", is_verified=False, verified_date=None) for i in range(5)]
    con = build_scenario(season(grads), RULES.with_knobs(require_verification=require))
    assert milestone(con, "ipmch", "master", DEC15)["employed"] == employed


def test_d1_completion_rows_and_other_cohorts_are_not_counted() -> None:
    grads = cohort("smhc", "master", 10, 10)
    grads += [Grad("x1", "smhc", is_completion=True), Grad("x2", "smhc", cohort_year=2020)]
    con = build_scenario(season(grads))
    assert milestone(con, "smhc", "master", DEC15)["graduates"] == 10


# --- D11: provisional ------------------------------------------------------------------------


def test_d11_nodes_after_the_latest_export_are_provisional() -> None:
    s = one_export(cohort("basic", "master", 10, 9), D(2021, 7, 1))
    con = build_scenario(s)
    assert milestone(con, "basic", "master", JUN15)["status"] == "final"
    assert milestone(con, "basic", "master", AUG15)["status"] == "provisional"
    status = con.execute("select distinct status from marts.scoreboard").fetchall()
    assert status == [("provisional",)]


def test_d11_final_when_every_condition_holds() -> None:
    con = build_scenario(season([]))
    assert con.execute("select distinct status from marts.scoreboard").fetchall() == [("final",)]


def test_d11_incomplete_ledger_keeps_the_scoreboard_provisional() -> None:
    from employment_eval.reference import Reference

    ledger = [Ledger(c) for c in Reference().unit_codes]
    ledger[0].i7_form_count = None
    s = season([])
    s.ledger = ledger
    con = build_scenario(s)
    assert con.execute("select distinct status from marts.scoreboard").fetchall() == [
        ("provisional",)
    ]
    assert points(con, ledger[0].unit_code, "I7") == 0
    assert "未填" in detail(con, ledger[0].unit_code, "I7")


# --- D4: special groups ----------------------------------------------------------------------


def test_d4_each_group_and_degree_must_meet_the_target() -> None:
    grads = cohort("ruijin", "master", 40, 40)
    grads[0] = unemployed(grads[0].student_id, "ruijin")  # in the roster: 1 of 2 unemployed
    s = season(grads)
    s.roster = [
        (grads[0].student_id, "economic_hardship"),
        (grads[1].student_id, "economic_hardship"),
    ]
    con = build_scenario(s)
    assert points(con, "ruijin", "I6") == 0
    row = con.execute(
        "select graduates, employed, meets_target from marts.special_group_rates "
        "where unit_code = 'ruijin'"
    ).fetchall()
    assert row == [(2, 1, False)]


def test_d4_no_special_group_graduates_scores_full_and_says_so() -> None:
    con = build_scenario(season([]))
    assert points(con, "renji", "I6") == 10
    assert "无特定群体毕业生" in detail(con, "renji", "I6")


def test_d4_ethnic_minority_comes_from_ethnicity() -> None:
    grads = cohort("renji", "doctor", 10, 10)
    grads[0] = unemployed("m0", "renji", "doctor")
    grads[0].ethnicity_name = "回族"
    con = build_scenario(season(grads))
    rows = con.execute(
        "select special_group, graduates, employed from marts.special_group_rates "
        "where unit_code = 'renji'"
    ).fetchall()
    assert rows == [("ethnic_minority", 1, 0)]
    assert points(con, "renji", "I6") == 0


@pytest.mark.parametrize(("scope", "i6"), [("per_group_degree", 0), ("pooled_by_degree", 10)])
def test_knob_special_group_scope(scope: str, i6: int) -> None:
    # 1 hardship student unemployed, 49 minority students employed (master, 97 %):
    # per group the hardship cell is 0/1; pooled 49/50 = 98 % >= 97 %.
    grads = [Grad(f"m{i}", "xinhua", ethnicity_name="回族") for i in range(49)]
    grads.append(unemployed("h0", "xinhua"))
    s = season(grads)
    s.roster = [("h0", "economic_hardship")]
    con = build_scenario(s, RULES.with_knobs(special_group_scope=scope))
    assert points(con, "xinhua", "I6") == i6


# --- D5: I7 / I8 ---------------------------------------------------------------------------


def _ledger_with(unit: str, **values) -> list[Ledger]:
    from employment_eval.reference import Reference

    rows = [Ledger(c) for c in Reference().unit_codes]
    for row in rows:
        if row.unit_code == unit:
            for k, v in values.items():
                setattr(row, k, v)
    return rows


@pytest.mark.parametrize(
    ("size", "forms", "i7"),
    [
        (20, 1, Decimal("20.00")),  # exactly 20 is small: 1 form is full
        (21, 1, Decimal("6.67")),  # large: 1 of 3
        (21, 2, Decimal("13.33")),
        (21, 5, Decimal("20.00")),
        (19, 0, Decimal("0.00")),
    ],
)
def test_d5_unit_size_and_proportional_credit(size: int, forms: int, i7: Decimal) -> None:
    s = season(default_cohort("ipmch", size))
    s.ledger = _ledger_with("ipmch", i7_form_count=forms)
    assert points(build_scenario(s), "ipmch", "I7") == i7


@pytest.mark.parametrize(("threshold", "i8"), [(20, Decimal("10.00")), (19, Decimal("3.33"))])
def test_knob_large_unit_threshold(threshold: int, i8: Decimal) -> None:
    s = season(default_cohort("ipmch", 20))
    s.ledger = _ledger_with("ipmch", i8_story_count=1)
    con = build_scenario(s, RULES.with_knobs(large_unit_threshold=threshold))
    assert points(con, "ipmch", "I8") == i8


@pytest.mark.parametrize(
    ("mode", "i7"), [("proportional", Decimal("13.33")), ("none", Decimal("0"))]
)
def test_knob_partial_credit(mode: str, i7: Decimal) -> None:
    s = season(default_cohort("chest", 30))
    s.ledger = _ledger_with("chest", i7_form_count=2)
    assert points(build_scenario(s, RULES.with_knobs(partial_credit=mode)), "chest", "I7") == i7


# --- D6: guided employers ---------------------------------------------------------------------


def _guided_mix(unit: str, guided: int, other: int, study: int = 0) -> list[Grad]:
    grads = [Grad(f"g{i}", unit, employer_type_code="23") for i in range(guided)]
    grads += [Grad(f"o{i}", unit, employer_type_code="39") for i in range(other)]
    grads += [
        Grad(f"s{i}", unit, destination_family="80", employer_type_code=None) for i in range(study)
    ]
    return grads


def test_d6_ratio_below_half_loses_a_point_per_pp() -> None:
    con = build_scenario(season(_guided_mix("ninth", 45, 55)))
    row = con.execute(
        "select denominator, guided, ratio, points from marts.guided_employment "
        "where unit_code = 'ninth'"
    ).fetchone()
    assert row == (100, 45, Decimal("0.450000"), Decimal("10.00"))


def test_d6_each_guided_kind_counts() -> None:
    grads = [
        Grad("t", "sixth", employer_type_code="20"),  # guided type
        Grad("g", "sixth", employer_type_code="39", destination_family="50"),  # grassroots family
        Grad("f", "sixth", employer_type_code="39", is_grassroots_flag=True),  # 是否基层
        Grad("w", "sixth", employer_type_code="39", province="四川"),  # western province
        Grad("n", "sixth", employer_type_code="39"),  # not guided
    ]
    con = build_scenario(season(grads))
    assert con.execute(
        "select guided, denominator from marts.guided_employment where unit_code = 'sixth'"
    ).fetchone() == (4, 5)


def test_d6_zero_denominator_scores_full_and_needs_review() -> None:
    grads = [
        Grad(f"s{i}", "smhc", destination_family="80", employer_type_code=None) for i in range(5)
    ]
    con = build_scenario(season(grads))
    row = con.execute(
        "select points, needs_review from marts.indicator_scores "
        "where unit_code = 'smhc' and indicator = 'I9'"
    ).fetchone()
    assert row == (Decimal("15.00"), True)


@pytest.mark.parametrize(
    ("denominator", "expected"),
    [
        ("employed_in_job", (50, 25, Decimal("15.00"))),
        ("all_graduates", (100, 25, Decimal("0.00"))),
    ],
)
def test_knob_guided_denominator(denominator: str, expected: tuple) -> None:
    grads = _guided_mix("first", 25, 25, study=50)
    con = build_scenario(season(grads), RULES.with_knobs(guided_denominator=denominator))
    row = con.execute(
        "select denominator, guided, points from marts.guided_employment where unit_code = 'first'"
    ).fetchone()
    assert row == expected


# --- D7, D8: reviewed and event indicators -----------------------------------------------------


def test_d7_late_survey_report_is_flagged_and_score_stands() -> None:
    s = season(cohort("ug_branch", "bachelor", 30, 30))
    s.ledger = _ledger_with("ug_branch", i4_report_on=D(2021, 4, 2), i4_score=Decimal("18"))
    con = build_scenario(s)
    assert points(con, "ug_branch", "I4") == Decimal("18.00")
    assert "晚于3月31日" in detail(con, "ug_branch", "I4")


def test_d8_complaints_and_meetings() -> None:
    s = season([])
    s.ledger = _ledger_with(
        "nursing", i2_complaint_count=1, i5_meeting_on=D(2021, 9, 28), i5_talk_count=2
    )
    con = build_scenario(s)
    assert points(con, "nursing", "I2") == 0
    assert points(con, "nursing", "I5") == 5
    assert points(con, "basic", "I2") == 5 and points(con, "basic", "I5") == 10


# --- D10: ranking -----------------------------------------------------------------------------


def test_d10_identical_units_all_tie() -> None:
    # specialty group, quota 3; every unit identical, tie-breakers included
    con = build_scenario(season([], identical=True))
    rows = con.execute(
        "select unit_code, rank_in_group, is_advanced, tie_at_cutoff "
        "from marts.scoreboard where unit_group = 'specialty' order by unit_code"
    ).fetchall()
    # five identical units straddle the cutoff: all rank 1, none advanced, all marked
    assert {r[1] for r in rows} == {1}
    assert all(r[3] and not r[2] for r in rows)


def test_d10_competition_ranking_and_quota() -> None:
    con = _tied_specialty({})
    rows = dict(
        con.execute(
            "select unit_code, rank_in_group from marts.scoreboard where unit_group = 'specialty'"
        ).fetchall()
    )
    assert rows == {"scmc": 1, "childrens": 2, "chest": 3, "ipmch": 3, "smhc": 5}
    advanced = dict(
        con.execute(
            "select unit_code, is_advanced from marts.scoreboard where unit_group = 'specialty'"
        ).fetchall()
    )
    tie = dict(
        con.execute(
            "select unit_code, tie_at_cutoff from marts.scoreboard where unit_group = 'specialty'"
        ).fetchall()
    )
    # chest and ipmch share rank 3 with one place left: tie at the cutoff, neither advanced
    assert advanced == {
        "scmc": True,
        "childrens": True,
        "chest": False,
        "ipmch": False,
        "smhc": False,
    }
    assert tie == {"scmc": False, "childrens": False, "chest": True, "ipmch": True, "smhc": False}


def test_d10_last_tie_breaker_compares_rates_exactly() -> None:
    # Same totals and I3 (all targets met, bonuses equal), different rates: 2/3 vs 4/6 tie,
    # 199/200 beats 99/100 ... build units whose I3 ties but 15 Dec rates differ.
    a = cohort("ruijin", "doctor", 100, 100)  # R = 98, bonus 2 at Dec, 100 %
    b = cohort("renji", "doctor", 50, 50) + cohort("renji", "master", 50, 49)  # bonuses 1+0 ...
    con = build_scenario(season(a + b))
    rows = dict(
        con.execute(
            "select unit_code, rank_in_group from marts.scoreboard where unit_group = 'general'"
        ).fetchall()
    )
    assert rows["ruijin"] < rows["renji"]


# --- D12 (adjustments, applied before ranking) -------------------------------------------------


def test_adjustment_overrides_points_before_ranking() -> None:
    s = season([])
    s.adjustments = [{"unit_code": "smhc", "indicator_code": "I1", "new_points": Decimal("0")}]
    con = build_scenario(s)
    row = con.execute(
        "select computed_points, points, adjusted, adjustment_reason "
        "from marts.indicator_scores where unit_code = 'smhc' and indicator = 'I1'"
    ).fetchone()
    assert row == (Decimal("5.00"), Decimal("0.00"), True, "复核")
    query = "select total_points, rank_in_group from marts.scoreboard where unit_code = 'smhc'"
    before = build_scenario(season([])).execute(query).fetchone()
    after = con.execute(query).fetchone()
    assert after[0] == before[0] - 5  # the adjusted value is what is ranked
    assert after[1] > before[1]


def test_every_unit_has_nine_indicators_and_points_are_decimal() -> None:
    con = build_scenario(season([]))
    rows = con.execute(
        "select unit_code, count(*) from marts.indicator_scores group by 1"
    ).fetchall()
    assert len(rows) == 15 and {n for _, n in rows} == {9}
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'indicator_scores'"
        ).fetchall()
    )
    assert types["points"].startswith("DECIMAL") and types["computed_points"].startswith("DECIMAL")
    floats = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' and data_type in ('DOUBLE', 'FLOAT', 'REAL')"
    ).fetchall()
    assert floats == []


# --- D12: decisions on ties --------------------------------------------------------------------


def _tied_specialty(decisions: dict[str, bool]) -> object:
    # chest and ipmch tie at rank 3 for the last specialty place
    grads = (
        cohort("scmc", "master", 100, 100)
        + cohort("childrens", "master", 100, 99)
        + cohort("chest", "master", 100, 98)
        + cohort("ipmch", "master", 100, 98)
        + cohort("smhc", "master", 100, 90)
    )
    s = season(grads)
    s.adjustments = [
        {"unit_code": unit, "indicator_code": "ADVANCED", "advanced_decision": value}
        for unit, value in decisions.items()
    ]
    return build_scenario(s)


def test_d12_a_decision_on_a_tie_sets_the_advanced_flag() -> None:
    from employment_eval.adjustments import decision_problems

    con = _tied_specialty({"chest": True, "ipmch": False})
    rows = dict(
        con.execute(
            "select unit_code, is_advanced from marts.scoreboard where unit_group = 'specialty'"
        ).fetchall()
    )
    assert rows == {"scmc": True, "childrens": True, "chest": True, "ipmch": False, "smhc": False}
    tie = con.execute(
        "select tie_at_cutoff, is_decided_by_committee from marts.scoreboard "
        "where unit_code = 'chest'"
    ).fetchone()
    assert tie == (True, True)
    assert decision_problems(con) == []


def test_d12_decision_for_an_untied_unit_is_an_input_error() -> None:
    from employment_eval.adjustments import decision_problems

    problems = decision_problems(_tied_specialty({"smhc": True}))
    assert len(problems) == 1
    assert problems[0].file == "adjustments/a.xlsx" and problems[0].row == 2
    assert "不是名额线上的并列单位" in problems[0].reason


def test_d12_decisions_exceeding_the_quota_are_an_input_error() -> None:
    from employment_eval.adjustments import decision_problems

    problems = decision_problems(_tied_specialty({"chest": True, "ipmch": True}))
    assert [p.row for p in problems] == [2, 3]
    assert all("超出名额" in p.reason for p in problems)


# --- one model per indicator -------------------------------------------------------------------


def test_each_indicator_comes_from_the_model_named_for_it() -> None:
    from employment_eval.datadict import INDICATOR_MODELS

    s = season(cohort("ruijin", "doctor", 50, 47))
    s.roster = [("ruijin-doctor-0048", "economic_hardship")]
    con = build_scenario(s)
    models = sorted(set(INDICATOR_MODELS.values()))
    for model in models:
        counts = dict(
            con.execute(
                f"select indicator, count(*) from intermediate.{model} group by 1"
            ).fetchall()
        )
        assert counts == {code: 15 for code, m in INDICATOR_MODELS.items() if m == model}, model
    union = " union all ".join(f"select * from intermediate.{m}" for m in models)
    whole = "select * from intermediate.int_indicator_points"
    for a, b in ((union, whole), (whole, union)):
        extra = con.execute(
            f"select count(*) from (select * from ({a}) except all select * from ({b}))"
        )
        assert extra.fetchone()[0] == 0
    rows = con.execute(
        "select s.computed_points, p.computed_points, s.detail, p.detail "
        "from marts.indicator_scores s join intermediate.int_points_i3_milestones p "
        "using (year, unit_code, indicator) where unit_code = 'ruijin'"
    ).fetchall()
    assert len(rows) == 1 and rows[0][0] == rows[0][1] and rows[0][2] == rows[0][3]
