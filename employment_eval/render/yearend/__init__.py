"""The year-end files (README.md, docs/使用说明.md): scoreboard_<year>.xlsx,
scoreboard_<year>.csv and report_<year>.html, rendered from the published marts file only
(opened read-only).

Every text from the data goes through `employment_eval.textsafe` (bidi controls removed, CSV
formulas neutralised, xlsx texts never cut) and, in the HTML, the templates' autoescape
(`render.templates`). Each file names where it comes from: the policy, the as-of date, the
generation time, the rules version and the run id."""

from __future__ import annotations

import os
from pathlib import Path

from employment_eval import fsmodes
from employment_eval.render.yearend.csvfile import write_csv
from employment_eval.render.yearend.data import (
    MissingProvenanceError,
    NoDataError,
    YearEnd,
    YearEndError,
    read_year_end,
)
from employment_eval.render.yearend.report import write_report
from employment_eval.render.yearend.workbook import write_workbook
from employment_eval.textsafe import TextTooLongError

__all__ = [
    "MissingProvenanceError",
    "NoDataError",
    "TextTooLongError",
    "YearEnd",
    "YearEndError",
    "read_year_end",
    "write_files",
    "write_year_end_files",
]

WRITERS = (
    ("scoreboard_{year}.xlsx", write_workbook),
    ("scoreboard_{year}.csv", write_csv),
    ("report_{year}.html", write_report),
)


def write_files(ye: YearEnd, out_dir: Path) -> list[Path]:
    """Write the three files for `ye` into out_dir (created if needed); return their paths.

    All or nothing: each file is written under a temporary name and the three are renamed into
    place only when all of them were written, so a refused text (TextTooLongError) leaves the
    previous files as they were. The files are published (readable by everyone)."""
    fsmodes.public_dir(out_dir)
    done: list[tuple[Path, Path]] = []
    try:
        for pattern, writer in WRITERS:
            path = out_dir / pattern.format(year=ye.year)
            temp = path.with_name(f".{path.name}.writing")
            done.append((writer(ye, temp), path))
    except BaseException:
        for temp, _ in done:
            temp.unlink(missing_ok=True)
        for pattern, _ in WRITERS[len(done) :]:
            (out_dir / f".{pattern.format(year=ye.year)}.writing").unlink(missing_ok=True)
        raise
    for temp, path in done:
        fsmodes.make_public(temp)
        os.replace(temp, path)
    return [path for _, path in done]


def write_year_end_files(marts_path: Path, year: int, out_dir: Path) -> list[Path]:
    return write_files(read_year_end(marts_path, year), out_dir)
