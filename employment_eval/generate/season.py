"""The year's calendar: node dates and targets (from the year's rules), and the export dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from employment_eval.generate.errors import GenerateError
from employment_eval.rules import DEGREES, Rules, RulesError, load_rules

EPOCH = dt.date(1970, 1, 1)
NEVER = 10_000_000  # a day number later than any export


def day(d: dt.date) -> int:
    """Day number of a date (the story's time axis)."""
    return (d - EPOCH).days


@dataclass(frozen=True, eq=False)
class Season:
    """The year's calendar: node dates and targets, from the rules file when there is one."""

    year: int
    nodes: tuple[dt.date, ...]
    targets_bp: np.ndarray  # (node, degree), basis points
    guided: dt.date
    start: dt.date
    end: dt.date
    rules: Rules | None = None

    @property
    def targets(self) -> np.ndarray:
        """(node, degree) as fractions."""
        return self.targets_bp / 10000

    @property
    def key_dates(self) -> tuple[dt.date, ...]:
        return tuple(sorted({*self.nodes, self.guided}))

    @property
    def node_days(self) -> np.ndarray:
        return np.array([day(d) for d in self.nodes], dtype=np.int64)


def season_from_rules(rules: Rules) -> Season:
    nodes = tuple(m.date for m in rules.milestones)
    targets = np.array([[m.target_bp[d] for d in DEGREES] for m in rules.milestones])
    return Season(
        rules.year,
        nodes,
        targets,
        rules.guided_date,
        dt.date(rules.year, 6, 1),
        rules.evaluation_start,
        rules,
    )


def load_season(year: int) -> Season:
    """Node dates and targets from the bundled rules file of the year, else the 2021 pattern."""
    try:
        return season_from_rules(load_rules(year))
    except RulesError:
        nodes = (dt.date(year, 6, 15), dt.date(year, 8, 15), dt.date(year, 12, 15))
        targets = np.array([[8000, 8000, 8000], [9000, 9400, 9500], [9400, 9700, 9800]])
        return Season(
            year, nodes, targets, dt.date(year, 12, 1), dt.date(year, 6, 1), dt.date(year, 12, 20)
        )


def export_dates(season: Season, n: int) -> list[dt.date]:
    """The season's export dates: the node dates and 1 Dec, then nightly ones spread evenly."""
    if n < 1:
        raise GenerateError(f"导出次数（--exports）必须至少为 1，收到 {n}。")
    key = season.key_dates
    if n <= len(key):
        return sorted(sorted(key, reverse=True)[:n])
    span = (season.end - season.start).days + 1
    others = [season.start + dt.timedelta(days=i) for i in range(span)]
    others = [d for d in others if d not in key]
    k = n - len(key)
    if k > len(others):
        raise GenerateError(
            f"导出次数（--exports）为 {n}，超过了 {season.start} 至 {season.end} 之间的天数"
            f"（最多 {len(others) + len(key)} 次）。"
        )
    picks = [len(others) - 1] if k == 1 else np.round(np.linspace(0, len(others) - 1, k))
    return sorted({*key, *(others[int(i)] for i in picks)})
