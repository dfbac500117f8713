"""Committee adjustments that can only be judged after scoring (docs/评估规则.md D12): a decision on
the advanced flag is allowed only for a unit tied at the cutoff, and a group may not end with
more advanced units than its quota. Both are input errors naming the adjustments file and row.
A decision dated after the run's --as-of is not applied that night (int_adjustments_in_effect),
so it is judged on the first night it applies."""

from __future__ import annotations

import duckdb

from employment_eval.problems import Problem

INDICATOR_HEADER = "指标"


def decision_problems(con: duckdb.DuckDBPyConnection) -> list[Problem]:
    problems: list[Problem] = []
    untied = con.execute(
        """select a.source_file, a.source_row, u.unit_name, s.rank_in_group
           from intermediate.int_adjustments_in_effect a
           inner join marts.scoreboard s on a.year = s.year and a.unit_code = s.unit_code
           inner join reference.units u on a.unit_code = u.unit_code
           where a.indicator = 'ADVANCED' and a.is_in_effect and not s.tie_at_cutoff
           order by a.source_file, a.source_row"""
    ).fetchall()
    for source_file, row, unit_name, rank in untied:
        problems.append(
            Problem(
                source_file,
                row,
                INDICATOR_HEADER,
                f"「{unit_name}」（组内第 {rank} 名）不是名额线上的并列单位，"
                "学指委只能对名额线上并列的单位作出先进单位决定",
            )
        )
    over_quota = con.execute(
        """with groups as (
               select year, unit_group, max(quota) as quota,
                      count(*) filter (where is_advanced) as advanced
               from marts.scoreboard group by year, unit_group
               having count(*) filter (where is_advanced) > max(quota)
           )
           select a.source_file, a.source_row, g.unit_group, g.quota, g.advanced
           from intermediate.int_adjustments_in_effect a
           inner join marts.scoreboard s on a.year = s.year and a.unit_code = s.unit_code
           inner join groups g on s.year = g.year and s.unit_group = g.unit_group
           where a.indicator = 'ADVANCED' and a.is_in_effect and a.advanced_decision
           order by a.source_file, a.source_row"""
    ).fetchall()
    names = {"school": "院本部", "general": "附属综合性医院", "specialty": "附属专科医院"}
    for source_file, row, group, quota, advanced in over_quota:
        problems.append(
            Problem(
                source_file,
                row,
                "调整后分值",
                f"{names.get(group, group)}组名额 {quota} 个，按学指委决定将有 {advanced} 个"
                "先进单位，超出名额",
            )
        )
    return problems
