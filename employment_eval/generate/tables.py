"""The centre's small tables: the ledger of unit materials (submissions/), the special-group
rosters (special_groups/) and the committee's adjustments (adjustments/).

The ledger rows of the units that carry the demo's tie are fixed profiles, and
`ledger_points` scores a row exactly as docs/评估规则.md D5/D7/D8 say, so that the generator can
check the margins that keep the tie at the quota line whatever the as-of date (showcase.py)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import polars as pl

from employment_eval.ingest.schema import (
    ADJUSTMENT_COLUMNS,
    SPECIAL_GROUP_COLUMNS,
    SUBMISSION_COLUMNS,
)
from employment_eval.reference import Reference
from employment_eval.rules import Rules

ROSTER_GROUPS = (("econ", "经济困难"), ("academic", "学业困难"))

# Free text of the committee's decisions. No digit, and no surname followed by a given-name
# character (cohort.SURNAMES × cohort.GIVEN), so that no graduate's name or 学号 can appear in
# it (ingestion refuses personal data in 理由 and 审批人: they are published).
REASON_COMPLAINT = "经学指委复核，该投诉不属于合理投诉，恢复该项得分"
APPROVER_COMPLAINT = "学指委主任"
REASON_ADVANCED = (
    "与同组另一单位总分、时间节点得分及十二月十五日就业率完全相同，并列于名额线上，经学指委审议{}"
)
DECISION_TEXT = {True: "评为先进单位", False: "不评为先进单位"}
APPROVER_ADVANCED = "学生工作指导委员会"


@dataclass(frozen=True)
class Profile:
    """A fixed ledger row. forms/stories: a count, or 'max' (the larger requirement, full
    marks at any size) or 'large' (the requirement of a large unit)."""

    i1: Fraction
    complaints: int
    i4: Fraction
    meeting_in_month: bool
    talks: int
    forms: int | str
    stories: int | str


# Above the clones: full marks but half a point of I4. The clones: a little below. Below the
# clones: far below, and no counselling forms at all (I7 = 0). The two units whose rank the exact
# 15 Dec rate decides: one shared row.
PROFILES = {
    "above": Profile(Fraction(5), 0, Fraction(39, 2), True, 3, "max", "max"),
    "clone": Profile(Fraction(9, 2), 0, Fraction(17), True, 2, "large", 1),
    "below": Profile(Fraction(3), 0, Fraction(8), True, 0, 0, 1),
    "twin": Profile(Fraction(9, 2), 0, Fraction(35, 2), True, 2, "large", "large"),
}
PROFILE_REPORT_DAY = 20  # 20 March: the survey report on unemployed students
PROFILE_MEETING_DAY = 15  # 15 October (the month of the rules): the mobilisation meeting


def _count(value: int | str, required: tuple[int, int]) -> int:
    if value == "max":
        return max(required)
    if value == "large":
        return required[0]
    return int(value)


def _half_up(x: Fraction) -> Fraction:
    return Fraction(math.floor(x * 100 + Fraction(1, 2)), 100)


def _documents(base: int, got: int, required: int, partial: str) -> Fraction:
    if required == 0 or got >= required:
        return Fraction(base)
    if partial == "none":
        return Fraction(0)
    return _half_up(base * Fraction(got, required))


def ledger_points(p: Profile, graduates: int, rules: Rules) -> Fraction:
    """Points of I1, I2, I4, I5, I7, I8 of a ledger row for a unit of `graduates` (D5, D7, D8)."""
    base = {code: spec[1] for code, spec in rules.indicators.items()}
    large = graduates > int(str(rules.knobs["large_unit_threshold"]))
    partial = str(rules.knobs["partial_credit"])
    forms = _count(p.forms, rules.i7_required)
    stories = _count(p.stories, rules.i8_required)
    half = base["I5"] // 2
    return (
        min(p.i1, Fraction(base["I1"]))
        + (base["I2"] if p.complaints == 0 else 0)
        + min(p.i4, Fraction(base["I4"]))
        + half * p.meeting_in_month
        + (base["I5"] - half) * (p.talks >= 1)
        + _documents(base["I7"], forms, rules.i7_required[0 if large else 1], partial)
        + _documents(base["I8"], stories, rules.i8_required[0 if large else 1], partial)
    )


def unit_spellings(ref: Reference) -> list[list[str]]:
    """Per unit: full name, short name, then the aliases."""
    out = [[u.name, u.short_name] for u in ref.units]
    index = {u.code: i for i, u in enumerate(ref.units)}
    for r in ref.seeds["unit_aliases"]:
        if r["alias"] not in out[index[r["unit_code"]]]:
            out[index[r["unit_code"]]].append(r["alias"])
    return out


@dataclass(frozen=True)
class LedgerInfo:
    complaint_unit: int  # the unit with one reasonable complaint (I2 = 0 as computed)
    zero_forms: tuple[int, ...]  # units that handed in no counselling form (I7 = 0)


def ledger(
    rng: np.random.Generator,
    ref: Reference,
    rules: Rules,
    roles: dict[int, str],
    xlsx: bool,
) -> tuple[pl.DataFrame, LedgerInfo]:
    """The centre's ledger of unit materials: complete, within bounds, a few odd rows among the
    units without a role (a complaint, an April and a missing survey report, a September
    meeting), fixed profiles for the units with one."""
    year = rules.year
    n = len(ref.units)
    spellings = unit_spellings(ref)
    free = np.array([i for i in range(n) if i not in roles])
    # complaint, April report, blank report, September meeting, no counselling form
    odd = rng.choice(free, 5, replace=False)
    units = [s[0] if rng.random() < 0.6 else s[int(rng.integers(1, len(s)))] for s in spellings]
    i1 = [Fraction(str(v)) for v in rng.choice([3.5, 4.0, 4.5, 5.0, 5.0], n)]
    i4 = [Fraction(int(v), 2) for v in rng.integers(24, 41, n)]
    report: list[dt.date | None] = [dt.date(year, 3, int(d)) for d in rng.integers(5, 32, n)]
    report[odd[1]] = dt.date(year, 4, int(rng.integers(1, 16)))
    report[odd[2]] = None
    month = rules.i5_meeting_month
    meeting = [dt.date(year, month, int(d)) for d in rng.integers(8, 29, n)]
    meeting[odd[3]] = dt.date(year, 9, int(rng.integers(20, 31)))
    complaints = np.zeros(n, dtype=np.int64)
    complaints[odd[0]] = 1
    talks = rng.choice([0, 1, 1, 2, 2, 3, 4], n)
    forms = rng.choice([1, 2, 3, 3, 4, 5], n)
    stories = rng.choice([0, 1, 2, 3, 3, 4, 5, 6], n)
    for ui, role in roles.items():
        p = PROFILES[role]
        i1[ui], i4[ui], complaints[ui], talks[ui] = p.i1, p.i4, p.complaints, p.talks
        report[ui] = dt.date(year, 3, PROFILE_REPORT_DAY)
        meeting[ui] = dt.date(year, month if p.meeting_in_month else 9, PROFILE_MEETING_DAY)
        forms[ui] = _count(p.forms, rules.i7_required)
        stories[ui] = _count(p.stories, rules.i8_required)
    zero = tuple(sorted(ui for ui, role in roles.items() if role == "below"))
    if not zero:
        zero = (int(odd[4]),)
        forms[odd[4]] = 0
    columns = [
        pl.Series(units),
        pl.Series([year] * n),
        pl.Series([float(v) for v in i1]),
        pl.Series(complaints),
        pl.Series([float(v) for v in i4]),
        pl.Series(report, dtype=pl.Date),
        pl.Series(meeting, dtype=pl.Date),
        pl.Series(talks),
        pl.Series(forms),
        pl.Series(stories),
    ]
    frame = pl.DataFrame({c.header: s for c, s in zip(SUBMISSION_COLUMNS, columns, strict=True)})
    info = LedgerInfo(int(odd[0]), zero)
    if xlsx:
        return frame, info
    half = pl.col(pl.Float64)
    text = frame.with_columns(
        pl.when(half == half.floor())
        .then(half.cast(pl.Int64).cast(pl.String))
        .otherwise(half.cast(pl.String)),
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"),
    )
    return text, info


def rosters(story: pl.DataFrame, year: int) -> list[tuple[str, pl.DataFrame]]:
    """One roster per group (经济困难, 学业困难): several files, read as one list."""
    members = story.filter(~pl.col("completion") & ~pl.col("ghost"))
    out = []
    for flag, label in ROSTER_GROUPS:
        frame = members.filter(pl.col(flag)).select(
            pl.col("student_id").alias(SPECIAL_GROUP_COLUMNS[0].header),
            pl.lit(label).alias(SPECIAL_GROUP_COLUMNS[1].header),
            pl.lit(str(year)).alias(SPECIAL_GROUP_COLUMNS[2].header),
        )
        out.append((label, frame))
    return out


def adjustments(
    ref: Reference,
    rules: Rules,
    complaint_unit: int,
    decisions: list[tuple[int, bool]],
    decided_on: dt.date,
) -> pl.DataFrame:
    """The committee's decisions: the complaint judged not reasonable (I2 back to its base),
    and one 先进单位 是 / 否 per unit tied at the quota line."""
    rows = [
        (
            ref.units[complaint_unit].name,
            "I2",
            str(rules.indicators["I2"][1]),
            REASON_COMPLAINT,
            APPROVER_COMPLAINT,
        )
    ]
    for ui, advanced in decisions:
        rows.append(
            (
                ref.units[ui].name,
                "先进单位",
                "是" if advanced else "否",
                REASON_ADVANCED.format(DECISION_TEXT[advanced]),
                APPROVER_ADVANCED,
            )
        )
    headers = [c.header for c in ADJUSTMENT_COLUMNS]
    return pl.DataFrame(
        {
            headers[0]: [r[0] for r in rows],
            headers[1]: [str(rules.year)] * len(rows),
            headers[2]: [r[1] for r in rows],
            headers[3]: [r[2] for r in rows],
            headers[4]: [r[3] for r in rows],
            headers[5]: [r[4] for r in rows],
            headers[6]: [decided_on.isoformat()] * len(rows),
        }
    )
