"""How the comparison's values are written (console, xlsx and html share these). A unit's remark
is marts.unit_standing's, as in every other output."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from employment_eval.render.formats import points
from employment_eval.whatif.compare import DraftCell
from employment_eval.whatif.score import UnitScore

CHANGED = "*"


def display_width(text: str) -> int:
    """Console columns: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def delta(value: Decimal) -> str:
    if value == 0:
        return "±0"
    return ("+" if value > 0 else "−") + points(abs(value))


def advanced(unit: UnitScore) -> str:
    """The unit's remark (先进单位, a tie at the quota line and the committee's decision), as
    marts.unit_standing words it; '—' when it has none."""
    return unit.label or "—"


def draft_points(cell: DraftCell) -> str:
    if not cell.points_changed:
        return points(cell.score.total)
    return f"{points(cell.score.total)}（{delta(cell.delta)}）"


def draft_rank(cell: DraftCell) -> str:
    if not cell.rank_changed:
        return str(cell.score.rank)
    return f"{cell.official.rank}→{cell.score.rank}"


def draft_advanced(cell: DraftCell) -> str:
    if not cell.advanced_changed:
        return advanced(cell.score)
    return f"{advanced(cell.official)}→{advanced(cell.score)}"


def differing(official: str, draft: str) -> tuple[str, str]:
    """The sentences (separated by 。, e.g. I3's nodes) in which two details differ, the
    others left out and said so; the whole details when they do not split alike."""
    a, b = official.split("。"), draft.split("。")
    if len(a) != len(b) or len(a) == 1:
        return official, draft
    keep = [i for i in range(len(a)) if a[i] != b[i]]
    if not keep or len(keep) == len(a):
        return official, draft
    note = "（其余相同，从略）"
    return "。".join(a[i] for i in keep) + note, "。".join(b[i] for i in keep) + note
