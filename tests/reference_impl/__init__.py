"""A second, independent implementation of the scoring rules, used only by tests.

It implements docs/评估规则.md directly (not the SQL models) and does every computation in Python
integers, `fractions.Fraction` and `decimal.Decimal`, so that the SQL marts can be
cross-checked against it cell by cell. The committee's adjustments are read straight from
the raw files (adjustments.py), not from ingestion's tables."""

from .adjustments import Adjustment, read_adjustments
from .scoring import (
    DEGREES,
    SPECIAL_GROUPS,
    ReferenceData,
    Snapshot,
    competition_ranks,
    half_up_2dp,
    load_reference,
    meets_target,
    pick_snapshot,
    required_employed,
    rounded_steps,
    score,
)

__all__ = [
    "DEGREES",
    "SPECIAL_GROUPS",
    "Adjustment",
    "ReferenceData",
    "Snapshot",
    "competition_ranks",
    "half_up_2dp",
    "load_reference",
    "meets_target",
    "pick_snapshot",
    "read_adjustments",
    "required_employed",
    "rounded_steps",
    "score",
]
