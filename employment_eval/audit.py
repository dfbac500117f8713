"""Audit step: checks that decide whether a build may be published.

Each check is a SQL query counting offending rows; a check has a severity: an error blocks
publishing, a warning is reported. The Great Expectations suites plug in here too."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from employment_eval import runner
from employment_eval.paths import SQL_DIR


@dataclass(frozen=True)
class CheckResult:
    suite: str
    name: str  # what is expected (Chinese, shown to the centre)
    severity: str  # error / warning
    failing: int
    samples: list[tuple] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failing == 0

    def render(self) -> str:
        label = "错误" if self.severity == "error" else "警告"
        text = f"[{label}] {self.suite}：{self.name}——{self.failing} 行不符合"
        if self.samples:
            text += "；例：" + "；".join(" ".join(str(v) for v in s) for s in self.samples[:5])
        return text


class AuditError(Exception):
    def __init__(self, results: list[CheckResult]):
        self.results = results
        failed = [r for r in results if not r.ok and r.severity == "error"]
        super().__init__("\n".join(r.render() for r in failed))


# (suite, description, severity, query returning the offending rows)
SQL_CHECKS: tuple[tuple[str, str, str, str], ...] = (
    (
        "marts",
        "每个单位每年恰有 9 个指标行",
        "error",
        """select s.year, s.unit_code, count(i.indicator) as n
        from marts.scoreboard s left join marts.indicator_scores i
          on s.year = i.year and s.unit_code = i.unit_code
        group by all having count(i.indicator) <> 9""",
    ),
    (
        "marts",
        "每年记分板包含全部单位",
        "error",
        """select y.year, count(s.unit_code)
        from (select distinct year from marts.milestone_rates) y
        left join marts.scoreboard s on s.year = y.year
        group by all having count(s.unit_code) <> (select count(*) from reference.units)""",
    ),
    (
        "marts",
        "就业率在 [0, 1] 之间，就业人数不超过毕业生人数",
        "error",
        """select year, unit_code, degree, milestone_date, employed, graduates
        from marts.milestone_rates
        where employment_rate not between 0 and 1 or employed > graduates or graduates <= 0""",
    ),
    (
        "marts",
        "基准分在 [0, 基准分] 之间（奖励分除外）",
        "error",
        """select year, unit_code, indicator, computed_points from marts.indicator_scores
        where computed_points < 0
           or (indicator <> 'I3' and computed_points > base_points)""",
    ),
    (
        "marts",
        "各组先进单位数不超过名额",
        "error",
        """select year, unit_group, count(*) filter (where is_advanced) as advanced, max(quota)
        from marts.scoreboard group by all
        having count(*) filter (where is_advanced) > max(quota)""",
    ),
    (
        "adjustments",
        "先进单位决定只能针对名额线上并列的单位（D12）",
        "error",
        """select year, unit_code from marts.scoreboard
        where is_decided_by_committee and not tie_at_cutoff""",
    ),
    (
        "marts",
        "无未决并列时，各组先进单位数等于名额",
        "error",
        """select year, unit_group from marts.scoreboard group by all
        having not bool_or(tie_at_cutoff and not is_decided_by_committee)
           and count(*) filter (where is_advanced) <> least(max(quota), count(*))""",
    ),
)


def run_sql_checks(con: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    results = []
    for suite, name, severity, query in SQL_CHECKS:
        rows = con.execute(query).fetchall()
        results.append(CheckResult(suite, name, severity, len(rows), rows[:5]))
    for model in runner.discover(SQL_DIR):
        if model.grain:
            bad = runner.check_grain(con, model)
            results.append(
                CheckResult(
                    model.schema,
                    f"{model.schema}.{model.name} 每个 ({', '.join(model.grain)}) 唯一且非空",
                    "error",
                    bad,
                )
            )
    return results


def raise_on_errors(results: list[CheckResult]) -> None:
    if any(not r.ok and r.severity == "error" for r in results):
        raise AuditError(results)


def run_audit(con: duckdb.DuckDBPyConnection, candidate, opts) -> list[CheckResult]:
    """Every check of the run: the SQL checks on the working database (marts as built)."""
    return run_sql_checks(con)
