"""What the notice and the certificates say, read from the published marts file only: the
year's signature (required: the results are announced after the leader's approval), the
advanced units of each group with their totals, the policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from employment_eval.failures import UsageError
from employment_eval.publish import fetch_dicts, open_published
from employment_eval.render.yearend.data import GROUP_NAMES, GROUP_ORDER
from employment_eval.signing.published import Signature, signature


@dataclass(frozen=True)
class Advanced:
    code: str
    name: str
    short_name: str
    group: str
    rank: int
    total: Decimal


@dataclass(frozen=True)
class NoticeData:
    year: int
    signature: Signature
    policy_number: str
    policy_title: str
    units: tuple[Advanced, ...]  # group order, then rank

    def group(self, group: str) -> list[Advanced]:
        return [u for u in self.units if u.group == group]

    @property
    def groups(self) -> list[tuple[str, list[Advanced]]]:
        return [(GROUP_NAMES[g], self.group(g)) for g in GROUP_ORDER if self.group(g)]

    @property
    def text_fields(self) -> dict[str, object]:
        """The placeholders the settings' texts may use ({year}, {policy_number}, …)."""
        return {
            "year": self.year,
            "policy_number": self.policy_number,
            "policy_title": self.policy_title,
            "advanced_count": len(self.units),
        }


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def read_notice_data(marts_path: Path, year: int) -> NoticeData:
    con = open_published(marts_path)
    try:
        sig = signature(con, year)
        if sig is None:
            raise UsageError(
                f"{year} 年度尚未审定签发：评估结果须经学指委审核、分管院领导审定签发后才能公布，"
                f"通知与荣誉证书只为已签发的年度生成。请先签发：employment-eval sign --year {year} "
                "--by 签发人"
            )
        rule = fetch_dicts(
            con,
            "select policy_number, policy_title from reference.rule_years where year = ?",
            [year],
        )
        rows = fetch_dicts(
            con,
            "select s.unit_code, s.unit_name, s.unit_group, s.rank_in_group, s.total_points, "
            "u.short_name, u.sort_order from marts.scoreboard s join reference.units u "
            "using (unit_code) where s.year = ? and s.is_advanced",
            [year],
        )
    finally:
        con.close()
    rows.sort(
        key=lambda r: (GROUP_ORDER.index(r["unit_group"]), r["rank_in_group"], r["sort_order"])
    )
    return NoticeData(
        year=year,
        signature=sig,
        policy_number=(rule[0]["policy_number"] if rule else "") or "",
        policy_title=(rule[0]["policy_title"] if rule else "") or "",
        units=tuple(
            Advanced(
                r["unit_code"],
                r["unit_name"],
                r["short_name"] or r["unit_name"],
                r["unit_group"],
                int(r["rank_in_group"]),
                r["total_points"],
            )
            for r in rows
        ),
    )
