"""The season cannot shrink unnoticed (docs/输入文件格式.md, 同一届人数不得无故减少).

Between consecutive exports of one cohort year (by export date), a unit's graduates of one
degree (结业 rows are not graduates) falling by more than the year's rules allow — `[exports]
max_cohort_drop_pct` of the earlier count, rounded up to whole graduates, so one graduate may
always leave unless the share is 0 — is an error naming unit, degree, both exports (file and
date) and both counts, unless the year's rules file records the fall as expected
(`[[exports.expected_drops]]`: unit, degree, the later export's date, a reason). Every
offending cell of every pair is reported at once, on the later export.

The exports judged are the ones this run uses (dated on or before --as-of, one per content),
so the pairs are consecutive among them and a replay of an earlier night judges exactly what
it uses. Not judged while an export could not be read or has a file-level error (which
exports exist is then not known); a pair with an export that has row errors is not judged
(its counts are not right yet: the row errors are reported)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise

import duckdb

from employment_eval.ingest.lookups import Lookups
from employment_eval.ingest.store import CurrentFile
from employment_eval.paths import RULES_DIR
from employment_eval.problems import Problem
from employment_eval.rules import DEFAULT_COHORT_DROP_BP, Rules

DEGREE_NAMES = {"bachelor": "本科", "master": "硕士", "doctor": "博士"}

_COUNTS = """
select source_file, cohort_year, unit_code, degree_code, count(*) as graduates
from ingest_cur_registrations
where included and cohort_year is not null and unit_code is not null
  and degree_code is not null and not coalesce(is_completion, false)
group by all
"""


@dataclass(frozen=True)
class Fall:
    """A cohort cell that fell by more than allowed between two consecutive exports."""

    year: int
    unit_code: str
    degree: str
    before: CurrentFile
    after: CurrentFile
    was: int
    now: int
    allowed: int


def allowed_fall(graduates: int, bp: int) -> int:
    """Graduates a cell of `graduates` may lose unnoticed: `bp` basis points of it, rounded
    up to whole graduates (exact integers)."""
    return -(-graduates * bp // 10_000)


def falls(
    con: duckdb.DuckDBPyConnection,
    files: list[CurrentFile],
    rules_of: dict[int, Rules | None],
) -> list[Fall]:
    """Every unexpected fall among the included exports (see the module docstring)."""
    exports = {
        f.source_file: f
        for f in files
        if f.kind == "registrations"
        and f.is_included
        and f.is_representative
        and f.as_of_date is not None
        and f.stored != "broken"
    }
    counts: dict[tuple[int, str], dict[tuple[str, str], int]] = defaultdict(dict)
    for file, year, unit, degree, n in con.execute(_COUNTS).fetchall():
        if file in exports:
            counts[(year, file)][(unit, degree)] = n
    found: list[Fall] = []
    for year in sorted({y for y, _ in counts}):
        rules = rules_of.get(year)
        bp = rules.max_cohort_drop_bp if rules is not None else DEFAULT_COHORT_DROP_BP
        expected = {
            (d.unit_code, d.degree, d.export_date) for d in (rules.expected_drops if rules else ())
        }
        chain = sorted(
            (exports[f] for y, f in counts if y == year),
            key=lambda f: (f.as_of_date, f.source_file),
        )
        for before, after in pairwise(chain):
            if before.as_of_date == after.as_of_date:  # a conflict reported by itself
                continue
            if "pending" in (before.stored, after.stored):
                continue
            was_cells = counts[(year, before.source_file)]
            now_cells = counts[(year, after.source_file)]
            for (unit, degree), was in sorted(was_cells.items()):
                now = now_cells.get((unit, degree), 0)
                allowed = allowed_fall(was, bp)
                if was - now <= allowed or (unit, degree, after.as_of_date) in expected:
                    continue
                found.append(Fall(year, unit, degree, before, after, was, now, allowed))
    return found


def fall_problems(
    con: duckdb.DuckDBPyConnection,
    files: list[CurrentFile],
    rules_of: dict[int, Rules | None],
    lk: Lookups,
    incomplete: bool = False,
) -> list[Problem]:
    """One error per unexpected fall; none while the registrations are `incomplete`."""
    if incomplete:
        return []
    return [_problem(f, rules_of.get(f.year), lk) for f in falls(con, files, rules_of)]


def _pct(bp: int) -> str:
    """Basis points as a percentage, exactly: 1000 → "10", 1250 → "12.5"."""
    return f"{bp // 100}.{bp % 100:02d}".rstrip("0").rstrip(".")


def _problem(fall: Fall, rules: Rules | None, lk: Lookups) -> Problem:
    unit = lk.unit_names[fall.unit_code]
    degree = DEGREE_NAMES[fall.degree]
    day = fall.after.as_of_date
    bp = rules.max_cohort_drop_bp if rules is not None else DEFAULT_COHORT_DROP_BP
    return Problem(
        fall.after.source_file,
        None,
        "培养单位",
        f"「{unit}」{fall.year} 届{degree}毕业生从 {fall.before.source_file}（导出日期 "
        f"{fall.before.as_of_date}）的 {fall.was} 人减少到本导出（导出日期 {day}）的 "
        f"{fall.now} 人，减少 {fall.was - fall.now} 人，超过规则允许的 {_pct(bp)}%"
        f"（{fall.allowed} 人）：本导出可能不完整，本次运行不发布。若这一减少在预期之中"
        f"（例如有学生转为结业），请在{_where(rules, fall.year)}中加一节 "
        f'[[exports.expected_drops]]，逐行写 unit = "{unit}"、degree = "{degree}"、'
        f'export_date = {day}、reason = "减少的原因"，然后重新运行',
    )


def _where(rules: Rules | None, year: int) -> str:
    """Which rules file the centre records an expected fall in."""
    if rules is None:
        return f" {year} 年度的规则文件"
    if rules.path.parent.resolve() == RULES_DIR.resolve():
        return (
            f"中心自己的 {year} 年度规则文件（现用的是程序自带的 {rules.path}，不要修改它：先把它"
            f"复制到中心的规则文件夹，默认为原始数据文件夹旁的 rules/{year}.toml）"
        )
    return f"规则文件 {rules.path} "
