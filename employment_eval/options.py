"""The options every command shares, resolved once (relative paths from the current directory)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from employment_eval.rules import RulesError, available_years, rules_path

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today_in_shanghai() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def default_year() -> int:
    years = available_years()
    if not years:
        raise RulesError(f"没有任何年度的评估规则文件：找不到 {rules_path(0).parent}/<年度>.toml")
    return years[-1]


@dataclass(frozen=True)
class RunOptions:
    raw_dir: Path
    marts_path: Path
    work_path: Path
    year: int
    as_of: dt.date
    run_id: str = field(
        default_factory=lambda: dt.datetime.now().strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:8]
    )

    @property
    def work_dir(self) -> Path:
        """Reports that may quote raw values go here, beside --work, never beside the marts."""
        return self.work_path.parent

    @classmethod
    def resolve(
        cls,
        raw: str | Path = "data/raw",
        marts: str | Path = "data/marts/employment.duckdb",
        work: str | Path = "data/work/warehouse.duckdb",
        year: int | None = None,
        as_of: dt.date | None = None,
    ) -> RunOptions:
        return cls(
            raw_dir=Path(raw).expanduser().resolve(),
            marts_path=Path(marts).expanduser().resolve(),
            work_path=Path(work).expanduser().resolve(),
            year=year if year is not None else default_year(),
            as_of=as_of or today_in_shanghai(),
        )
