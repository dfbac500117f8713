"""The what-if as one call: copy the inputs of the working database's last successful run,
score them under the official rules and each draft, compare, and say where the official rules
file differs from the one the year was published with. The command line (cli/whatif_cmd.py)
only adds the console table and the files; tests call this directly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from employment_eval import preflight
from employment_eval.options import DEFAULT_RAW, default_rules_dir
from employment_eval.rules import Rules, RulesSource
from employment_eval.whatif import published
from employment_eval.whatif.compare import Comparison, compare
from employment_eval.whatif.score import score
from employment_eval.whatif.scratch import ScoredRun, Scratch, open_scratch


@dataclass(frozen=True)
class WhatIf:
    comparison: Comparison
    official: Rules
    drafts: tuple[Rules, ...]
    work_path: Path
    run: ScoredRun  # the last successful run, whose inputs were scored
    published_notes: tuple[str, ...]  # where the official rules differ from the published ones

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def run_as_of(self) -> dt.date:
        return self.run.as_of


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
    out_dir: Path | None = None,
) -> WhatIf:
    """`out_dir`: where the caller will write the files; refused (UsageError) inside any raw
    folder a run of this working database read or any folder that looks like one, or when it
    cannot be written, before anything
    is scored (and before the writability probe could leave a trace in a raw folder)."""
    scratch = open_scratch(
        work_path, year=year, as_of=as_of, wait_seconds=wait_seconds, on_wait=on_wait
    )
    try:
        if out_dir is not None:
            raw_dirs = [*scratch.raw_dirs, *preflight.raw_folders_holding(out_dir)]
            preflight.check_outside_raw("--out", out_dir, raw_dirs)
            preflight.check_writable_folder(out_dir, "输出文件夹")
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
        run=scratch.run,
        published_notes=tuple(published.notes(official, scratch.run.marts_path)),
    )
