"""The morning report (in season, every night): progress_<year>_<as-of>.html and .xlsx beside
the published marts, read from the published marts file only (no personal data), and a Prefect
markdown artifact that links it and shows the units furthest behind their next node."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from employment_eval import fsmodes
from employment_eval.render.morning.artifact import artifact_markdown
from employment_eval.render.morning.data import (
    Morning,
    MorningReportError,
    NoDataError,
    QualityNote,
    notes_from_run,
    read_morning,
)
from employment_eval.render.morning.report import write_report
from employment_eval.render.morning.workbook import write_workbook
from employment_eval.render.report_names import report_paths

__all__ = [
    "Morning",
    "MorningReportError",
    "NoDataError",
    "QualityNote",
    "artifact_markdown",
    "notes_from_run",
    "previous_report",
    "publish_report",
    "read_morning",
    "report_paths",
    "write_files",
    "write_morning_report",
]


def previous_report(out_dir: Path, year: int, as_of: dt.date) -> Path | None:
    """The newest morning report of `year` on or before `as_of` in out_dir (html), if any:
    what the centre still has when tonight's could not be written."""
    html, _ = report_paths(out_dir, year, as_of)
    found = sorted(
        p for p in out_dir.glob(f"progress_{year}_*.html") if p.is_file() and p.name <= html.name
    )
    return found[-1] if found else None


def write_files(m: Morning, out_dir: Path) -> list[Path]:
    """Write the two files for `m` into out_dir; all or nothing (temporary names renamed into
    place once both are written), readable by everyone."""
    fsmodes.public_dir(out_dir)
    for stale in out_dir.glob(".progress_*.writing"):  # left by a killed run (we hold the lock)
        stale.unlink(missing_ok=True)
    html, xlsx = report_paths(out_dir, m.year, m.as_of)
    done: list[tuple[Path, Path]] = []
    try:
        for path, writer in ((html, write_report), (xlsx, write_workbook)):
            temp = path.with_name(f".{path.name}.writing")
            done.append((temp, path))
            writer(m, temp)
    except BaseException:
        for temp, _ in done:
            temp.unlink(missing_ok=True)
        raise
    for temp, path in done:
        fsmodes.make_public(temp)
        os.replace(temp, path)
    return [path for _, path in done]


def write_morning_report(
    marts_path: Path, year: int, as_of: dt.date, notes: Iterable[QualityNote] = ()
) -> tuple[Morning, list[Path]]:
    """Read the published marts and write the night's report beside them."""
    m = read_morning(marts_path, year, as_of, notes)
    return m, write_files(m, marts_path.parent)


def publish_report(
    marts_path: Path,
    year: int,
    as_of: dt.date,
    notes: Iterable[QualityNote] = (),
    say: Callable[[str], object] = print,
) -> list[Path]:
    """The nightly step (inside a Prefect task): write the report and attach its artifact.
    A year without data yet (a new year's rules before its first export) has no report: that
    is said, not an error. Any other MorningReportError (a broken template) is raised."""
    from employment_eval.render.morning import artifact

    try:
        m, paths = write_morning_report(marts_path, year, as_of, notes)
    except NoDataError as exc:
        say(str(exc))
        return []
    artifact.attach(m, paths)
    return paths
