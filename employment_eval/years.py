"""Several evaluation years in one working database: every year the run's files hold must have
its rules file. An export (its cohort's graduates), a roster, a ledger or an adjustments file of
a year without `<year>.toml` would otherwise be left out of the marts without a word; it is an
input error naming the file and the rules files looked for."""

from __future__ import annotations

import duckdb

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
