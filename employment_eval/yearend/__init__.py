"""The year-end files (OUTPUTS.md): scoreboard_<year>.xlsx, scoreboard_<year>.csv and
report_<year>.html, rendered from the published marts file only (opened read-only)."""

from __future__ import annotations

from pathlib import Path

from employment_eval.yearend.csvfile import write_csv
from employment_eval.yearend.data import NoDataError, YearEnd, read_year_end
from employment_eval.yearend.report import write_report
from employment_eval.yearend.workbook import write_workbook

__all__ = ["NoDataError", "YearEnd", "read_year_end", "write_files", "write_year_end_files"]


def write_files(ye: YearEnd, out_dir: Path) -> list[Path]:
    """Write the three files for `ye` into out_dir (created if needed); return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        write_workbook(ye, out_dir / f"scoreboard_{ye.year}.xlsx"),
        write_csv(ye, out_dir / f"scoreboard_{ye.year}.csv"),
        write_report(ye, out_dir / f"report_{ye.year}.html"),
    ]


def write_year_end_files(marts_path: Path, year: int, out_dir: Path) -> list[Path]:
    return write_files(read_year_end(marts_path, year), out_dir)
