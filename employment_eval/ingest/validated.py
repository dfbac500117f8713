"""The result of validating one file: the rows with resolved columns, and its problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from employment_eval.problems import Problem


@dataclass
class Validated:
    kind: str
    rel: str
    data: pl.DataFrame  # source_row, text columns, extra_columns, resolved columns
    problems: list[Problem] = field(default_factory=list)
    as_of_date: date | None = None  # registrations only
    as_of_source: str | None = None  # 'column' (导出日期) or 'file_name'
    missing_required: list[str] = field(default_factory=list)  # required columns not in file
    # A file-level error (unreadable, header-only export, a required column missing): the
    # file is reported once and left out of the cross-file rules.
    file_error: bool = False

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)
