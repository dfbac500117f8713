"""Several evaluation years in one working database: every year the run's files hold must have
its rules file. An export (its cohort's graduates), a roster, a ledger or an adjustments file of
a year without `<year>.toml` would otherwise be left out of the marts without a word; it is an
input error naming the file and the rules files looked for."""

from __future__ import annotations

import duckdb

from employment_eval.failures import RunFailed
from employment_eval.problems import Problem
from employment_eval.rules import RulesSource

# kind → (raw table's year column, the header the centre knows it by, extra condition)
YEAR_COLUMNS = {
    "registrations": ("cohort_year", "毕业年份", "not coalesce(is_completion, false)"),
    "special_groups": ("cohort_year", "毕业年份", "true"),
    "submissions": ("ledger_year", "年度", "true"),
    "adjustments": ("adjustment_year", "年度", "true"),
    "selfcheck": ("pack_year", "年度", "true"),
}


def data_years(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, int]]:
    """(kind, file, header, year) for each year held by each file of the run (meta.current_files,
    included files only; 结业 rows of an export are not its cohort)."""
    parts = [
        f"""select distinct '{kind}' as kind, f.source_file, '{header}' as header,
                   t.{column} as year
            from raw.{kind} as t
            inner join meta.current_files as f
                on f.kind = '{kind}' and f.file_sha256 = t.file_sha256 and f.is_included
            where t.{column} is not null and {condition}"""
        for kind, (column, header, condition) in YEAR_COLUMNS.items()
    ]
    rows = con.execute(" union all ".join(parts) + " order by 2, 4").fetchall()
    return [(kind, file, header, int(year)) for kind, file, header, year in rows]


def missing_rules_problems(con: duckdb.DuckDBPyConnection, source: RulesSource) -> list[Problem]:
    """An error per file and year of the run's files for which `source` has no rules file."""
    from employment_eval.signing import store

    found = data_years(con)
    signed = set(store.signatures(con))  # a signed year keeps the rules it was signed with
    missing = set(source.missing({year for *_, year in found})) - signed
    problems = []
    for _kind, file, header, year in found:
        if year not in missing:
            continue
        problems.append(
            Problem(
                file,
                None,
                header,
                f"该文件含 {year} 年度（{year} 届）的数据，但 {year} 年没有评估规则文件："
                f"找不到 {source.looked_for(year)}。请先建立该年度的规则文件（例如 "
                f"employment-eval rules new --year {year}），或把该文件移出原始数据文件夹",
            )
        )
    return problems


def cohort_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The years the run can evaluate: cohorts with graduates in at least one export the run
    includes (an export dated after --as-of is not data of that night)."""
    return sorted(
        {year for kind, _file, _header, year in data_years(con) if kind == "registrations"}
    )


def settle_year(
    con: duckdb.DuckDBPyConnection, asked: int | None, run_id: str = ""
) -> tuple[int, str]:
    """The year this run evaluates and one sentence saying which and why: the year given with
    --year, else the latest year with an export under --raw (not the latest rules file: a new
    year's rules, written before its first export, change nothing). A year without data is
    refused (RunFailed: nothing is published), never evaluated as empty."""
    found = cohort_years(con)
    shown = "、".join(str(y) for y in found) or "无"
    if asked is not None:
        if asked not in found:
            raise RunFailed(
                f"{asked} 年没有可评估的数据：原始数据中没有 {asked} 届毕业生的导出"
                f"（评估日期之前）。原始数据中有导出的年度：{shown}。请用 --year 指定其中"
                f"一个年度；若 {asked} 届的第一次导出尚未放入 registrations/，放入后再运行。"
                "本次未发布任何结果。",
                run_id,
            )
        return asked, f"评估年度：{asked}（由 --year 指定）"
    if not found:
        raise RunFailed(
            "原始数据中没有任何可评估的导出（评估日期之前），无法确定评估年度。"
            "请把就业登记导出放入 registrations/ 后再运行。本次未发布任何结果。",
            run_id,
        )
    year = found[-1]
    others = f"；另有 {'、'.join(str(y) for y in found[:-1])} 年度的数据" if len(found) > 1 else ""
    return year, (
        f"评估年度：{year}（未指定 --year：原始数据中有导出的最新年度{others}；"
        "可用 --year 指定其他年度）"
    )


_CHOSEN: dict[str, str] = {}


def remember_choice(run_id: str, sentence: str) -> None:
    """The sentence saying which year a run evaluates and why, for the command line to print
    after the flow (the flow's own log line may be below the console's logging level)."""
    _CHOSEN[run_id] = sentence


def recall_choice(run_id: str) -> str:
    return _CHOSEN.get(run_id, "")
