"""The file names of a night's morning report, apart from the report's code: a night with
nothing new names the last report without importing what writes one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path


def report_paths(out_dir: Path, year: int, as_of: dt.date) -> tuple[Path, Path]:
    """(html, xlsx) of the night: progress_<year>_<as-of>.html / .xlsx in out_dir."""
    stem = f"progress_{year}_{as_of.isoformat()}"
    return out_dir / f"{stem}.html", out_dir / f"{stem}.xlsx"
