"""The scratch database: an in-memory DuckDB holding a copy of what the models read from the
working database: the raw rows of the files that the last *successful* run read (the run log
keeps each run's file list; the raw layer keeps every clean file's rows), of one cohort year,
with that run's file manifest and as-of date. A run that failed since (its inputs refused, a
check failed) is not what was published and is never scored. The working database is attached
read-only, under its run lock, only while copying: a concurrent run is never seen mid-write and
nothing of it is changed. An existing file that is not a DuckDB database is refused before its
lock file would be created beside it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from employment_eval import locks, preflight, warehouse

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


@dataclass(frozen=True)
class ScoredRun:
    """The run whose inputs are scored: the last one that published."""

    run_id: str
    as_of: dt.date
    generated_at: dt.datetime | None  # when it ran, wall-clock time in Asia/Shanghai
    raw_dir: Path | None  # its raw folder (for the default rules folder)
    marts_path: Path | None  # the marts file it published (the rules each year was published with)


@dataclass
class Scratch:
    """The in-memory copy and what it was copied from."""

    con: duckdb.DuckDBPyConnection
    work_path: Path
    year: int
    as_of: dt.date  # the date the scoring describes
    run: ScoredRun
    raw_dirs: list[Path]  # every raw folder a run of this working database read (never written)
    years: list[int]  # cohort years the run's exports hold

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def run_as_of(self) -> dt.date:
        return self.run.as_of

    @property
    def raw_dir(self) -> Path | None:
        return self.run.raw_dir

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


def check_work_file(work_path: Path) -> None:
    """The working database exists and is a DuckDB file (before anything is created beside it)."""
    if not work_path.is_file():
        raise WhatIfError(
            f"工作数据库 {work_path} 不存在：what-if 按工作数据库中的当前数据试算，"
            "请先运行 employment-eval run（或用 --work 指定工作数据库）。"
        )
    if not preflight.is_duckdb_file(work_path):
        raise WhatIfError(
            f"--work {work_path} 不是 DuckDB 数据库文件：--work 应为 employment-eval run 使用的"
            "工作数据库（如 data/work/warehouse.duckdb）。未读取、未创建任何文件。"
        )


def open_scratch(
    work_path: Path,
    *,
    year: int | None,
    as_of: dt.date | None,
    wait_seconds: float,
    on_wait: Callable[[str], None] | None = None,
) -> Scratch:
    """Copy the inputs of the working database's last successful run for `year` (default: that
    run's year) into a new in-memory database, as of `as_of` (default: that run's as-of)."""
    check_work_file(work_path)
    warehouse.make_private(work_path)  # an older version may have left it readable by others
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


def _no_successful_run(work_path: Path) -> WhatIfError:
    return WhatIfError(
        f"工作数据库 {work_path} 中没有成功发布过的运行：what-if 只按成功发布的运行读入的数据"
        "试算（失败的运行未发布，其数据不作数）。请先用 employment-eval run 成功运行一次。",
        exit_code=1,
    )


def _last_successful_run(con: duckdb.DuckDBPyConnection, work_path: Path) -> ScoredRun:
    if not (_has_table(con, "meta", "run_log") and _has_table(con, "meta", "current_files")):
        raise _no_successful_run(work_path)
    row = con.execute(
        """select run_id, as_of_date, raw_dir, marts_path from work.meta.run_log
           where outcome = 'published'
           order by coalesce(finished_at, started_at) desc, started_at desc limit 1"""
    ).fetchone()
    if row is None:
        raise _no_successful_run(work_path)
    run_id, run_as_of, raw_dir, marts_path = row
    generated_at = None
    if _has_table(con, "meta", "run_facts"):
        facts = con.execute(
            "select generated_at from work.meta.run_facts where run_id = ?", [run_id]
        ).fetchone()
        generated_at = facts[0] if facts else None
    return ScoredRun(
        run_id=run_id,
        as_of=run_as_of,
        generated_at=generated_at,
        raw_dir=Path(raw_dir) if raw_dir else None,
        marts_path=Path(marts_path) if marts_path else None,
    )


def _run_files(con: duckdb.DuckDBPyConnection, work_path: Path, run: ScoredRun) -> None:
    """`meta.run_files` in the scratch: the run's file manifest (from the run log; from the
    current manifest for a run logged before the run log kept file lists)."""
    con.execute(
        """create temp table run_files (kind varchar, source_file varchar, file_sha256 varchar,
                                        as_of_date date, is_included boolean)"""
    )
    if _has_table(con, "meta", "run_log_files"):
        con.execute(
            """insert into run_files
               select kind, source_file, file_sha256, as_of_date, is_included
               from work.meta.run_log_files where run_id = $run""",
            {"run": run.run_id},
        )
    if not con.execute("select count(*) from run_files").fetchone()[0]:
        con.execute(
            """insert into run_files
               select kind, source_file, file_sha256, as_of_date, is_included
               from work.meta.current_files where run_id = $run""",
            {"run": run.run_id},
        )
    missing = con.execute(
        """select count(*) from run_files f
           where not exists (select 1 from work.raw.files r
                             where r.kind = f.kind and r.file_sha256 = f.file_sha256)"""
    ).fetchone()[0]
    files = con.execute("select count(*) from run_files").fetchone()[0]
    if not files or missing:
        raise WhatIfError(
            f"工作数据库 {work_path} 中找不到上次成功运行（{run.run_id}）读入的全部数据"
            f"（{missing} 个文件的记录已不在其中）。请运行一次 employment-eval run 后再试算。",
            exit_code=1,
        )


def _copy(
    con: duckdb.DuckDBPyConnection, work_path: Path, year: int | None, as_of: dt.date | None
) -> Scratch:
    run = _last_successful_run(con, work_path)
    _run_files(con, work_path, run)
    raw_dirs = [
        Path(r[0])
        for r in con.execute(
            "select distinct raw_dir from work.meta.run_log where raw_dir is not null"
        ).fetchall()
    ]
    years = [
        r[0]
        for r in con.execute(
            """select distinct r.cohort_year from work.raw.registrations as r
               where r.file_sha256 in (
                   select file_sha256 from run_files where kind = 'registrations')
                 and r.cohort_year is not null
               order by 1"""
        ).fetchall()
    ]
    if year is None:
        year = _run_year(con, run.run_id) or (years[-1] if years else None)
    if year is None or year not in years:
        held = "、".join(str(y) for y in years) or "无"
        raise WhatIfError(
            f"工作数据库 {work_path} 中没有 {year} 届毕业生的数据（现有：{held}）。"
            "请用 --year 选择一个有数据的年度。"
        )
    day = as_of or run.as_of
    con.execute("create schema meta; create schema raw")
    con.execute(
        """create table meta.current_files as
           select $run as run_id, kind, source_file, file_sha256, as_of_date,
                  case when kind = 'registrations' and $as_of is not null
                       then as_of_date is not null and as_of_date <= $as_of
                       else is_included end as is_included
           from run_files""",
        {"as_of": as_of, "run": run.run_id},
    )
    con.execute("drop table run_files")
    con.execute("create table meta.run_context (run_id varchar, as_of_date date)")
    con.execute("insert into meta.run_context values (?, ?)", [run.run_id, day])
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
        run=run,
        raw_dirs=raw_dirs,
        years=years,
    )


def _run_year(con: duckdb.DuckDBPyConnection, run_id: str) -> int | None:
    if not _has_table(con, "meta", "run_facts"):
        return None
    row = con.execute("select year from work.meta.run_facts where run_id = ?", [run_id]).fetchone()
    return row[0] if row else None
