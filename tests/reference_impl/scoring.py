"""Reference scoring: docs/评估规则.md (I1–I9, D1–D13) computed directly in Python, as an
oracle for the tests.

Independent of the SQL models: it reads the reference CSVs itself and works on the staging
layer's shape (see `score`). No float is used anywhere: counts are `int`, rates and shortfalls
are `Fraction`, points are `Decimal` quantized to two places (`Decimal('12.00')`), which is how
DuckDB `DECIMAL(18,2)` values come back through the Python client. Clarity beats speed here.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl

from employment_eval.rules import Rules

DEGREES: tuple[str, ...] = ("bachelor", "master", "doctor")
SPECIAL_GROUPS: tuple[str, ...] = ("economic_hardship", "academic_difficulty", "ethnic_minority")
INDICATORS: tuple[str, ...] = tuple(f"I{i}" for i in range(1, 10))
MAJORITY_ETHNICITY = "汉族"
SUBMISSION_SCORED = (
    "i1_review_score",
    "i2_complaints",
    "i4_review_score",
    "i5_talks",
    "i7_forms",
    "i8_stories",
)
DEFAULT_REFERENCE_DIR = Path(__file__).resolve().parents[2] / "reference"
CENT = Decimal("0.01")
POINTS = pl.Decimal(18, 2)

Row = dict[str, Any]


# --- reference data ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ReferenceData:
    """The parts of reference/*.csv that scoring needs."""

    units: tuple[tuple[str, str], ...]  # (unit_code, unit_group), in sort order
    employed_families: frozenset[str]
    destination_kind: dict[str, str]  # family → job | study | none
    grassroots_families: frozenset[str]
    guided_types: frozenset[str]
    guided_names: frozenset[str]
    central_western: frozenset[str]

    @property
    def unit_codes(self) -> list[str]:
        return [code for code, _ in self.units]

    @property
    def group_of(self) -> dict[str, str]:
        return dict(self.units)


def _read_csv(directory: Path, name: str) -> list[dict[str, str]]:
    with open(directory / f"{name}.csv", encoding="utf-8-sig", newline="") as fh:
        return [
            {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            for row in csv.DictReader(fh)
        ]


def _flag(value: str) -> bool:
    return value.strip().lower() in {"true", "1", "yes", "是"}


def load_reference(directory: Path | str = DEFAULT_REFERENCE_DIR) -> ReferenceData:
    d = Path(directory)
    units = sorted(_read_csv(d, "units"), key=lambda r: int(r["sort_order"]))
    dests = _read_csv(d, "destination_codes")
    return ReferenceData(
        units=tuple((r["unit_code"], r["unit_group"]) for r in units),
        employed_families=frozenset(
            r["destination_code"] for r in dests if _flag(r["is_employed"])
        ),
        destination_kind={r["destination_code"]: r["destination_kind"] for r in dests},
        grassroots_families=frozenset(
            r["destination_code"] for r in dests if _flag(r["is_grassroots"])
        ),
        guided_types=frozenset(
            r["employer_type_code"] for r in _read_csv(d, "employer_types") if _flag(r["is_guided"])
        ),
        guided_names=frozenset(
            r["employer_name"] for r in _read_csv(d, "guided_employers") if r["employer_name"]
        ),
        central_western=frozenset(
            r["province"] for r in _read_csv(d, "provinces") if _flag(r["is_central_western"])
        ),
    )


# --- exact arithmetic helpers -------------------------------------------------------------------
def _dec(value: int | Fraction | Decimal) -> Decimal:
    """An exact value with at most two decimals → Decimal('x.yy')."""
    if isinstance(value, Fraction):
        if (value * 100).denominator != 1:
            raise ValueError(f"{value} has more than two decimals")
        return (Decimal(value.numerator * 100 // value.denominator) / 100).quantize(CENT)
    return Decimal(value).quantize(CENT)


def half_up_2dp(x: Fraction) -> Decimal:
    """Round half away from zero to two decimals, exactly."""
    scaled = abs(x) * 100
    n = math.floor(scaled + Fraction(1, 2))
    return _dec(Fraction(n if x >= 0 else -n, 100))


def rounded_steps(shortfall_bp: Fraction, step_bp: int, mode: str) -> Decimal:
    """Number of deduction steps in a shortfall (D3): floor | ceil | exact (half-up, 2 dp)."""
    steps = Fraction(shortfall_bp) / step_bp
    if mode == "floor":
        return _dec(math.floor(steps))
    if mode == "ceil":
        return _dec(math.ceil(steps))
    if mode == "exact":
        return half_up_2dp(steps)
    raise ValueError(f"unknown deduction_rounding {mode!r}")


def required_employed(target_bp: int, graduates: int) -> int:
    """R = ⌈t·N/100⌉ with t in basis points: ⌈tb·N/10000⌉ in integers."""
    return -(-target_bp * graduates // 10000)


def meets_target(target_bp: int, graduates: int, employed: int) -> bool:
    return employed * 10000 >= target_bp * graduates


# --- snapshots (D2, D11) ------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    node_date: dt.date
    export_date: dt.date
    reconstructed: bool  # no export on or before the node: the earliest later one is used
    provisional: bool  # node date later than the latest export

    @property
    def status(self) -> str:
        return "provisional" if self.provisional else "final"


def pick_snapshot(exports: Sequence[dt.date], node_date: dt.date) -> Snapshot:
    """The latest export on or before the date, else the earliest one (reconstructed)."""
    candidates = sorted(set(exports))
    if not candidates:
        raise ValueError("no registration export for the cohort on or before the run date")
    before = [d for d in candidates if d <= node_date]
    if before:
        return Snapshot(node_date, before[-1], False, node_date > candidates[-1])
    return Snapshot(node_date, candidates[0], True, False)


def _is_employed(row: Row, on: dt.date, ref: ReferenceData, require_verification: bool) -> bool:
    family = row["destination_family"]
    if family not in ref.destination_kind:
        raise ValueError(f"unknown destination family {family!r} for {row['student_id']}")
    if family not in ref.employed_families:
        return False
    if not require_verification:
        return True
    vdate = row["verification_date"]
    return bool(row["is_verified"]) and vdate is not None and vdate <= on


def _is_guided(row: Row, ref: ReferenceData) -> bool:
    return (
        row["employer_type_code"] in ref.guided_types
        or row["employer_name"] in ref.guided_names
        or row["destination_family"] in ref.grassroots_families
        or bool(row["is_grassroots_flag"])
        or row["province"] in ref.central_western
    )


# --- ranking (D10) ------------------------------------------------------------------------------
def competition_ranks(keys: dict[str, tuple[Any, ...]]) -> dict[str, tuple[int, int]]:
    """unit → (rank, size of its tie set); higher key is better; 1, 1, 3 ranking."""
    out = {}
    for unit, key in keys.items():
        better = sum(1 for other in keys.values() if other > key)
        same = sum(1 for other in keys.values() if other == key)
        out[unit] = (better + 1, same)
    return out


# --- the scoring --------------------------------------------------------------------------------
def _base(rules: Rules, indicator: str) -> int:
    return rules.indicators[indicator][1]


def _submission_rows(submissions: pl.DataFrame, year: int, units: Iterable[str]) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for row in submissions.filter(pl.col("year") == year).to_dicts():
        if row["unit_code"] in rows:
            raise ValueError(f"two submissions rows for {row['unit_code']} in {year}")
        rows[row["unit_code"]] = row
    empty: Row = {c: None for c in (*SUBMISSION_SCORED, "i4_report_date", "i5_meeting_date")}
    return {u: rows.get(u, empty) for u in units}


def _review_score(value: Any) -> Decimal:
    if value is None:
        return _dec(0)
    if isinstance(value, float):
        raise TypeError("review scores must be Decimal, never float")
    return half_up_2dp(Fraction(Decimal(value)))


def _documents(base: int, submitted: int | None, required: int, partial: str) -> Decimal:
    got = submitted or 0
    if required == 0 or got >= required:
        return _dec(base)
    if partial == "none":
        return _dec(0)
    if partial == "proportional":
        return half_up_2dp(base * Fraction(got, required))
    raise ValueError(f"unknown partial_credit {partial!r}")


def score(
    registrations: pl.DataFrame,
    special_groups: pl.DataFrame,
    submissions: pl.DataFrame,
    rules: Rules,
    as_of: dt.date,
    reference_dir: Path | str = DEFAULT_REFERENCE_DIR,
    adjustments: Sequence[Any] = (),
) -> dict[str, pl.DataFrame]:
    """Score one evaluation year (rules.year) as on `as_of`.

    `adjustments`: the committee's decisions (objects with unit_code, year, indicator —
    I1…I9 or ADVANCED —, points and advanced, e.g. adjustments.read_adjustments). D12: an
    indicator adjustment replaces the computed points before ranking; a 先进单位 decision
    settles the advanced flag of a unit tied at the cutoff (and only of such a unit; D12 makes
    any other an input error, which is the pipeline's business, not scoring's).

    Returns DataFrames: indicator_scores, scoreboard, milestone_rates, special_group_rates,
    guided_employment, nodes. Points are Decimal(18, 2) columns."""
    ref = load_reference(reference_dir)
    year = rules.year
    knobs = rules.knobs
    require_verification = bool(knobs["require_verification"])
    rounding = str(knobs["deduction_rounding"])
    units = ref.unit_codes

    # D1: the cohort; exports after the run date are out.
    cohort = registrations.filter(
        (pl.col("graduation_year") == year)
        & ~pl.col("is_completion")
        & (pl.col("as_of_date") <= as_of)
    )
    exports: list[dt.date] = sorted(cohort.get_column("as_of_date").unique().to_list())
    snapshot_rows: dict[dt.date, list[Row]] = {}

    def rows_of(snap: Snapshot) -> list[Row]:
        if snap.export_date not in snapshot_rows:
            snapshot_rows[snap.export_date] = cohort.filter(
                pl.col("as_of_date") == snap.export_date
            ).to_dicts()
        return snapshot_rows[snap.export_date]

    def employed(row: Row, on: dt.date) -> bool:
        return _is_employed(row, on, ref, require_verification)

    nodes: list[tuple[str, Snapshot]] = []

    # I3 (D3) ------------------------------------------------------------------------------------
    milestone_rows: list[Row] = []
    i3_points: dict[str, Decimal] = dict.fromkeys(units, _dec(0))
    for m in rules.milestones:
        snap = pick_snapshot(exports, m.date)
        nodes.append(("milestone", snap))
        counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for row in rows_of(snap):
            cell = counts[(row["unit_code"], row["degree"])]
            cell[0] += 1
            cell[1] += employed(row, m.date)
        for unit in units:
            deductions = _dec(0)
            bonuses = _dec(0)
            for degree in DEGREES:
                n, e = counts.get((unit, degree), (0, 0))
                if n == 0:
                    continue
                tb = m.target_bp[degree]
                r = required_employed(tb, n)
                if e >= r:
                    bonus, deduction = _dec((e - r) * rules.i3_bonus_per_person), _dec(0)
                else:
                    shortfall_bp = tb - Fraction(10000 * e, n)
                    bonus = _dec(0)
                    deduction = rounded_steps(shortfall_bp, rules.i3_step_bp, rounding)
                bonuses += bonus
                deductions += deduction
                milestone_rows.append(
                    {
                        "year": year,
                        "unit_code": unit,
                        "degree": degree,
                        "milestone_date": m.date,
                        "graduates": n,
                        "employed": e,
                        "target_rate_bp": tb,
                        "required_employed": r,
                        "bonus": bonus,
                        "deduction": deduction,
                        "snapshot_date": snap.export_date,
                        "reconstructed": snap.reconstructed,
                        "status": snap.status,
                    }
                )
            node = max(_dec(0), _dec(m.base_points) - deductions) + bonuses
            i3_points[unit] += node

    # The last milestone (15 Dec): unit size (I7/I8), overall rate (D10), special groups (I6).
    last = max(rules.milestones, key=lambda m: m.date)
    last_snap = pick_snapshot(exports, last.date)
    size: dict[str, int] = dict.fromkeys(units, 0)
    final_employed: dict[str, int] = dict.fromkeys(units, 0)
    roster: dict[str, set[str]] = defaultdict(set)
    for r in special_groups.filter(pl.col("graduation_year") == year).to_dicts():
        roster[r["student_id"]].add(r["special_group"])
    group_cells: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    pooled_cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows_of(last_snap):
        unit, degree = row["unit_code"], row["degree"]
        is_emp = employed(row, last.date)
        size[unit] = size.get(unit, 0) + 1
        final_employed[unit] = final_employed.get(unit, 0) + is_emp
        groups = set(roster.get(row["student_id"], set()))
        eth = row["ethnicity"]
        if eth is not None and eth != MAJORITY_ETHNICITY:
            groups.add("ethnic_minority")
        for g in groups:
            cell = group_cells[(unit, g, degree)]
            cell[0] += 1
            cell[1] += is_emp
        if groups:
            cell = pooled_cells[(unit, degree)]
            cell[0] += 1
            cell[1] += is_emp

    special_rows: list[Row] = []
    for (unit, g, degree), (n, e) in group_cells.items():
        tb = last.target_bp[degree]
        special_rows.append(
            {
                "year": year,
                "unit_code": unit,
                "special_group": g,
                "degree": degree,
                "graduates": n,
                "employed": e,
                "target_rate_bp": tb,
                "meets_target": meets_target(tb, n, e),
            }
        )
    scope = knobs["special_group_scope"]
    if scope == "per_group_degree":
        i6_cells = [(k[0], k[2], v) for k, v in group_cells.items()]
    elif scope == "pooled_by_degree":
        i6_cells = [(k[0], k[1], v) for k, v in pooled_cells.items()]
    else:
        raise ValueError(f"unknown special_group_scope {scope!r}")
    i6_fail = {
        unit for unit, deg, (n, e) in i6_cells if not meets_target(last.target_bp[deg], n, e)
    }

    # I9 (D6) ------------------------------------------------------------------------------------
    guided_snap = pick_snapshot(exports, rules.guided_date)
    nodes.append(("guided", guided_snap))
    n_all: dict[str, int] = dict.fromkeys(units, 0)
    n_job: dict[str, int] = dict.fromkeys(units, 0)
    n_guided: dict[str, int] = dict.fromkeys(units, 0)
    for row in rows_of(guided_snap):
        unit = row["unit_code"]
        n_all[unit] = n_all.get(unit, 0) + 1
        is_job = ref.destination_kind[row["destination_family"]] == "job"
        if is_job and employed(row, rules.guided_date):
            n_job[unit] = n_job.get(unit, 0) + 1
            n_guided[unit] = n_guided.get(unit, 0) + _is_guided(row, ref)
    denominator_kind = knobs["guided_denominator"]
    guided_rows: list[Row] = []
    i9: dict[str, tuple[Decimal, bool]] = {}
    base9 = _base(rules, "I9")
    for unit in units:
        if denominator_kind == "employed_in_job":
            den = n_job[unit]
        elif denominator_kind == "all_graduates":
            den = n_all[unit]
        else:
            raise ValueError(f"unknown guided_denominator {denominator_kind!r}")
        g = n_guided[unit]
        if den == 0:
            pts, review = _dec(base9), True
        elif 10000 * g >= rules.i9_target_bp * den:
            pts, review = _dec(base9), False
        else:
            shortfall_bp = rules.i9_target_bp - Fraction(10000 * g, den)
            deduction = rounded_steps(shortfall_bp, rules.i9_step_bp, rounding)
            pts, review = max(_dec(0), _dec(base9) - deduction), False
        i9[unit] = (pts, review)
        guided_rows.append(
            {
                "year": year,
                "unit_code": unit,
                "denominator": den,
                "guided": g,
                "points": pts,
                "needs_review": review,
                "snapshot_date": guided_snap.export_date,
            }
        )

    # Submissions: I1, I2, I4, I5, I7, I8 ----------------------------------------------------------
    subs = _submission_rows(submissions, year, units)
    threshold = int(str(knobs["large_unit_threshold"]))
    partial = str(knobs["partial_credit"])
    computed: dict[str, dict[str, tuple[Decimal, bool]]] = {}
    for unit in units:
        s = subs[unit]
        large = size[unit] > threshold
        half = _base(rules, "I5") // 2
        meeting: dt.date | None = s["i5_meeting_date"]
        in_month = (
            meeting is not None and meeting.year == year and meeting.month == rules.i5_meeting_month
        )
        talks = s["i5_talks"]
        complaints = s["i2_complaints"]
        computed[unit] = {
            "I1": (_review_score(s["i1_review_score"]), False),
            "I2": (_dec(_base(rules, "I2") if complaints == 0 else 0), False),
            "I3": (i3_points[unit], False),
            "I4": (_review_score(s["i4_review_score"]), False),
            "I5": (_dec(half * in_month + half * (talks is not None and talks >= 1)), False),
            "I6": (_dec(0 if unit in i6_fail else _base(rules, "I6")), False),
            "I7": (
                _documents(
                    _base(rules, "I7"),
                    s["i7_forms"],
                    rules.i7_required[0 if large else 1],
                    partial,
                ),
                False,
            ),
            "I8": (
                _documents(
                    _base(rules, "I8"),
                    s["i8_stories"],
                    rules.i8_required[0 if large else 1],
                    partial,
                ),
                False,
            ),
            "I9": i9[unit],
        }

    # Committee adjustments (D12) --------------------------------------------------------------
    adjusted_points: dict[tuple[str, str], Decimal] = {}
    decisions: dict[str, bool] = {}
    for a in adjustments:
        if a.year != year:
            continue
        decided_on = getattr(a, "decided_on", None)
        if decided_on is not None and decided_on > as_of:
            continue  # dated after the night: not applied on it (replays are exact)
        if a.indicator == "ADVANCED":
            decisions[a.unit_code] = bool(a.advanced)
        else:
            adjusted_points[(a.unit_code, a.indicator)] = _dec(Decimal(a.points))

    indicator_rows: list[Row] = []
    totals: dict[str, Decimal] = {}
    final_points: dict[str, dict[str, Decimal]] = {}
    for unit in units:
        final_points[unit] = {}
        for ind in INDICATORS:
            category, base, _name = rules.indicators[ind]
            pts, review = computed[unit][ind]
            adjusted = (unit, ind) in adjusted_points
            final_points[unit][ind] = adjusted_points.get((unit, ind), pts)
            indicator_rows.append(
                {
                    "year": year,
                    "unit_code": unit,
                    "indicator": ind,
                    "category": category,
                    "base_points": base,
                    "computed_points": pts,
                    "points": final_points[unit][ind],
                    "adjusted": adjusted,
                    "needs_review": review,
                }
            )
        totals[unit] = sum(final_points[unit].values(), _dec(0))

    # Ranking and status (D10, D11) -------------------------------------------------------------
    def overall_rate(unit: str) -> Fraction:
        # A unit with no graduates (an input error by D13) ranks as a 0 % rate.
        return Fraction(final_employed[unit], size[unit]) if size[unit] else Fraction(0)

    board: list[Row] = []
    undecided_tie = False
    for group in dict.fromkeys(g for _, g in ref.units):
        members = [u for u, g in ref.units if g == group]
        quota = rules.quotas[group]
        ranks = competition_ranks(
            {u: (totals[u], final_points[u]["I3"], overall_rate(u)) for u in members}
        )
        for unit in members:
            rank, tied = ranks[unit]
            last_place = rank + tied - 1
            tie = rank <= quota < last_place
            decision = decisions.get(unit)
            undecided_tie = undecided_tie or (tie and decision is None)
            advanced = decision if tie and decision is not None else last_place <= quota
            board.append(
                {
                    "year": year,
                    "unit_code": unit,
                    "unit_group": group,
                    "total_points": totals[unit],
                    "rank_in_group": rank,
                    "quota": quota,
                    "is_advanced": advanced,
                    "tie_at_cutoff": tie,
                    "is_decided_by_committee": decision is not None,
                }
            )
    complete = all(all(subs[u][c] is not None for c in SUBMISSION_SCORED) for u in units)
    nodes_final = all(not s.provisional and not s.reconstructed for _, s in nodes)
    status = "final" if complete and nodes_final and not undecided_tie else "provisional"
    for row in board:
        row["status"] = status

    node_rows = [
        {
            "year": year,
            "node": kind,
            "node_date": s.node_date,
            "snapshot_date": s.export_date,
            "reconstructed": s.reconstructed,
            "status": s.status,
        }
        for kind, s in nodes
    ]

    return {
        "indicator_scores": pl.DataFrame(
            indicator_rows,
            schema={
                "year": pl.Int64,
                "unit_code": pl.String,
                "indicator": pl.String,
                "category": pl.String,
                "base_points": pl.Int64,
                "computed_points": POINTS,
                "points": POINTS,
                "adjusted": pl.Boolean,
                "needs_review": pl.Boolean,
            },
        ),
        "scoreboard": pl.DataFrame(
            board,
            schema={
                "year": pl.Int64,
                "unit_code": pl.String,
                "unit_group": pl.String,
                "total_points": POINTS,
                "rank_in_group": pl.Int64,
                "quota": pl.Int64,
                "is_advanced": pl.Boolean,
                "tie_at_cutoff": pl.Boolean,
                "is_decided_by_committee": pl.Boolean,
                "status": pl.String,
            },
        ),
        "milestone_rates": pl.DataFrame(
            milestone_rows,
            schema={
                "year": pl.Int64,
                "unit_code": pl.String,
                "degree": pl.String,
                "milestone_date": pl.Date,
                "graduates": pl.Int64,
                "employed": pl.Int64,
                "target_rate_bp": pl.Int64,
                "required_employed": pl.Int64,
                "bonus": POINTS,
                "deduction": POINTS,
                "snapshot_date": pl.Date,
                "reconstructed": pl.Boolean,
                "status": pl.String,
            },
        ),
        "special_group_rates": pl.DataFrame(
            special_rows,
            schema={
                "year": pl.Int64,
                "unit_code": pl.String,
                "special_group": pl.String,
                "degree": pl.String,
                "graduates": pl.Int64,
                "employed": pl.Int64,
                "target_rate_bp": pl.Int64,
                "meets_target": pl.Boolean,
            },
        ).sort("unit_code", "special_group", "degree"),
        "guided_employment": pl.DataFrame(
            guided_rows,
            schema={
                "year": pl.Int64,
                "unit_code": pl.String,
                "denominator": pl.Int64,
                "guided": pl.Int64,
                "points": POINTS,
                "needs_review": pl.Boolean,
                "snapshot_date": pl.Date,
            },
        ),
        "nodes": pl.DataFrame(
            node_rows,
            schema={
                "year": pl.Int64,
                "node": pl.String,
                "node_date": pl.Date,
                "snapshot_date": pl.Date,
                "reconstructed": pl.Boolean,
                "status": pl.String,
            },
        ),
    }
