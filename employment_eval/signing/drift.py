"""A run whose inputs of a signed year are not those it was signed with: one warning per file
(changed, removed, added; and the year's rules file), naming it. The published rows of the
year stay the signed ones (signing.snapshot); the warnings say so and how to recompute."""

from __future__ import annotations

import duckdb

from employment_eval.problems import Problem
from employment_eval.rules import RulesSource
from employment_eval.signing import store
from employment_eval.years import YEAR_COLUMNS

FileKey = tuple[str, str, str]  # kind, source_file, sha256


def year_files(
    con: duckdb.DuckDBPyConnection,
    manifest: str,
    params: dict | None = None,
    *,
    included_only: bool = True,
) -> dict[int, set[FileKey]]:
    """year → the files of `manifest` (a query giving kind, source_file, file_sha256,
    is_included) that hold rows of that year (an export: its cohort; 结业 rows are not);
    only the files the run used unless `included_only` is false (an export dated after the
    run's --as-of, a resent copy of an export are there too)."""
    used = "and m.is_included" if included_only else ""
    parts = [
        f"""select distinct t.{column} as year, m.kind, m.source_file, m.file_sha256
            from raw.{kind} as t
            inner join ({manifest}) as m
                on m.kind = '{kind}' and m.file_sha256 = t.file_sha256 {used}
            where t.{column} is not null and {condition}"""
        for kind, (column, _header, condition) in YEAR_COLUMNS.items()
    ]
    out: dict[int, set[FileKey]] = {}
    for year, kind, file, sha in con.execute(" union all ".join(parts), params or {}).fetchall():
        out.setdefault(int(year), set()).add((kind, file, sha))
    return out


def current_year_files(con: duckdb.DuckDBPyConnection) -> dict[int, set[FileKey]]:
    """The files under the raw folder in this run (meta.current_files, written by ingestion),
    used or not: replaying an earlier night of a signed year leaves its later exports out of
    the run, but they are still there and unchanged."""
    return year_files(
        con,
        "select kind, source_file, file_sha256, is_included from meta.current_files",
        included_only=False,
    )


def _undo(year: int) -> str:
    return (
        f"已发布的 {year} 年度结果仍是签发时的结果，不因此改变；如确需按现有文件重新计算，"
        f"须先撤销签发（employment-eval unsign --year {year} --by 姓名 --reason 理由）"
    )


def drift_problems(con: duckdb.DuckDBPyConnection, source: RulesSource) -> list[Problem]:
    """The warnings of this run for every signed year (after ingestion)."""
    signatures = store.signatures(con)
    if not signatures:
        return []
    now = current_year_files(con)
    problems: list[Problem] = []
    for year, sig in signatures.items():
        head = f"{year} 年度已于 {sig['signed_date']} 由 {sig['signed_by']} 审定签发"
        problems += _file_changes(
            set(store.signed_files(con, year)), now.get(year, set()), head, year
        )
        path = source.path_for(year)
        if path is None:
            problems.append(
                Problem(
                    f"{year}.toml",
                    None,
                    None,
                    f"{head}，其规则文件（{sig['rules_file']}）已不在规则文件夹中：{_undo(year)}",
                    "warning",
                )
            )
        else:
            from employment_eval.ingest.read import sha256_of

            if sha256_of(path) != sig["rules_sha256"]:
                problems.append(
                    Problem(
                        str(path),
                        None,
                        None,
                        f"{head}，此规则文件在签发后被修改（签发时 sha256 "
                        f"{sig['rules_sha256'][:12]}）：{_undo(year)}",
                        "warning",
                    )
                )
    return problems


def _file_changes(signed: set[FileKey], now: set[FileKey], head: str, year: int) -> list[Problem]:
    signed_names = {(k, f): s for k, f, s in signed}
    now_names = {(k, f): s for k, f, s in now}
    signed_content = {(k, s) for k, _f, s in signed}
    now_content = {(k, s) for k, _f, s in now}
    problems = []
    for (kind, file), sha in sorted(signed_names.items()):
        if (kind, file) in now_names:
            if now_names[(kind, file)] != sha:
                why = f"{head}，此文件在签发后被修改"
                problems.append(Problem(file, None, None, f"{why}：{_undo(year)}", "warning"))
        elif (kind, sha) not in now_content:
            why = f"{head}，签发时读取的此文件已不在原始数据文件夹中（已移走或归档）"
            problems.append(Problem(file, None, None, f"{why}：{_undo(year)}", "warning"))
    for (kind, file), sha in sorted(now_names.items()):
        if (kind, file) not in signed_names and (kind, sha) not in signed_content:
            why = f"{head}，此文件是签发后放入的 {year} 年度数据"
            problems.append(Problem(file, None, None, f"{why}：{_undo(year)}", "warning"))
    return problems
