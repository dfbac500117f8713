"""The what-if as one call: copy the working database's inputs, score them under the official
rules and each draft, compare. The command line (cli/whatif_cmd.py) only adds the console
table and the files; tests call this directly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from employment_eval.options import DEFAULT_RAW, default_rules_dir
from employment_eval.rules import Rules, RulesSource
from employment_eval.whatif.compare import Comparison, compare
from employment_eval.whatif.score import score
from employment_eval.whatif.scratch import Scratch, open_scratch


@dataclass(frozen=True)
class WhatIf:
    comparison: Comparison
    official: Rules
    drafts: tuple[Rules, ...]
    work_path: Path
    run_id: str
    run_as_of: dt.date
    run_rules_sha256: str | None  # the rules file the last run used for the year

    @property
    def official_changed_since_run(self) -> bool:
        return bool(self.run_rules_sha256) and self.run_rules_sha256 != self.official.sha256


def draft_labels(n: int) -> list[str]:
    return ["草案"] if n == 1 else [f"草案{i}" for i in range(1, n + 1)]


def official_source(scratch: Scratch, rules_dir: Path | None) -> RulesSource:
    """The official rules: the folder given, else the one a run of that raw folder reads."""
    if rules_dir is not None:
        return RulesSource(rules_dir)
    return RulesSource(default_rules_dir(scratch.raw_dir or Path(DEFAULT_RAW).resolve()))


def run_whatif(
    work_path: Path,
    drafts: Sequence[Rules],
    *,
    year: int,
    as_of: dt.date | None = None,
    rules_dir: Path | None = None,
    wait_seconds: float = 0,
    on_wait: Callable[[str], None] | None = None,
) -> WhatIf:
    scratch = open_scratch(
        work_path, year=year, as_of=as_of, wait_seconds=wait_seconds, on_wait=on_wait
    )
    try:
        official = official_source(scratch, rules_dir).load(year)
        labels = ["正式规则", *draft_labels(len(drafts))]
        analysis = work_path.with_name(work_path.name + ".analysis.json")
        scorings = score(scratch.con, [official, *drafts], labels, analysis)
    finally:
        scratch.close()
    return WhatIf(
        comparison=compare(scorings[0], scorings[1:], scratch.as_of),
        official=official,
        drafts=tuple(drafts),
        work_path=work_path,
        run_id=scratch.run_id,
        run_as_of=scratch.run_as_of,
        run_rules_sha256=scratch.run_rules_sha256,
    )
