"""The scratch database: an in-memory DuckDB holding a copy of what the models read from the
working database (the raw rows of the current run's files, of one cohort year; the run's file
manifest and as-of date). The working database is attached read-only, under its run lock, only
while copying: a concurrent run is never seen mid-write and nothing of it is changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from employment_eval import locks

# The raw tables the staging models read, and each one's year column.
RAW_YEAR_COLUMNS = {
    "registrations": "cohort_year",
    "special_groups": "cohort_year",
    "submissions": "ledger_year",
    "adjustments": "adjustment_year",
}


class WhatIfError(Exception):
    """The working database cannot be scored: exit code 2 when the options are at fault (no
    working database there, no data for that year or date), 1 when it cannot be read."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Scratch:
    """The in-memory copy and what it was copied from."""

    con: duckdb.DuckDBPyConnection
    work_path: Path
    year: int
    as_of: dt.date  # the date the scoring describes
    run_as_of: dt.date  # the as-of date of the run that wrote the manifest
    run_id: str
    raw_dir: Path | None  # the raw folder of that run (for the default rules folder)
    run_rules_sha256: str | None  # sha256 of the rules file the run used for `year`, if any
    years: list[int]  # cohort years the run's exports hold

    def close(self) -> None:
        self.con.close()


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where database_name = 'work' "
            "and schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def open_scratch(
    work_path: Path,
    *,
    year: int | None,
    as_of: dt.date | None,
    wait_seconds: float,
    on_wait: Callable[[str], None] | None = None,
) -> Scratch:
    """Copy the working database's current inputs for `year` (default: the year of its last
    run) into a new in-memory database, as of `as_of` (default: the last run's as-of date)."""
    if not work_path.is_file():
        raise WhatIfError(
            f"工作数据库 {work_path} 不存在：what-if 按工作数据库中的当前数据试算，"
            "请先运行 employment-eval run（或用 --work 指定工作数据库）。"
        )
    con = duckdb.connect(":memory:")
    try:
        with locks.hold(work_path, wait_seconds, on_wait):
            try:
                con.execute("attach ? as work (read_only)", [str(work_path)])
            except duckdb.Error as exc:
                raise WhatIfError(
                    f"工作数据库 {work_path} 无法以只读方式打开（可能有其他程序正以写方式打开它）："
                    f"{str(exc).splitlines()[0]}",
                    exit_code=1,
                ) from exc
            try:
                scratch = _copy(con, work_path, year, as_of)
            finally:
                con.execute("detach work")
    except BaseException:
        con.close()
        raise
    return scratch


def _copy(
    con: duckdb.DuckDBPyConnection, work_path: Path, year: int | None, as_of: dt.date | None
) -> Scratch:
    if not (_has_table(con, "meta", "current_files") and _has_table(con, "meta", "run_context")):
        raise WhatIfError(
            f"工作数据库 {work_path} 中还没有成功读入的数据：请先运行 employment-eval run。"
        )
    context = con.execute("select run_id, as_of_date from work.meta.run_context").fetchone()
    if context is None:
        raise WhatIfError(
            f"工作数据库 {work_path} 中还没有成功读入的数据：请先运行 employment-eval run。"
        )
    run_id, run_as_of = context
    raw_dir = _run_raw_dir(con, run_id)
    years = [
        r[0]
        for r in con.execute(
            """select distinct r.cohort_year from work.raw.registrations as r
               where r.file_sha256 in (
                   select file_sha256 from work.meta.current_files where kind = 'registrations')
                 and r.cohort_year is not null
               order by 1"""
        ).fetchall()
    ]
    if year is None:
        year = _run_year(con, run_id) or (years[-1] if years else None)
    if year is None or year not in years:
        held = "、".join(str(y) for y in years) or "无"
        raise WhatIfError(
            f"工作数据库 {work_path} 中没有 {year} 届毕业生的数据（现有：{held}）。"
            "请用 --year 选择一个有数据的年度。"
        )
    day = as_of or run_as_of
    con.execute("create schema meta; create schema raw")
    con.execute(
        """create table meta.current_files as
           select run_id, kind, source_file, file_sha256, as_of_date,
                  case when kind = 'registrations' and $as_of is not null
                       then as_of_date is not null and as_of_date <= $as_of
                       else is_included end as is_included
           from work.meta.current_files""",
        {"as_of": as_of},
    )
    con.execute("create table meta.run_context (run_id varchar, as_of_date date)")
    con.execute("insert into meta.run_context values (?, ?)", [run_id, day])
    for kind, column in RAW_YEAR_COLUMNS.items():
        con.execute(
            f"""create table raw.{kind} as
                select * from work.raw.{kind}
                where {column} = $year and file_sha256 in (
                    select file_sha256 from meta.current_files
                    where kind = $kind and is_included)""",
            {"year": year, "kind": kind},
        )
    exports = con.execute("select count(distinct file_sha256) from raw.registrations").fetchone()[0]
    if not exports:
        raise WhatIfError(
            f"按评估日期 {day}，工作数据库中没有 {year} 届的导出（该日或之前的导出）。"
            "请换一个 --as-of。"
        )
    return Scratch(
        con=con,
        work_path=work_path,
        year=year,
        as_of=day,
        run_as_of=run_as_of,
        run_id=run_id,
        raw_dir=raw_dir,
        run_rules_sha256=_run_rules_sha(con, run_id, year),
        years=years,
    )


def _run_raw_dir(con: duckdb.DuckDBPyConnection, run_id: str) -> Path | None:
    if not _has_table(con, "meta", "run_log"):
        return None
    row = con.execute("select raw_dir from work.meta.run_log where run_id = ?", [run_id]).fetchone()
    return Path(row[0]) if row and row[0] else None


def _run_year(con: duckdb.DuckDBPyConnection, run_id: str) -> int | None:
    if not _has_table(con, "meta", "run_facts"):
        return None
    row = con.execute("select year from work.meta.run_facts where run_id = ?", [run_id]).fetchone()
    return row[0] if row else None


def _run_rules_sha(con: duckdb.DuckDBPyConnection, run_id: str, year: int) -> str | None:
    if not _has_table(con, "meta", "run_facts"):
        return None
    row = con.execute(
        "select rules_sha256 from work.meta.run_facts where run_id = ? and year = ?",
        [run_id, year],
    ).fetchone()
    return row[0] if row else None
