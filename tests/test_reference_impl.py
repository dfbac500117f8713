"""The reference implementation (tests/reference_impl) against the worked examples of the
rules (docs/评估规则.md).

Every case is a tiny hand-built data set: each of the 15 units gets one employed bachelor
(verified 1 May, at a guided employer) in every export unless a test says otherwise, and the
submissions ledger is complete with full marks except I1 = 5 − 0.1 × (unit index), so that the
baseline has no ties and every unit has 130 − 0.1 × index points."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from employment_eval.rules import Rules, load_rules
from tests.reference_impl import (
    DEGREES,
    Adjustment,
    competition_ranks,
    half_up_2dp,
    load_reference,
    meets_target,
    pick_snapshot,
    read_adjustments,
    required_employed,
    rounded_steps,
    score,
)
from tests.reference_impl.scoring import DEFAULT_REFERENCE_DIR

Row = dict[str, Any]
D = dt.date
EXPORTS = (D(2021, 6, 15), D(2021, 8, 15), D(2021, 12, 1), D(2021, 12, 15))
AS_OF = D(2021, 12, 20)
VDATE = D(2021, 5, 1)
JUN, AUG, DEC = D(2021, 6, 15), D(2021, 8, 15), D(2021, 12, 15)
UNITS = load_reference().unit_codes
RULES = load_rules(2021)

REG_SCHEMA = {
    "as_of_date": pl.Date,
    "student_id": pl.String,
    "unit_code": pl.String,
    "degree": pl.String,
    "is_completion": pl.Boolean,
    "graduation_year": pl.Int64,
    "destination_family": pl.String,
    "employer_name": pl.String,
    "employer_type_code": pl.String,
    "province": pl.String,
    "is_grassroots_flag": pl.Boolean,
    "is_verified": pl.Boolean,
    "verification_date": pl.Date,
    "ethnicity": pl.String,
}
SUB_SCHEMA = {
    "unit_code": pl.String,
    "year": pl.Int64,
    "i1_review_score": pl.Decimal(18, 2),
    "i2_complaints": pl.Int64,
    "i4_review_score": pl.Decimal(18, 2),
    "i4_report_date": pl.Date,
    "i5_meeting_date": pl.Date,
    "i5_talks": pl.Int64,
    "i7_forms": pl.Int64,
    "i8_stories": pl.Int64,
}
ROSTER_SCHEMA = {"student_id": pl.String, "special_group": pl.String, "graduation_year": pl.Int64}


# --- builders -----------------------------------------------------------------------------------
def person(
    sid: str,
    unit: str,
    *,
    degree: str = "bachelor",
    employed: bool = True,
    family: str | None = None,
    verified: bool | None = None,
    vdate: dt.date | None = VDATE,
    etype: str | None = "23",
    name: str | None = None,
    province: str | None = "上海",
    grassroots: bool = False,
    ethnicity: str = "汉族",
    year: int = 2021,
    completion: bool = False,
) -> Row:
    family = family or ("10" if employed else "70")
    if verified is None:
        verified = family not in ("70", "71", "72")
    return {
        "student_id": sid,
        "unit_code": unit,
        "degree": degree,
        "is_completion": completion,
        "graduation_year": year,
        "destination_family": family,
        "employer_name": name,
        "employer_type_code": None if family in ("70", "71", "72") else etype,
        "province": province,
        "is_grassroots_flag": grassroots,
        "is_verified": verified,
        "verification_date": vdate if verified else None,
        "ethnicity": ethnicity,
    }


def people(n: int, unit: str, prefix: str, **kw: Any) -> list[Row]:
    return [person(f"{prefix}{i:04d}", unit, **kw) for i in range(n)]


def baseline(skip: Iterable[str] = ()) -> list[Row]:
    skipped = set(skip)
    return [person(f"base-{u}", u) for u in UNITS if u not in skipped]


def registrations(
    grads: Sequence[Row], exports: Sequence[dt.date] = EXPORTS, extra: Sequence[Row] = ()
) -> pl.DataFrame:
    rows = [{**g, "as_of_date": d} for d in exports for g in grads] + list(extra)
    return pl.DataFrame(rows, schema=REG_SCHEMA)


def submissions(overrides: dict[str, Row | None] | None = None) -> pl.DataFrame:
    overrides = overrides or {}
    rows = []
    for i, unit in enumerate(UNITS):
        row: Row = {
            "unit_code": unit,
            "year": 2021,
            "i1_review_score": Decimal(5) - Decimal(i) / 10,
            "i2_complaints": 0,
            "i4_review_score": Decimal(20),
            "i4_report_date": D(2021, 3, 20),
            "i5_meeting_date": D(2021, 10, 12),
            "i5_talks": 2,
            "i7_forms": 3,
            "i8_stories": 3,
        }
        if unit in overrides:
            change = overrides[unit]
            if change is None:
                continue
            row.update(change)
        rows.append(row)
    return pl.DataFrame(rows, schema=SUB_SCHEMA)


def run(
    grads: Sequence[Row],
    *,
    subs: pl.DataFrame | None = None,
    roster: Sequence[tuple[str, str, int]] = (),
    rules: Rules = RULES,
    as_of: dt.date = AS_OF,
    exports: Sequence[dt.date] = EXPORTS,
    extra: Sequence[Row] = (),
    reference_dir: Path = DEFAULT_REFERENCE_DIR,
    adjustments: Sequence[Adjustment] = (),
) -> dict[str, pl.DataFrame]:
    return score(
        registrations(grads, exports, extra),
        pl.DataFrame(roster, schema=ROSTER_SCHEMA, orient="row"),
        submissions() if subs is None else subs,
        rules,
        as_of,
        reference_dir=reference_dir,
        adjustments=adjustments,
    )


def pts(result: dict[str, pl.DataFrame], unit: str, indicator: str) -> Decimal:
    df = result["indicator_scores"].filter(
        (pl.col("unit_code") == unit) & (pl.col("indicator") == indicator)
    )
    assert df.height == 1
    return df.item(0, "points")


def node(result: dict[str, pl.DataFrame], unit: str, degree: str, date: dt.date) -> Row:
    df = result["milestone_rates"].filter(
        (pl.col("unit_code") == unit)
        & (pl.col("degree") == degree)
        & (pl.col("milestone_date") == date)
    )
    assert df.height == 1
    return df.row(0, named=True)


def board(result: dict[str, pl.DataFrame]) -> dict[str, Row]:
    return {r["unit_code"]: r for r in result["scoreboard"].iter_rows(named=True)}


def guided(result: dict[str, pl.DataFrame], unit: str) -> Row:
    return result["guided_employment"].filter(pl.col("unit_code") == unit).row(0, named=True)


def dec(s: str) -> Decimal:
    return Decimal(s)


# --- helpers ------------------------------------------------------------------------------------
def test_exact_helpers() -> None:
    # 93.5 % against 95 %: 150 bp short, 3 steps of 0.5 pp, never 2.
    assert rounded_steps(Fraction(9500) - Fraction(10000 * 187, 200), 50, "floor") == dec("3.00")
    assert rounded_steps(Fraction(100, 3), 50, "floor") == dec("0.00")
    assert rounded_steps(Fraction(100, 3), 50, "ceil") == dec("1.00")
    assert rounded_steps(Fraction(100, 3), 50, "exact") == dec("0.67")
    assert half_up_2dp(Fraction(5, 1000)) == dec("0.01")
    assert half_up_2dp(Fraction(20, 3)) == dec("6.67")
    assert half_up_2dp(Fraction(-5, 1000)) == dec("-0.01")
    assert required_employed(9700, 100) == 97
    assert required_employed(9500, 200) == 190
    assert required_employed(9400, 17) == 16
    assert competition_ranks({"a": (2,), "b": (2,), "c": (1,)}) == {
        "a": (1, 2),
        "b": (1, 2),
        "c": (3, 1),
    }


@given(
    tb=st.integers(min_value=0, max_value=10000),
    n=st.integers(min_value=1, max_value=5000),
    data=st.data(),
)
def test_required_count_agrees_with_rate(tb: int, n: int, data: st.DataObject) -> None:
    e = data.draw(st.integers(min_value=0, max_value=n))
    assert (e >= required_employed(tb, n)) == meets_target(tb, n, e)
    assert (e >= required_employed(tb, n)) == (Fraction(e, n) >= Fraction(tb, 10000))


def test_snapshot_picking() -> None:
    exports = [D(2021, 7, 1), D(2021, 8, 15)]
    jun = pick_snapshot(exports, JUN)
    assert (jun.export_date, jun.reconstructed, jun.status) == (D(2021, 7, 1), True, "final")
    aug = pick_snapshot(exports, AUG)
    assert (aug.export_date, aug.reconstructed, aug.status) == (AUG, False, "final")
    dec_ = pick_snapshot(exports, DEC)
    assert (dec_.export_date, dec_.reconstructed, dec_.status) == (AUG, False, "provisional")


# --- baseline -----------------------------------------------------------------------------------
def test_baseline_full_marks_and_final() -> None:
    res = run(baseline())
    scores = res["indicator_scores"]
    assert scores.height == 15 * 9
    assert scores.schema["points"] == pl.Decimal(18, 2)
    assert scores.columns == [
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
    assert pts(res, "ruijin", "I3") == dec("35.00")
    assert not scores.get_column("adjusted").any()
    assert not scores.get_column("needs_review").any()
    rows = board(res)
    for i, unit in enumerate(UNITS):
        assert rows[unit]["total_points"] == Decimal(130) - Decimal(i) / 10
        assert rows[unit]["status"] == "final"
        assert not rows[unit]["tie_at_cutoff"]
    assert [u for u in UNITS if rows[u]["is_advanced"]] == [
        "ug_branch",
        "basic",
        "ruijin",
        "renji",
        "xinhua",
        "ninth",
        "scmc",
        "childrens",
        "chest",
    ]
    assert rows["first"]["rank_in_group"] == 5 and rows["first"]["quota"] == 4
    assert res["milestone_rates"].height == 15 * 3
    assert set(res["nodes"].get_column("status")) == {"final"}


def test_completion_rows_and_other_years_are_not_in_the_cohort() -> None:
    grads = [
        *baseline(),
        person("c1", "basic", employed=False, completion=True),
        person("o1", "basic", employed=False, year=2020),
    ]
    res = run(grads)
    assert node(res, "basic", "bachelor", DEC)["graduates"] == 1
    assert pts(res, "basic", "I3") == dec("35.00")


# --- I3 (D3) ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("employed", "dec_bonus", "dec_deduction", "i3"),
    [(99, "2.00", "0.00", "61.00"), (96, "0.00", "2.00", "51.00")],
)
def test_d3_master_worked_example(
    employed: int, dec_bonus: str, dec_deduction: str, i3: str
) -> None:
    masters = people(employed, "ruijin", "m", degree="master") + people(
        100 - employed, "ruijin", "u", degree="master", employed=False
    )
    res = run([*baseline(), *masters])
    row = node(res, "ruijin", "master", DEC)
    assert (row["graduates"], row["employed"], row["required_employed"]) == (100, employed, 97)
    assert row["target_rate_bp"] == 9700
    assert (row["bonus"], row["deduction"]) == (dec(dec_bonus), dec(dec_deduction))
    # Jun: R = 80, bonus E − 80; Aug: R = 94, bonus E − 94; Dec: 17 or 13.
    assert pts(res, "ruijin", "I3") == dec(i3)


def test_d3_doctor_93_5_percent_is_3_short() -> None:
    doctors = people(187, "renji", "d", degree="doctor") + people(
        13, "renji", "u", degree="doctor", employed=False
    )
    for rounding in ("floor", "exact"):
        res = run([*baseline(), *doctors], rules=RULES.with_knobs(deduction_rounding=rounding))
        aug = node(res, "renji", "doctor", AUG)
        assert (aug["required_employed"], aug["deduction"], aug["bonus"]) == (190, dec("3"), 0)
        assert node(res, "renji", "doctor", DEC)["deduction"] == dec("9.00")  # 4.5 pp short
        # Jun 5 + 27, Aug 15 − 3, Dec 15 − 9.
        assert pts(res, "renji", "I3") == dec("50.00")


@pytest.mark.parametrize(
    ("rounding", "deduction", "i3"),
    [("floor", "0.00", "40.00"), ("ceil", "1.00", "39.00"), ("exact", "0.67", "39.33")],
)
def test_d3_rounding_knob(rounding: str, deduction: str, i3: str) -> None:
    # 29 of 30 masters: 96.67 % against 97 %, 1/3 pp short = 0.67 steps.
    masters = [
        *people(29, "xinhua", "m", degree="master"),
        person("u", "xinhua", degree="master", employed=False),
    ]
    res = run([*baseline(), *masters], rules=RULES.with_knobs(deduction_rounding=rounding))
    assert node(res, "xinhua", "master", DEC)["deduction"] == dec(deduction)
    assert pts(res, "xinhua", "I3") == dec(i3)  # Jun 5 + 5, Aug 15 + 0, Dec 15 − deduction


def test_d3_node_floors_at_zero_before_bonuses_are_added() -> None:
    grads = [
        *baseline(),
        *people(10, "ruijin", "b", employed=False),
        *people(99, "ruijin", "m", degree="master"),
        person("mu", "ruijin", degree="master", employed=False),
    ]
    res = run(grads)
    assert node(res, "ruijin", "bachelor", DEC)["deduction"] > dec("15")
    # Jun 0 + 19, Aug 0 + 5, Dec 0 + 2.
    assert pts(res, "ruijin", "I3") == dec("26.00")


# --- D2 snapshots, verification, provisional ------------------------------------------------------
def test_cancel_after_a_node_still_counts_at_that_node() -> None:
    exports = (D(2021, 6, 10), D(2021, 7, 1), AUG, D(2021, 12, 1), DEC)
    s_before = {**person("s", "nursing", vdate=D(2021, 6, 1)), "as_of_date": D(2021, 6, 10)}
    s_after = [{**person("s", "nursing", employed=False), "as_of_date": d} for d in exports[1:]]
    res = run(baseline(), exports=exports, extra=[s_before, *s_after])
    jun = node(res, "nursing", "bachelor", JUN)
    assert (jun["graduates"], jun["employed"], jun["snapshot_date"]) == (2, 2, D(2021, 6, 10))
    assert (jun["reconstructed"], jun["status"]) == (False, "final")
    aug = node(res, "nursing", "bachelor", AUG)
    assert (aug["employed"], aug["deduction"]) == (1, dec("80.00"))  # 40 pp short
    assert pts(res, "nursing", "I3") == dec("5.00")  # Jun 5, Aug 0, Dec 0
    assert board(res)["nursing"]["status"] == "final"


def test_reconstructed_snapshot_uses_verification_dates() -> None:
    exports = (D(2021, 7, 1), AUG, D(2021, 12, 1), DEC)
    grads = [
        *baseline(),
        person("t", "nursing", vdate=D(2021, 6, 20)),
        person("u", "nursing", vdate=D(2021, 6, 10)),
    ]
    res = run(grads, exports=exports)
    jun = node(res, "nursing", "bachelor", JUN)
    assert (jun["snapshot_date"], jun["reconstructed"]) == (D(2021, 7, 1), True)
    assert (jun["graduates"], jun["employed"]) == (3, 2)
    assert node(res, "nursing", "bachelor", AUG)["reconstructed"] is False
    assert set(res["scoreboard"].get_column("status")) == {"provisional"}


def test_require_verification_knob() -> None:
    grads = [*baseline(), person("v", "basic", verified=False)]
    strict = run(grads)
    assert node(strict, "basic", "bachelor", DEC)["employed"] == 1
    loose = run(grads, rules=RULES.with_knobs(require_verification=False))
    assert node(loose, "basic", "bachelor", DEC)["employed"] == 2
    # Verified, but only after the node: not employed at that node.
    late = run([*baseline(), person("w", "basic", vdate=D(2021, 8, 1))])
    assert node(late, "basic", "bachelor", JUN)["employed"] == 1
    assert node(late, "basic", "bachelor", AUG)["employed"] == 2


def test_nodes_after_the_latest_export_are_provisional() -> None:
    res = run(baseline(), as_of=D(2021, 9, 1))
    dec_row = node(res, "ruijin", "bachelor", DEC)
    assert (dec_row["snapshot_date"], dec_row["status"]) == (AUG, "provisional")
    assert dec_row["reconstructed"] is False
    assert node(res, "ruijin", "bachelor", AUG)["status"] == "final"
    nodes = {r["node_date"]: r for r in res["nodes"].iter_rows(named=True)}
    assert nodes[D(2021, 12, 1)]["status"] == "provisional"
    assert set(res["scoreboard"].get_column("status")) == {"provisional"}


# --- I6 (D4) ------------------------------------------------------------------------------------
def test_i6_per_group_fails_but_pooled_passes() -> None:
    grads = [
        *baseline(),
        *people(40, "basic", "e", degree="master"),
        person("eth", "basic", degree="master", employed=False, ethnicity="回族"),
    ]
    roster = [(f"e{i:04d}", "economic_hardship", 2021) for i in range(40)]
    res = run(grads, roster=roster)
    assert pts(res, "basic", "I6") == dec("0.00")
    assert pts(res, "nursing", "I6") == dec("10.00")  # no special-group graduates
    cells = {
        (r["special_group"], r["degree"]): r
        for r in res["special_group_rates"].filter(pl.col("unit_code") == "basic").to_dicts()
    }
    assert cells[("economic_hardship", "master")]["meets_target"] is True
    assert cells[("ethnic_minority", "master")]["meets_target"] is False
    pooled = run(
        grads, roster=roster, rules=RULES.with_knobs(special_group_scope="pooled_by_degree")
    )
    assert pts(pooled, "basic", "I6") == dec("10.00")  # 40 / 41 = 97.6 % ≥ 97 %


def test_i6_pooled_counts_each_student_once() -> None:
    both = people(97, "basic", "x", degree="master")
    econ_only = people(3, "basic", "p", degree="master", employed=False)
    acad_only = people(3, "basic", "q", degree="master", employed=False)
    roster = [
        *[(g["student_id"], "economic_hardship", 2021) for g in both],
        *[(g["student_id"], "academic_difficulty", 2021) for g in both],
        *[(g["student_id"], "economic_hardship", 2021) for g in econ_only],
        *[(g["student_id"], "academic_difficulty", 2021) for g in acad_only],
        ("base-basic", "economic_hardship", 2020),  # another cohort's roster: ignored
    ]
    grads = [*baseline(), *both, *econ_only, *acad_only]
    per_group = run(grads, roster=roster)
    assert pts(per_group, "basic", "I6") == dec("10.00")  # 97/100 in each group
    pooled = run(
        grads, roster=roster, rules=RULES.with_knobs(special_group_scope="pooled_by_degree")
    )
    assert pts(pooled, "basic", "I6") == dec("0.00")  # 97/103 over the union


# --- I7, I8 (D5) --------------------------------------------------------------------------------
def test_i7_i8_exactly_twenty_is_small_and_size_is_counted_at_15_dec() -> None:
    grads = [
        *baseline(),
        *people(19, "nursing", "n"),
        *people(19, "public_health", "p"),
    ]
    late = {**person("p-late", "public_health"), "as_of_date": DEC}
    low = {"i7_forms": 1, "i8_stories": 2}
    subs = submissions({"nursing": {"i7_forms": 1, "i8_stories": 1}, "public_health": low})
    res = run(grads, subs=subs, extra=[late])
    assert (pts(res, "nursing", "I7"), pts(res, "nursing", "I8")) == (dec("20"), dec("10"))
    # public_health has 21 graduates at 15 Dec: large, 1/3 forms and 2/3 stories.
    assert (pts(res, "public_health", "I7"), pts(res, "public_health", "I8")) == (
        dec("6.67"),
        dec("6.67"),
    )
    none = run(grads, subs=subs, extra=[late], rules=RULES.with_knobs(partial_credit="none"))
    assert (pts(none, "public_health", "I7"), pts(none, "public_health", "I8")) == (0, 0)
    assert pts(none, "nursing", "I7") == dec("20.00")
    big = run(grads, subs=subs, extra=[late], rules=RULES.with_knobs(large_unit_threshold=21))
    assert (pts(big, "public_health", "I7"), pts(big, "public_health", "I8")) == (20, 10)


def test_i7_nothing_required_is_full_marks() -> None:
    rules = dataclasses.replace(RULES, i7_required=(0, 0))
    res = run(baseline(), subs=submissions({"chest": {"i7_forms": 0}}), rules=rules)
    assert pts(res, "chest", "I7") == dec("20.00")


# --- I9 (D6) ------------------------------------------------------------------------------------
def test_i9_zero_denominator_scores_15_needs_review() -> None:
    grads = [*baseline(skip=["smhc"]), person("s", "smhc", family="80")]
    res = run(grads)
    assert pts(res, "smhc", "I9") == dec("15.00")
    row = res["indicator_scores"].filter(
        (pl.col("unit_code") == "smhc") & (pl.col("indicator") == "I9")
    )
    assert row.item(0, "needs_review") is True
    everyone = run(grads, rules=RULES.with_knobs(guided_denominator="all_graduates"))
    # 0 of 1 graduates: 50 pp short, 15 − 50 → 0.
    assert (guided(everyone, "smhc")["denominator"], guided(everyone, "smhc")["guided"]) == (1, 0)
    assert pts(everyone, "smhc", "I9") == dec("0.00")
    assert guided(everyone, "smhc")["needs_review"] is False


@pytest.mark.parametrize(
    ("rounding", "points"), [("floor", "14.00"), ("ceil", "13.00"), ("exact", "13.50")]
)
def test_i9_rounding_knob(rounding: str, points: str) -> None:
    # 97 of 200 job-employed at guided employers: 48.5 %, 1.5 pp short.
    grads = [
        *baseline(),
        *people(96, "chest", "g"),
        *people(103, "chest", "n", etype="31"),
    ]
    res = run(grads, rules=RULES.with_knobs(deduction_rounding=rounding))
    assert (guided(res, "chest")["denominator"], guided(res, "chest")["guided"]) == (200, 97)
    assert pts(res, "chest", "I9") == dec(points)


def test_i9_guided_attributes_and_denominators(tmp_path: Path) -> None:
    ref = tmp_path / "reference"
    shutil.copytree(DEFAULT_REFERENCE_DIR, ref)
    (ref / "guided_employers.csv").write_text("employer_name\n某县人民医院\n", encoding="utf-8")
    grads = [
        *baseline(skip=["ipmch"]),
        person("a", "ipmch", etype="23"),
        person("b", "ipmch", etype="31", name="某县人民医院"),
        person("c", "ipmch", etype=None, family="50"),
        person("d", "ipmch", etype="31", grassroots=True),
        person("e", "ipmch", etype="31", province="四川"),
        person("f", "ipmch", etype="31"),
        person("g", "ipmch", etype="31", name="某市人民医院"),
        person("h", "ipmch", etype="23", family="80"),  # study: never guided
        person("i", "ipmch", employed=False, province="四川"),
        person("j", "ipmch", etype="23", verified=False),  # not employed (unverified)
    ]
    res = run(grads, reference_dir=ref)
    assert (guided(res, "ipmch")["denominator"], guided(res, "ipmch")["guided"]) == (7, 5)
    assert pts(res, "ipmch", "I9") == dec("15.00")
    everyone = run(
        grads, reference_dir=ref, rules=RULES.with_knobs(guided_denominator="all_graduates")
    )
    # 5 of 10: exactly the 50 % target.
    assert (guided(everyone, "ipmch")["denominator"], guided(everyone, "ipmch")["guided"]) == (
        10,
        5,
    )
    assert pts(everyone, "ipmch", "I9") == dec("15.00")
    # Without the centre's list, b is not guided: 4 / 10 = 40 %, 10 pp short.
    default_list = run(grads, rules=RULES.with_knobs(guided_denominator="all_graduates"))
    assert pts(default_list, "ipmch", "I9") == dec("5.00")


# --- I1, I2, I4, I5 and the ledger (D7, D8, D11) ------------------------------------------
def test_submission_indicators() -> None:
    subs = submissions(
        {
            "ruijin": {"i1_review_score": None, "i2_complaints": 1, "i4_review_score": dec("17.5")},
            "renji": {"i5_meeting_date": D(2021, 9, 30), "i5_talks": 1},
            "xinhua": {"i5_meeting_date": D(2020, 10, 10), "i5_talks": 0},
            "ninth": {"i5_meeting_date": None, "i4_report_date": None},
            "first": None,
        }
    )
    res = run(baseline(), subs=subs)
    assert [pts(res, "ruijin", i) for i in ("I1", "I2", "I4", "I5")] == [
        dec("0.00"),
        dec("0.00"),
        dec("17.50"),
        dec("10.00"),
    ]
    assert pts(res, "renji", "I5") == dec("5.00")
    assert pts(res, "xinhua", "I5") == dec("0.00")
    assert pts(res, "ninth", "I5") == dec("5.00")
    missing = [pts(res, "first", i) for i in ("I1", "I2", "I4", "I5", "I7", "I8")]
    assert missing == [dec("0.00")] * 6
    assert [pts(res, "first", i) for i in ("I3", "I6", "I9")] == [35, 10, 15]
    assert set(res["scoreboard"].get_column("status")) == {"provisional"}


def test_blank_cells_keep_the_scoreboard_provisional_but_blank_dates_do_not() -> None:
    res = run(baseline(), subs=submissions({"ninth": {"i5_meeting_date": None}}))
    assert set(res["scoreboard"].get_column("status")) == {"final"}
    res = run(baseline(), subs=submissions({"ninth": {"i2_complaints": None}}))
    assert pts(res, "ninth", "I2") == dec("0.00")
    assert set(res["scoreboard"].get_column("status")) == {"provisional"}


# --- D10 ranking ----------------------------------------------------------------------------------
def _ranking_case(
    specialty_tie: bool, adjustments: Sequence[Adjustment] = ()
) -> dict[str, pl.DataFrame]:
    grads = [
        *baseline(),
        *people(9, "renji", "r"),  # 10 bachelors: I3 = 35 + 2 + 1 = 38
        *people(4, "xinhua", "x"),  # 5 bachelors + 7 masters, all employed: I3 37
        *people(7, "xinhua", "xm", degree="master"),
        *people(15, "first", "f"),  # 17 bachelors, 16 employed: I3 37, rate 16/17
        person("fu", "first", employed=False),
    ]
    i1 = {
        "ug_branch": "5",
        "basic": "5",
        "nursing": "4.5",
        "public_health": "4.5",
        "ruijin": "5",
        "renji": "2",
        "xinhua": "3",
        "first": "3",
        "ninth": "4",
        "sixth": "4",
        "scmc": "5",
        "childrens": "5",
        "chest": "4",
        "ipmch": "4" if specialty_tie else "3.5",
        "smhc": "3",
    }
    subs = submissions({u: {"i1_review_score": dec(v)} for u, v in i1.items()})
    return run(grads, subs=subs, adjustments=adjustments)


def test_ranking_tie_breaks_competition_ranks_and_tie_at_cutoff() -> None:
    res = _ranking_case(specialty_tie=True)
    rows = board(res)
    summary = {
        u: (r["total_points"], r["rank_in_group"], r["is_advanced"], r["tie_at_cutoff"])
        for u, r in rows.items()
    }
    assert summary == {
        "ug_branch": (130, 1, True, False),
        "basic": (130, 1, True, False),
        "nursing": (dec("129.5"), 3, False, False),
        "public_health": (dec("129.5"), 3, False, False),
        "renji": (130, 1, True, False),  # I3 38
        "xinhua": (130, 2, True, False),  # I3 37, rate 12/12
        "first": (130, 3, True, False),  # I3 37, rate 16/17
        "ruijin": (130, 4, True, False),  # I3 35
        "ninth": (129, 5, False, False),
        "sixth": (129, 5, False, False),
        "scmc": (130, 1, True, False),
        "childrens": (130, 1, True, False),
        "chest": (129, 3, False, True),
        "ipmch": (129, 3, False, True),
        "smhc": (128, 5, False, False),
    }
    assert [pts(res, u, "I3") for u in ("renji", "xinhua", "first")] == [38, 37, 37]
    assert set(res["scoreboard"].get_column("status")) == {"provisional"}
    assert res["scoreboard"].schema["total_points"] == pl.Decimal(18, 2)


def test_ties_inside_the_quota_leave_the_scoreboard_final() -> None:
    rows = board(_ranking_case(specialty_tie=False))
    assert (rows["chest"]["rank_in_group"], rows["chest"]["is_advanced"]) == (3, True)
    assert (rows["ipmch"]["rank_in_group"], rows["ipmch"]["is_advanced"]) == (4, False)
    assert not any(r["tie_at_cutoff"] for r in rows.values())
    assert {r["status"] for r in rows.values()} == {"final"}


# --- D12 committee adjustments -------------------------------------------------------------------
def points_adjustment(unit: str, indicator: str, value: str) -> Adjustment:
    return Adjustment(unit, 2021, indicator, dec(value), None)


def decision(unit: str, advanced: bool, year: int = 2021) -> Adjustment:
    return Adjustment(unit, year, "ADVANCED", None, advanced)


def test_an_indicator_adjustment_counts_before_ranking() -> None:
    res = _ranking_case(True, [points_adjustment("ipmch", "I1", "5")])
    row = (
        res["indicator_scores"]
        .filter((pl.col("unit_code") == "ipmch") & (pl.col("indicator") == "I1"))
        .row(0, named=True)
    )
    assert (row["computed_points"], row["points"], row["adjusted"]) == (dec("4.00"), 5, True)
    assert res["indicator_scores"].get_column("adjusted").sum() == 1
    rows = board(res)
    assert rows["ipmch"]["total_points"] == 130
    assert {u: rows[u]["rank_in_group"] for u in ("scmc", "childrens", "ipmch", "chest")} == {
        "scmc": 1,
        "childrens": 1,
        "ipmch": 1,
        "chest": 4,
    }
    assert not any(r["tie_at_cutoff"] for r in rows.values())
    assert {r["status"] for r in rows.values()} == {"final"}


def test_an_adjusted_i3_is_the_first_tie_breaker() -> None:
    res = _ranking_case(
        True, [points_adjustment("ruijin", "I3", "37"), points_adjustment("ruijin", "I1", "3")]
    )
    rows = board(res)
    # ruijin now 130 with I3 37 (as xinhua and first): the exact 15 Dec rate decides (1/1)
    assert (rows["ruijin"]["total_points"], rows["ruijin"]["rank_in_group"]) == (130, 2)
    assert (rows["xinhua"]["rank_in_group"], rows["first"]["rank_in_group"]) == (2, 4)


def test_the_committee_decides_a_tie_at_the_cutoff() -> None:
    rows = board(_ranking_case(True, [decision("chest", True), decision("ipmch", False)]))
    assert (rows["chest"]["is_advanced"], rows["ipmch"]["is_advanced"]) == (True, False)
    assert rows["chest"]["tie_at_cutoff"] and rows["ipmch"]["tie_at_cutoff"]
    assert rows["chest"]["is_decided_by_committee"] and rows["ipmch"]["is_decided_by_committee"]
    specialty = [r for r in rows.values() if r["unit_group"] == "specialty"]
    assert sum(r["is_advanced"] for r in specialty) == 3
    assert {r["status"] for r in rows.values()} == {"final"}


def test_a_half_decided_tie_keeps_the_scoreboard_provisional() -> None:
    rows = board(_ranking_case(True, [decision("chest", True)]))
    assert (rows["chest"]["is_advanced"], rows["ipmch"]["is_advanced"]) == (True, False)
    assert {r["status"] for r in rows.values()} == {"provisional"}


def test_decisions_for_untied_units_or_other_years_change_nothing() -> None:
    plain = board(_ranking_case(False))
    rows = board(_ranking_case(False, [decision("smhc", True), decision("chest", False, 2020)]))
    assert rows["smhc"]["is_advanced"] is False and rows["smhc"]["is_decided_by_committee"]
    assert rows["chest"]["is_advanced"] is True and not rows["chest"]["is_decided_by_committee"]
    strip = [{k: v for k, v in r.items() if k != "is_decided_by_committee"} for r in rows.values()]
    assert strip == [
        {k: v for k, v in r.items() if k != "is_decided_by_committee"} for r in plain.values()
    ]


def test_adjustments_are_read_from_csv_and_xlsx_files(tmp_path: Path) -> None:
    import openpyxl

    folder = tmp_path / "adjustments"
    folder.mkdir()
    header = "单位,年度,指标,调整后分值,理由,审批人,日期\n"
    (folder / "a.csv").write_text(
        header + "瑞金,2021,i4,18.5,复核,学指委主任,2021-12-20\n"
        "上海市胸科医院,2021,先进单位,是,并列,学指委,2021-12-20\n",
        encoding="utf-8-sig",
    )
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单位", "年度", "指标", "调整后分值", "理由", "审批人", "日期"])
    ws.append(["国妇婴", 2021, "先进单位", "否", "并列", "学指委", dt.datetime(2021, 12, 20)])
    wb.save(folder / "b.xlsx")
    (folder / "~$b.xlsx").write_bytes(b"lock")
    assert read_adjustments(folder) == [
        Adjustment("ruijin", 2021, "I4", dec("18.50"), None, D(2021, 12, 20)),
        Adjustment("chest", 2021, "ADVANCED", None, True, D(2021, 12, 20)),
        Adjustment("ipmch", 2021, "ADVANCED", None, False, D(2021, 12, 20)),
    ]


# --- scale ----------------------------------------------------------------------------------------
def test_five_thousand_graduates_twenty_exports_in_seconds() -> None:
    exports = [D(2021, 6, 1) + dt.timedelta(days=10 * k) for k in range(20)]
    grads = []
    for i in range(5000):
        unit = UNITS[i % 15]
        degree = DEGREES[i % 3]
        grads.append(
            person(
                f"s{i:05d}",
                unit,
                degree=degree,
                employed=i % 17 != 0,
                etype="23" if i % 2 else "31",
            )
        )
    regs = registrations(grads, exports)
    started = time.perf_counter()
    res = score(regs, pl.DataFrame(schema=ROSTER_SCHEMA), submissions(), RULES, AS_OF)
    assert time.perf_counter() - started < 10
    assert res["indicator_scores"].height == 135
    assert res["milestone_rates"].get_column("graduates").sum() == 3 * 5000
