"""Rules across files, over the current files only (temp views ingest_cur_<kind>, store.py).

Exports dated after the run's --as-of are excluded and not checked here."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import duckdb

from employment_eval.ingest.lookups import Lookups
from employment_eval.ingest.store import CurrentFile
from employment_eval.ingest.submissions import COUNTS, DATES, SCORES
from employment_eval.problems import Problem

REG_DIR = "registrations/"
LEDGER_DIR = "submissions/"


def export_problems(files: list[CurrentFile], as_of: date) -> list[Problem]:
    """Folder-level rules of the registrations exports."""
    exports = [f for f in files if f.kind == "registrations"]
    if not exports:
        return [
            Problem(REG_DIR, None, None, "没有任何就业登记鉴证导出文件（registrations 文件夹为空）")
        ]
    problems: list[Problem] = []
    dated = [f for f in exports if f.is_representative and f.as_of_date is not None]
    by_date: dict[date, list[CurrentFile]] = defaultdict(list)
    for f in dated:
        if f.is_included:
            by_date[f.as_of_date].append(f)  # type: ignore[index]
    for day, group in sorted(by_date.items()):
        first = group[0]
        for other in group[1:]:
            problems.append(
                Problem(
                    other.source_file,
                    None,
                    None,
                    f"与 {first.source_file} 的导出日期相同（{day.isoformat()}）但内容不同："
                    f"同一导出日期只能有一个导出，请删除其中一个",
                )
            )
    if dated and not any(f.is_included for f in dated):
        earliest = min(f.as_of_date for f in dated if f.as_of_date)
        problems.append(
            Problem(
                REG_DIR,
                None,
                None,
                f"--as-of {as_of.isoformat()} 早于所有导出（最早的导出日期为 "
                f"{earliest.isoformat()}），没有可用的导出",
            )
        )
    return problems


def latest_export(files: list[CurrentFile]) -> CurrentFile | None:
    included = [
        f
        for f in files
        if f.kind == "registrations" and f.is_included and f.is_representative and f.as_of_date
    ]
    return max(included, key=lambda f: (f.as_of_date, f.source_file), default=None)


def every_unit_problems(
    con: duckdb.DuckDBPyConnection, lk: Lookups, skip: set[str] = frozenset()
) -> list[Problem]:
    """RULES.md D13: every unit has a non-completion graduate of every year in every export.
    Files in `skip` (a required column missing: already an error) are not checked."""
    units = ", ".join(f"('{code}')" for code in lk.unit_codes)
    rows = con.execute(
        f"""
        with years as (
            select distinct source_file, cohort_year from ingest_cur_registrations
            where included and cohort_year is not null and not coalesce(is_completion, false)
        ), units(unit_code) as (values {units}),
        have as (
            select distinct source_file, cohort_year, unit_code from ingest_cur_registrations
            where included and not coalesce(is_completion, false) and unit_code is not null
        )
        select y.source_file, y.cohort_year, u.unit_code
        from years y cross join units u
        where not exists (
            select 1 from have h where h.source_file = y.source_file
              and h.cohort_year = y.cohort_year and h.unit_code = u.unit_code)
        order by 1, 2
        """
    ).fetchall()
    return [
        Problem(
            file,
            None,
            "培养单位",
            f"{year} 届中没有「{lk.unit_names[code]}」（{code}）的毕业生："
            "每个导出都必须包含全部 15 个单位（RULES.md D13）",
        )
        for file, year, code in rows
        if file not in skip
    ]


def roster_problems(con: duckdb.DuckDBPyConnection, latest: CurrentFile | None) -> list[Problem]:
    """Each student of the special-group roster is in the cohort of the latest export."""
    if latest is None:
        return []
    rows = con.execute(
        """
        select s.source_file, s.source_row, s.student_id, s.cohort_year
        from ingest_cur_special_groups s
        where s.student_id is not null and s.cohort_year is not null
          and not exists (
            select 1 from ingest_cur_registrations r
            where r.file_sha256 = ? and r.student_id = s.student_id
              and r.cohort_year = s.cohort_year)
        order by 1, 2
        """,
        [latest.sha256],
    ).fetchall()
    day = latest.as_of_date.isoformat() if latest.as_of_date else ""
    return [
        Problem(
            file,
            row,
            "学号",
            f"学号「{sid}」不在最新导出 {latest.source_file}（{day}）的 {year} 届毕业生中",
        )
        for file, row, sid, year in rows
    ]


def completion_rows(con: duckdb.DuckDBPyConnection, latest: CurrentFile | None) -> int:
    if latest is None:
        return 0
    return con.execute(
        "select count(*) from ingest_cur_registrations where file_sha256 = ? and is_completion",
        [latest.sha256],
    ).fetchone()[0]


def _duplicates(
    con: duckdb.DuckDBPyConnection, view: str, keys: list[str]
) -> list[tuple[str, int, str, int, tuple]]:
    """(file, row, first file, first row, key) for each repeat of a key, in file/row order."""
    key_list = ", ".join(keys)
    rows = con.execute(
        f"""
        select source_file, source_row,
               first_value(source_file) over w, first_value(source_row) over w,
               row_number() over w, {key_list}
        from {view}
        where {" and ".join(f"{k} is not null" for k in keys)}
        window w as (partition by {key_list} order by source_file, source_row)
        qualify count(*) over (partition by {key_list}) > 1
        order by 1, 2
        """
    ).fetchall()
    return [(r[0], r[1], r[2], r[3], tuple(r[5:])) for r in rows if r[4] > 1]


def ledger_problems(con: duckdb.DuckDBPyConnection, lk: Lookups, as_of: date) -> list[Problem]:
    problems: list[Problem] = []
    for file, row, first_file, first_row, (unit, year) in _duplicates(
        con, "ingest_cur_submissions", ["unit_code", "ledger_year"]
    ):
        problems.append(
            Problem(
                file,
                row,
                "单位",
                f"「{lk.unit_names[unit]}」{year} 年度重复登记：{first_file} 第 {first_row} 行"
                f"与 {file} 第 {row} 行，每个单位每年度只能有一行",
            )
        )
    years = [
        r[0]
        for r in con.execute(
            "select distinct cohort_year from ingest_cur_registrations "
            "where included and cohort_year is not null "
            "and not coalesce(is_completion, false) order by 1"
        ).fetchall()
    ]
    for year in years:
        problems += _ledger_year_warnings(con, lk, year)
    problems += _late_ledger_dates(con, as_of)
    return problems


_VALUE_COLUMNS = {
    **{col: header for col, (_, header, _) in SCORES.items()},
    **{col: header for col, (_, header) in COUNTS.items()},
    **{col: header for col, (_, header) in DATES.items()},
}


def _ledger_year_warnings(con: duckdb.DuckDBPyConnection, lk: Lookups, year: int) -> list[Problem]:
    rows = con.execute(
        f"select source_file, source_row, unit_code, {', '.join(_VALUE_COLUMNS)} "
        "from ingest_cur_submissions where ledger_year = ? and unit_code is not null "
        "order by source_file, source_row",
        [year],
    ).fetchall()
    if not rows:
        return [
            Problem(
                LEDGER_DIR,
                None,
                None,
                f"没有 {year} 年度的单位材料登记表：各单位由登记表计分的指标暂按 0 分计，"
                "记分表为暂定",
                "warning",
            )
        ]
    problems: list[Problem] = []
    files = sorted({r[0] for r in rows})
    seen = {r[2] for r in rows}
    for code in lk.unit_codes:
        if code not in seen:
            problems.append(
                Problem(
                    files[0],
                    None,
                    "单位",
                    f"{year} 年度登记表中没有「{lk.unit_names[code]}」的记录：相关指标暂按 0 分计",
                    "warning",
                )
            )
    columns = list(_VALUE_COLUMNS.items())
    # A column blank in every row of a file (or missing from it): one warning for the file.
    all_blank: set[tuple[str, str]] = set()
    for file in files:
        file_rows = [r for r in rows if r[0] == file]
        for i, (col, header) in enumerate(columns):
            if all(r[3 + i] is None for r in file_rows):
                all_blank.add((file, col))
                problems.append(
                    Problem(
                        file,
                        None,
                        header,
                        f"{year} 年度所有单位的「{header}」均为空（或缺少该列）："
                        "相关指标暂按 0 分计",
                        "warning",
                    )
                )
    for file, row, code, *values in rows:
        for (col, header), value in zip(columns, values, strict=True):
            if value is None and (file, col) not in all_blank:
                problems.append(
                    Problem(
                        file,
                        row,
                        header,
                        f"「{lk.unit_names[code]}」{year} 年度此项为空：相关指标暂按 0 分计",
                        "warning",
                    )
                )
    return problems


def _late_ledger_dates(con: duckdb.DuckDBPyConnection, as_of: date) -> list[Problem]:
    problems: list[Problem] = []
    for col, (alias, header) in DATES.items():
        rows = con.execute(
            f"select source_file, source_row, {col} from ingest_cur_submissions "
            f"where {alias} > ? order by 1, 2",
            [as_of],
        ).fetchall()
        problems += [
            Problem(
                file,
                row,
                header,
                f"日期 {value} 晚于本次运行的 --as-of {as_of.isoformat()}，按登记值采用",
                "warning",
            )
            for file, row, value in rows
        ]
    return problems


def adjustment_problems(con: duckdb.DuckDBPyConnection, lk: Lookups) -> list[Problem]:
    problems: list[Problem] = []
    for file, row, first_file, first_row, (unit, year, indicator) in _duplicates(
        con, "ingest_cur_adjustments", ["unit_code", "adjustment_year", "indicator_code"]
    ):
        label = "先进单位" if indicator == "ADVANCED" else indicator
        problems.append(
            Problem(
                file,
                row,
                "指标",
                f"「{lk.unit_names[unit]}」{year} 年度「{label}」被调整了两次：{first_file} "
                f"第 {first_row} 行与 {file} 第 {row} 行",
            )
        )
    return problems
