"""The options every command shares, resolved once (relative paths from the current directory)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from employment_eval.rules import RulesError, RulesSource

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_RAW = "data/raw"
DEFAULT_MARTS = "data/marts/employment.duckdb"
DEFAULT_WORK = "data/work/warehouse.duckdb"
DEFAULT_WAIT_SECONDS = 120.0  # a second run waits this long for the first one's lock
DEFAULT_KEEP_FOLLOWUP = 14  # nights of follow-up lists kept in the working folder
LATEST_WITH_DATA = 0  # RunOptions.asked_year without --year: the latest year with an export


def today_in_shanghai() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def now_in_shanghai() -> dt.datetime:
    """Wall-clock time in Asia/Shanghai, without tzinfo (what the centre reads)."""
    return dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)


def as_shanghai(value: dt.datetime) -> dt.datetime:
    """A time the working database recorded (DuckDB's `now()::timestamp`: the machine's local
    wall time, no zone) as Beijing wall time, without tzinfo. Every time the centre reads is
    Beijing time, whatever zone the machine is set to."""
    aware = value if value.tzinfo is not None else value.astimezone()  # naive: local time
    return aware.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)


def default_rules_dir(raw_dir: Path) -> Path:
    """The centre's rules folder: `rules/` beside the raw folder."""
    return raw_dir.parent / "rules"


def default_year(source: RulesSource | None = None) -> int:
    source = source or RulesSource()
    years = source.years()
    if not years:
        where = "、".join(str(f) for f in source.folders())
        raise RulesError(f"没有任何年度的评估规则文件：在 {where} 中找不到 <年度>.toml")
    return years[-1]


def new_run_id() -> str:
    return dt.datetime.now(SHANGHAI).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class RunOptions:
    raw_dir: Path
    marts_path: Path
    work_path: Path
    year: int | None  # the year evaluated; None until the run settles it (years.settle_year)
    as_of: dt.date
    run_id: str = field(default_factory=new_run_id)
    rules_dir: Path | None = None  # None: `rules/` beside the raw folder
    allow_older: bool = False  # publish an as-of older than the published one
    wait_seconds: float = DEFAULT_WAIT_SECONDS
    force: bool = False  # rebuild even when nothing changed
    keep_followup: int = DEFAULT_KEEP_FOLLOWUP
    data_docs: bool = False  # GX Data Docs even when every check passes
    # --year as given: a year, LATEST_WITH_DATA (no --year: the run settles it), or None when the
    # options were built with a year directly (then `year` is what was asked)
    asked_year: int | None = None

    @property
    def work_dir(self) -> Path:
        """Reports that may quote raw values go here, beside --work, never beside the marts."""
        return self.work_path.parent

    @property
    def year_asked(self) -> int | None:
        """The year as the user gave it (None: the latest year with data), whatever the run
        settled: what a flow is called with and what the nothing-new fingerprint covers."""
        if self.asked_year == LATEST_WITH_DATA:
            return None
        return self.asked_year if self.asked_year is not None else self.year

    @property
    def rules_source(self) -> RulesSource:
        return RulesSource(self.rules_dir or default_rules_dir(self.raw_dir))

    def flow_parameters(self) -> dict[str, object]:
        """These options as the keyword arguments of the flows (`nightly_refresh`,
        `year_end_scoreboard`): what a Prefect run records as its parameters."""
        return {
            "raw_dir": str(self.raw_dir),
            "marts_path": str(self.marts_path),
            "work_path": str(self.work_path),
            "year": self.year_asked,
            "as_of": self.as_of,
            "rules_dir": str(self.rules_dir) if self.rules_dir else None,
            "allow_older": self.allow_older,
            "wait_seconds": self.wait_seconds,
            "run_id": self.run_id,
            "keep_followup": self.keep_followup,
            "force": self.force,
            "data_docs": self.data_docs,
        }

    @classmethod
    def from_flow_parameters(
        cls,
        raw_dir: str,
        marts_path: str,
        work_path: str,
        year: int | None,
        as_of: dt.date | None,
        rules_dir: str | None,
        **options: object,
    ) -> RunOptions:
        """The inverse of `flow_parameters` (a flow's arguments, as a deployment passes them)."""
        return cls.resolve(raw_dir, marts_path, work_path, year, as_of, rules=rules_dir, **options)

    @classmethod
    def resolve(
        cls,
        raw: str | Path = DEFAULT_RAW,
        marts: str | Path = DEFAULT_MARTS,
        work: str | Path = DEFAULT_WORK,
        year: int | None = None,
        as_of: dt.date | None = None,
        *,
        rules: str | Path | None = None,
        allow_older: bool = False,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
        force: bool = False,
        keep_followup: int = DEFAULT_KEEP_FOLLOWUP,
        run_id: str | None = None,
        data_docs: bool = False,
    ) -> RunOptions:
        raw_dir = Path(raw).expanduser().resolve()
        rules_dir = Path(rules).expanduser().resolve() if rules else default_rules_dir(raw_dir)
        return cls(
            raw_dir=raw_dir,
            marts_path=Path(marts).expanduser().resolve(),
            work_path=Path(work).expanduser().resolve(),
            year=year,
            asked_year=year if year is not None else LATEST_WITH_DATA,
            as_of=as_of or today_in_shanghai(),
            run_id=run_id or new_run_id(),
            rules_dir=rules_dir,
            allow_older=allow_older,
            wait_seconds=wait_seconds,
            force=force,
            keep_followup=keep_followup,
            data_docs=data_docs,
        )
