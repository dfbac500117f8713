"""Each unit's folder of the night (personal data, restricted):
`<work folder>/followup/<year>/<as-of>/<unit_code>_<short name>/` holds the unit's follow-up
list (`…_跟进名单_<as-of>.xlsx`, personal data) and its one-page sheet (`…_进度单_<as-of>.html`,
no personal data), so that the centre sends each unit one folder. Folders 0700, files 0600,
never beside the published marts. A run writes only its own year's folder: another year's
nights are never replaced; only the year's last N nights are kept (RunOptions.keep_followup).

The lists the units hand back go to `<work folder>/followup/returned/` and are read (checked,
their notes stored) before the night's lists are written (`returned`); each graduate's note is
carried forward on the next list (`data`, `workbook`)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from employment_eval import fsmodes, textsafe
from employment_eval.followup.data import Header, UnitList, last_node, read_lists
from employment_eval.followup.returned import ReturnedResult, read_returned
from employment_eval.followup.workbook import SHEET, write_unit_file

__all__ = [
    "FOLDER",
    "SHEET",
    "STEP",
    "Written",
    "folder_name",
    "list_name",
    "night_dir",
    "previous_night",
    "prune",
    "read_lists",
    "returned_dir",
    "root",
    "sheet_name",
    "write_followup_lists",
    "year_dir",
]

FOLDER = "followup"
STEP = "各单位跟进名单与进度单"  # the nightly step, as the console names it
NIGHT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


@dataclass(frozen=True)
class Written:
    folder: Path  # the night's folder (one sub-folder per unit)
    units: int
    sheets: int  # units with a sheet (none when the marts hold no scoreboard of the year)
    returned: ReturnedResult


def root(work_dir: Path) -> Path:
    return work_dir / FOLDER


def year_dir(work_dir: Path, year: int) -> Path:
    return root(work_dir) / str(year)


def night_dir(work_dir: Path, year: int, as_of: dt.date) -> Path:
    return year_dir(work_dir, year) / as_of.isoformat()


def returned_dir(work_dir: Path) -> Path:
    from employment_eval.followup import returned

    return returned.folder(work_dir)


def previous_night(work_dir: Path, year: int, as_of: dt.date) -> Path | None:
    """The newest night's folder of `year` on or before `as_of`, if any."""
    base = year_dir(work_dir, year)
    if not base.is_dir():
        return None
    nights = sorted(
        p for p in base.iterdir() if p.is_dir() and NIGHT.match(p.name) and p.name <= str(as_of)
    )
    return nights[-1] if nights else None


def folder_name(code: str, short_name: str) -> str:
    """`<unit_code>_<short name>`, with no character a file system would refuse."""
    safe = _UNSAFE_NAME.sub("_", textsafe.clean(short_name)).strip(" .") or code
    return f"{code}_{safe}"


def list_name(code: str, short_name: str, as_of: dt.date) -> str:
    return f"{folder_name(code, short_name)}_跟进名单_{as_of.isoformat()}.xlsx"


def sheet_name(code: str, short_name: str, as_of: dt.date) -> str:
    return f"{folder_name(code, short_name)}_进度单_{as_of.isoformat()}.html"


def write_followup_lists(
    con: duckdb.DuckDBPyConnection,
    work_dir: Path,
    year: int,
    as_of: dt.date,
    run_id: str,
    keep: int,
    marts_path: Path | None = None,
    generated_at: dt.datetime | None = None,
) -> Written:
    """Read the lists handed back, then write the night's folder of each unit (its list, and
    its sheet when `marts_path` is given) into followup/<year>/<as-of>/, replacing that night's
    previous folders of the year as a whole, then keep only the year's `keep` most recent
    nights."""
    fsmodes.private_dir(root(work_dir))
    fsmodes.private_dir(returned_dir(work_dir))
    base = fsmodes.private_dir(year_dir(work_dir, year))
    returned = read_returned(con, work_dir, year, as_of, run_id)
    if generated_at is None:
        found = con.execute(
            "select generated_at from meta.run_facts where run_id = ?", [run_id]
        ).fetchone()
        generated_at = found[0] if found else None
    latest, previous, units = read_lists(con, year, as_of)
    node = last_node(con, year, as_of)
    header = Header(year, as_of, latest, previous, node, run_id, generated_at)
    sheets = _sheets(marts_path, year, as_of) if marts_path is not None else {}
    target = night_dir(work_dir, year, as_of)
    temp = fsmodes.private_dir(base / f".{as_of.isoformat()}.{run_id}.writing")
    try:
        for unit in units:
            _write_unit(unit, header, sheets.get(unit.code), temp)
        old = base / f".{as_of.isoformat()}.{run_id}.old"
        if target.exists():
            os.replace(target, old)
        os.replace(temp, target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    prune(base, keep, current=target)
    return Written(target, len(units), sum(1 for u in units if u.code in sheets), returned)


def _write_unit(unit: UnitList, header: Header, sheet, night: Path) -> None:
    from employment_eval.render.unitsheet import write_sheet

    here = fsmodes.private_dir(night / folder_name(unit.code, unit.short_name))
    write_unit_file(unit, header, here / list_name(unit.code, unit.short_name, header.as_of))
    if sheet is not None:
        path = here / sheet_name(unit.code, unit.short_name, header.as_of)
        fsmodes.make_private(write_sheet(sheet, path))


def _sheets(marts_path: Path, year: int, as_of: dt.date) -> dict[str, object]:
    """Each unit's sheet, read from the published marts (none for a year without data)."""
    from employment_eval.render.morning import NoDataError, read_morning
    from employment_eval.render.unitsheet import sheets

    try:
        m = read_morning(marts_path, year, as_of)
    except NoDataError:
        return {}
    return {s.unit.code: s for s in sheets(m)}


def prune(base: Path, keep: int, current: Path | None = None) -> list[Path]:
    """Keep the `keep` most recent nights (folder names are the as-of dates); the night just
    written is always kept. Leftovers of an interrupted run (hidden folders) are removed (the
    caller holds the run lock of the working database)."""
    nights = sorted(p for p in base.iterdir() if p.is_dir() and NIGHT.match(p.name))
    removed = [p for p in nights[: max(len(nights) - keep, 0)] if p != current]
    removed += [p for p in base.iterdir() if p.name.startswith(".") and p.is_dir()]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed
