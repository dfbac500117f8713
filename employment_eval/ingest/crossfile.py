"""Rules across files, over the current files only (temp views ingest_cur_<kind>, store.py).

Exports dated after the run's --as-of are excluded and not checked here. Files with a
file-level error are not in the views at all (store.CurrentFile.stored = 'broken'), and
`Skips` says which rules cannot be judged fairly while a kind's files are incomplete, so a
broken file is reported once (by itself) and never drags the other files into errors."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from employment_eval.ingest.lookups import Lookups
from employment_eval.ingest.store import CurrentFile
from employment_eval.ingest.submissions import COUNTS, DATES, SCORES
from employment_eval.paths import RAW_KINDS, RULES_DIR
from employment_eval.problems import Problem
from employment_eval.rules import Rules, RulesError, load_rules

REG_DIR = "registrations/"
LEDGER_DIR = "submissions/"


@dataclass(frozen=True)
class Skips:
    """Kinds whose set of files is not fully known this run: an entry of that kind could not
    be read (discovery) or one of its files has a file-level error. The cross-file rules
    that would judge other files by such a kind are skipped (the file's own error stands):
    - registrations: the roster's cohort membership (the latest export is unknown), the
      "no export" and "--as-of before every export" folder rules; the roster's membership
      is also not judged while the latest export has an error in its 学号 column (an
      over-long or blank 学号 would make a listed student look absent);
    - submissions: the missing-row and blank-cell warnings of the ledger.
    An entry directly in the raw folder (not in any kind folder) could be a file of any
    kind: then every kind counts as incomplete."""

    incomplete: frozenset[str] = field(default_factory=frozenset)
    bad_student_ids: frozenset[str] = field(default_factory=frozenset)  # files

    @staticmethod
    def of(
        entry_problems: list[Problem], current: list[CurrentFile], problems: list[Problem]
    ) -> Skips:
        kinds: set[str] = {f.kind for f in current if f.stored == "broken"}
        for p in entry_problems:
            if p.severity != "error":
                continue
            top = p.file.split("/", 1)[0]
            kinds |= {top} if top in RAW_KINDS else set(RAW_KINDS)
        bad_ids = {p.file for p in problems if p.severity == "error" and p.column == "学号"}
        return Skips(frozenset(kinds), frozenset(bad_ids))

    def __contains__(self, kind: object) -> bool:
        return kind in self.incomplete


def export_problems(files: list[CurrentFile], as_of: date, skips: Skips = Skips()) -> list[Problem]:
    """Folder-level rules of the registrations exports (files with a file-level error are
    left out: they are reported by themselves)."""
    exports = [f for f in files if f.kind == "registrations" and f.stored != "broken"]
    if not exports:
        if "registrations" in skips:
            return []
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
    if dated and not any(f.is_included for f in dated) and "registrations" not in skips:
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
    """docs/评估规则.md D13: every unit has a non-completion graduate of every year in every export.
    Files with a file-level error are not in the view; files in `skip` are not checked."""
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
            "每个导出都必须包含全部 15 个单位（评估规则 D13）",
        )
        for file, year, code in rows
        if file not in skip
    ]


def roster_problems(
    con: duckdb.DuckDBPyConnection, latest: CurrentFile | None, skips: Skips = Skips()
) -> list[Problem]:
    """Each student of the special-group roster is in the cohort of the latest export.
    Not judged while an export could not be read (which export is the latest is unknown).
    With several cohorts in the folder (several years), a student is looked up in the latest
    export that holds the student's cohort."""
    if latest is None or "registrations" in skips:
        return []
    rows = con.execute(
        """
        with cohort_exports as (
            select distinct cohort_year, file_sha256, source_file, cur_as_of
            from ingest_cur_registrations
            where included and cohort_year is not null
        ),
        latest as (
            select * from cohort_exports
            qualify row_number() over (
                partition by cohort_year order by cur_as_of desc, source_file desc) = 1
        ),
        exported_later as (
            select distinct cohort_year from ingest_cur_registrations
            where not included and cohort_year is not null
        )
        select s.source_file, s.source_row, s.student_id, s.cohort_year,
               coalesce(l.source_file, case when x.cohort_year is null then ? end),
               coalesce(l.cur_as_of, case when x.cohort_year is null then ? end)
        from ingest_cur_special_groups s
        left join latest l on l.cohort_year = s.cohort_year
        left join exported_later x on x.cohort_year = s.cohort_year
        where s.student_id is not null and s.cohort_year is not null
          and (l.file_sha256 is null or not exists (
            select 1 from ingest_cur_registrations r
            where r.file_sha256 = l.file_sha256 and r.student_id = s.student_id
              and r.cohort_year = s.cohort_year))
        order by 1, 2
        """,
        [latest.source_file, latest.as_of_date],
    ).fetchall()
    problems = [
        Problem(
            file,
            row,
            "学号",
            f"学号「{sid}」不在最新导出 {export}（{day or ''}）的 {year} 届毕业生中",
        )
        for file, row, sid, year, export, day in rows
        if export is not None and export not in skips.bad_student_ids
    ]
    # A cohort that only exports after --as-of hold (a later year's roster while an earlier
    # night is replayed): its students cannot be judged yet; said once per file and year. A
    # cohort that no export holds at all is judged against the latest export (an error).
    waiting: dict[tuple[str, int], int] = {}
    for file, _row, _sid, year, export, _day in rows:
        if export is None:
            waiting[(file, year)] = waiting.get((file, year), 0) + 1
    problems += [
        Problem(
            file,
            None,
            "毕业年份",
            f"{year} 届尚无计入本次运行的导出，名单中该届 {n} 名学生暂未核对",
            "warning",
        )
        for (file, year), n in sorted(waiting.items())
    ]
    return problems


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


def ledger_problems(
    con: duckdb.DuckDBPyConnection,
    lk: Lookups,
    as_of: date,
    skips: Skips = Skips(),
    points: LedgerPoints | None = None,
) -> list[Problem]:
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
    if "submissions" not in skips:  # a ledger file that could not be read may hold the rows
        years = [
            r[0]
            for r in con.execute(
                "select distinct cohort_year from ingest_cur_registrations "
                "where included and cohort_year is not null "
                "and not coalesce(is_completion, false) order by 1"
            ).fetchall()
        ]
        for year in years:
            stakes = LedgerStakes((points or LedgerPoints()).for_year(year))
            problems += _ledger_year_warnings(con, lk, year, stakes)
    problems += _late_ledger_dates(con, as_of)
    problems += score_bound_problems(con, points or LedgerPoints())
    return problems


def score_bound_problems(con: duckdb.DuckDBPyConnection, points: LedgerPoints) -> list[Problem]:
    """A reviewed score (I1, I4) lies in [0, the indicator's base points] of its year's rules
    (D7). A year without rules is reported elsewhere (a year without a rules file)."""
    from employment_eval.ingest.submissions import SCORES

    problems: list[Problem] = []
    for col, (alias, header, indicator) in SCORES.items():
        rows = con.execute(
            f"select source_file, source_row, ledger_year, {col}, {alias} "
            f"from ingest_cur_submissions where {alias} is not null order by 1, 2"
        ).fetchall()
        for file, row, year, text, value in rows:
            rules = points.for_year(year) if year is not None else None
            if rules is None:
                continue
            base = rules.indicators[indicator][1]
            if value > base:
                problems.append(
                    Problem(
                        file,
                        row,
                        header,
                        f"「{text}」超出范围（应为 0–{base}：{year} 年度 {indicator} 的基准分）",
                    )
                )
    return problems


# --- what a blank ledger cell costs (docs/评估规则.md D7, D8, D11) ------------------------

# Ledger column → (indicator it feeds, part of the indicator: 'all' | 'meeting' | 'talks' |
# 'flag'). I5 is two halves (D8): the meeting half is base // 2, the talks half the rest —
# the same split as the I5 model. The I4 report date is only a flag in I4's detail (D7).
FEEDS = {
    "i1_review_score": ("I1", "all"),
    "i2_complaints": ("I2", "all"),
    "i4_review_score": ("I4", "all"),
    "i4_report_date": ("I4", "flag"),
    "i5_meeting_date": ("I5", "meeting"),
    "i5_talks": ("I5", "talks"),
    "i7_forms": ("I7", "all"),
    "i8_stories": ("I8", "all"),
}
LEDGER_INDICATORS = ("I1", "I2", "I4", "I5", "I7", "I8")


@dataclass(frozen=True)
class LedgerPoints:
    """The year's rules, to name the points a blank ledger cell puts at stake: the run's own
    rules when the caller has them (`rules`), else `<raw>/../rules/<year>.toml` (the default
    --rules folder), else the bundled reference/rules/<year>.toml. None when none of them
    loads: the warnings then name the indicator without points."""

    rules: tuple[Rules, ...] = ()
    raw_dir: Path | None = None

    def for_year(self, year: int) -> Rules | None:
        for r in self.rules:
            if r.year == year:
                return r
        local = self.raw_dir.parent / "rules" if self.raw_dir is not None else None
        for directory in (local, RULES_DIR):
            if directory is not None and (directory / f"{year}.toml").is_file():
                try:
                    return load_rules(year, directory)
                except RulesError:  # reported by the run's own loading of its rules
                    return None
        return None


@dataclass(frozen=True)
class LedgerStakes:
    """The wording of what a blank ledger cell or a missing row costs, in points."""

    rules: Rules | None

    def _name(self, code: str) -> str:
        if self.rules is None:
            return f"{code} "
        return f"{code}「{self.rules.indicators[code][2]}」"

    def _base(self, code: str) -> int | None:
        return None if self.rules is None else self.rules.indicators[code][1]

    def blank(self, column: str) -> str:
        code, part = FEEDS[column]
        base, name = self._base(code), self._name(code)
        if part == "flag":
            return (
                f"不扣分（{name}按「未就业学生排摸得分」计分）；若该单位有本科毕业生，{code} "
                "的说明中会注明未登记《未就业学生调研报告》提交日期（评估规则 D7）。"
                "日期可以留空，记分表不会因此保持暂定"
            )
        if part == "meeting":
            pts = "" if base is None else f"（该项 {base // 2} 分）"
            return (
                f"视为未召开就业动员会，{name}中动员会一项记 0 分{pts}（评估规则 D8）。"
                "日期可以留空，记分表不会因此保持暂定"
            )
        if part == "talks":
            pts = "" if base is None else f"（该项 {base - base // 2} 分）"
            stake = f"{name}中座谈一项暂按 0 分计{pts}"
        elif code == "I2":
            pts = "" if base is None else f"（无合理投诉时应得 {base} 分）"
            stake = f"{name}暂按 0 分计{pts}"
        else:
            pts = "" if base is None else f"（满分 {base} 分）"
            stake = f"{name}暂按 0 分计{pts}"
        return f"{stake}，记分表保持暂定（评估规则 D11）；补填后重新运行即可"

    def whole_row(self, each: bool = False) -> str:
        names = "、".join(LEDGER_INDICATORS)
        if self.rules is None:
            return f"由登记表计分的 {names} 暂按 0 分计"
        total = sum(self.rules.indicators[c][1] for c in LEDGER_INDICATORS)
        return f"由登记表计分的 {names} 暂按 0 分计（{'每个单位' if each else ''}共 {total} 分）"


_VALUE_COLUMNS = {
    **{col: header for col, (_, header, _) in SCORES.items()},
    **{col: header for col, (_, header) in COUNTS.items()},
    **{col: header for col, (_, header) in DATES.items()},
}


def _ledger_year_warnings(
    con: duckdb.DuckDBPyConnection, lk: Lookups, year: int, stakes: LedgerStakes
) -> list[Problem]:
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
                f"没有 {year} 年度的单位材料登记表（或登记表中没有该年度的行）："
                f"各单位{stakes.whole_row(each=True)}，记分表为暂定（评估规则 D11）",
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
                    f"{year} 年度登记表中没有「{lk.unit_names[code]}」的记录："
                    f"该单位{stakes.whole_row()}，记分表为暂定（评估规则 D11）",
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
                        f"{year} 年度所有单位的「{header}」均为空（或缺少该列）：对每个单位，"
                        f"{stakes.blank(col)}",
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
                        f"「{lk.unit_names[code]}」{year} 年度此项为空：{stakes.blank(col)}",
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
