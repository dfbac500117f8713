"""Synthetic input data: evaluation years written as the centre's files would be.

`generate(out)` writes registrations/ (the season's employment-database exports, one of them
delivered twice), special_groups/ (one roster per group), submissions/ (the ledger of unit
materials) and adjustments/ (the committee's decisions), following docs/输入文件格式.md,
and the rules files the years need beside `out` (`out/../rules/`: a year without a bundled
rules file, and a what-if draft with decimal targets). Everything is decided by the seed:
the same arguments give byte-identical files. The cohort and every graduate's story depend
only on (year, seed, scale); `exports` and `fmt` only decide which snapshots are written and
how (and whether a later export lets one roster student be missing from the last node's
export).

The default season shows every case of the rules on purpose (showcase.py): a committee
adjustment, a tie at a quota line decided by the committee, a rank decided by the exact 15 Dec
rate, a special-group cell exactly at its target, cohort changes, a unit without counselling
forms. Large scales are vectorised (numpy + polars): no per-row Python loop runs except when
writing .xlsx cells.

Modules: season (calendar, export dates), cohort, story (timelines, destinations, snapshots),
showcase (the built-in cases), tables (ledger, rosters, adjustments), files (export styles and
writers), rulesfiles (rules files), core (`generate`)."""

from employment_eval.generate.cohort import COHORTS
from employment_eval.generate.core import DEFAULT_EXPORTS, FORMATS, generate, parse_years
from employment_eval.generate.errors import GenerateError
from employment_eval.generate.season import Season, export_dates, load_season

__all__ = [
    "COHORTS",
    "DEFAULT_EXPORTS",
    "FORMATS",
    "GenerateError",
    "Season",
    "export_dates",
    "generate",
    "load_season",
    "parse_years",
]
