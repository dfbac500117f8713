"""Each unit's one-page sheet (no personal data): `<unit folder>/<code>_<short>_进度单_<as-of>.html`
beside the unit's follow-up list (followup/<year>/<as-of>/<unit>/), written every night with the
lists. It is read from the published marts only, through the morning report's `Morning` (one
reading for the report and the fifteen sheets): the unit's degrees against the next node
(marts.progress), its figures and sentences (marts.unit_sheet: what to do today, the node if
nothing changes, its rank so far, last year at the same date) and its season against last
year (marts.season_curves). After the year's last node: that node's results instead."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from employment_eval.render.morning.data import (
    Morning,
    MorningReportError,
    Unit,
    UnitFacts,
    UnitFinal,
    UnitProgress,
)

__all__ = ["UnitSheet", "UnitSheetError", "sheets", "write_sheet"]


class UnitSheetError(MorningReportError):
    """A unit's sheet cannot be written (a broken template); one Chinese paragraph."""


@dataclass(frozen=True)
class UnitSheet:
    m: Morning
    unit: Unit
    facts: UnitFacts
    progress: UnitProgress | None  # in season: the unit's degrees against the next node
    final: UnitFinal | None  # after the year's last node: its results there


def sheets(m: Morning) -> list[UnitSheet]:
    """A sheet for every unit of the scoreboard, in reference order."""
    units = {b.unit.code: b.unit for b in m.board}
    return [
        UnitSheet(m, units[f.unit_code], f, m.progress_of(f.unit_code), m.final_of(f.unit_code))
        for f in m.facts
        if f.unit_code in units
    ]


def write_sheet(sheet: UnitSheet, path: Path) -> Path:
    from employment_eval.render.unitsheet.report import render

    path.write_text(render(sheet), encoding="utf-8")
    return path
