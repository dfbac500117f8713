"""Rules files written beside the generated raw folder (`<out>/../rules/`, the pipeline's default
--rules folder): the official `<year>.toml` of a year the repository has no rules for
(targets and quotas differ from 2021's), and a what-if draft with decimal targets in
`drafts/<year>-decimal-targets.toml` (never loaded as official: only `<year>.toml` is).

The text follows reference/rules/2021.toml; every file written is read back with
employment_eval.rules, so it is valid by construction."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from employment_eval.generate.errors import GenerateError
from employment_eval.generate.files import write_text_atomic
from employment_eval.rules import (
    DEGREES,
    GROUPS,
    INDICATORS,
    KNOB_CHOICES,
    Milestone,
    Rules,
    RulesError,
    load_rules,
    load_rules_file,
)

TEMPLATE_YEAR = 2021
# Quotas (school, general, specialty) by (year − 2021) mod 4: other years differ from 2021.
QUOTA_CYCLE = ((2, 4, 3), (1, 4, 3), (2, 3, 2), (2, 4, 2))
DRAFT_STEP_BP = 50  # the draft raises the last node's targets by half a percentage point


def _pct(bp: int) -> str:
    """Basis points as the rules file writes percentages: 94 or "98.5" (never a TOML float)."""
    if bp % 100 == 0:
        return str(bp // 100)
    return f'"{(Decimal(bp) / 100).normalize():f}"'


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return f'"{v}"'


def rules_text(r: Rules, heading: str) -> str:
    """A complete rules file for `r`, in the layout of reference/rules/2021.toml."""
    out = [
        f"# {heading}",
        '# Percentages are exact decimals written as integers or strings ("94.5"); TOML floats',
        "# are refused so that no float decides a boundary.",
        f"year = {r.year}",
        "",
        "[policy]",
        f'number = "{r.policy_number}"',
        f'title = "{r.policy_title}"',
        "",
        "[dates]",
        f"guided_snapshot = {r.guided_date.isoformat()}",
        f"i4_report_deadline = {r.i4_report_deadline.isoformat()}",
        f"i5_meeting_month = {r.i5_meeting_month}",
        f"evaluation_start = {r.evaluation_start.isoformat()}",
        "",
        "# I3 nodes (D3, D9): date, base points, target per degree in percent.",
    ]
    for m in r.milestones:
        targets = ", ".join(f"{d} = {_pct(m.target_bp[d])}" for d in DEGREES)
        out += [
            "[[milestones]]",
            f"date = {m.date.isoformat()}",
            f"base_points = {m.base_points}",
            f"targets = {{ {targets} }}",
            "",
        ]
    out.append("[indicators]")
    for code in INDICATORS:
        category, base, name = r.indicators[code]
        out.append(f'{code} = {{ category = "{category}", base_points = {base}, name = "{name}" }}')
    out += ["", "[quotas]", *(f"{g} = {r.quotas[g]}" for g in GROUPS), ""]
    out += [
        "[i3]",
        f"deduction_step_pct = {_pct(r.i3_step_bp)}",
        f"bonus_per_person = {r.i3_bonus_per_person}",
        "",
        "[i9]",
        f"target_pct = {_pct(r.i9_target_bp)}",
        f"deduction_step_pct = {_pct(r.i9_step_bp)}",
        "",
        "[i7]",
        f"required_large = {r.i7_required[0]}",
        f"required_small = {r.i7_required[1]}",
        "",
        "[i8]",
        f"required_large = {r.i8_required[0]}",
        f"required_small = {r.i8_required[1]}",
        "",
        "[knobs]",
        *(f"{k} = {_value(r.knobs[k])}" for k in KNOB_CHOICES),
        "",
        "# Cohort falls between consecutive exports (docs/输入文件格式.md).",
        "[exports]",
        f"max_cohort_drop_pct = {_pct(r.max_cohort_drop_bp)}",
        "",
    ]
    return "\n".join(out)


def _shift_date(d, year: int):
    return d.replace(year=year)


def year_rules(year: int, template: Rules) -> Rules:
    """A plausible rules file for another year: the template's layout, targets moved a year
    at a time (first node ±2 points, middle nodes ±1, last node's bachelor target ±2: still a
    whole even percentage, so that 25 or 50 graduates can meet it exactly), quotas from
    QUOTA_CYCLE."""
    shift = year - template.year
    last = len(template.milestones) - 1
    milestones = []
    for i, m in enumerate(template.milestones):
        steps = {d: (200 if i == 0 else 100) * shift for d in DEGREES}
        if i == last:
            steps = {d: (200 * shift if d == "bachelor" else 0) for d in DEGREES}
        targets = {d: min(9900, max(5000, bp + steps[d])) for d, bp in m.target_bp.items()}
        milestones.append(Milestone(_shift_date(m.date, year), m.base_points, targets))
    quotas = dict(zip(GROUPS, QUOTA_CYCLE[shift % len(QUOTA_CYCLE)], strict=True))
    return dataclasses.replace(
        template,
        year=year,
        milestones=tuple(milestones),
        quotas=quotas,
        guided_date=_shift_date(template.guided_date, year),
        i4_report_deadline=_shift_date(template.i4_report_deadline, year),
        evaluation_start=_shift_date(template.evaluation_start, year),
        policy_number=f"沪交医学〔{year}〕1号",
        policy_title=f"上海交通大学医学院 {year} 年度毕业生就业工作质量评估和先进单位评选办法"
        "（合成示例）",
        sha256="",
    )


def draft_rules(official: Rules) -> Rules:
    """A what-if draft of the year: the last node's targets half a point higher, as decimals."""
    *early, last = official.milestones
    targets = {d: min(10000, bp + DRAFT_STEP_BP) for d, bp in last.target_bp.items()}
    title = official.policy_title or f"{official.year} 年度评估办法"
    return dataclasses.replace(
        official,
        milestones=(*early, Milestone(last.date, last.base_points, targets)),
        policy_title=f"{title}（征求意见稿：12 月 15 日目标就业率各提高 0.5 个百分点）",
        sha256="",
    )


@dataclass(frozen=True)
class RulesFile:
    """A rules file to write: path, text, and how to read it back."""

    path: Path
    text: str
    year: int
    official: bool

    def write(self) -> None:
        if self.path.exists():  # the same text: checked by plan_rules
            return
        write_text_atomic(self.path, self.text)
        try:
            if self.official:
                load_rules(self.year, self.path.parent)
            else:
                load_rules_file(self.path, self.year)
        except RulesError as exc:  # pragma: no cover - the serializer writes valid files
            raise AssertionError(f"generated rules file is invalid: {exc}") from exc


def _file(path: Path, text: str, year: int, official: bool) -> RulesFile:
    """A file to write, unless the same text is there already; a different file is never
    overwritten."""
    if path.exists() and path.read_text(encoding="utf-8") != text:
        raise GenerateError(
            f"规则文件 {path} 已存在，且内容与将要生成的不同：generate 不会覆盖已有的规则文件。"
            "请换一个 --out 目录，或先移走该文件。"
        )
    return RulesFile(path, text, year, official)


def plan_rules(
    rules_dir: Path, years: list[int], bundled: Path
) -> tuple[dict[int, Rules], list[RulesFile]]:
    """The official rules of every year (the folder's own `<year>.toml`, else the bundled one,
    else a new file for the folder) and a decimal-target draft per year. Nothing is written
    here: the files are returned, to be written once the arguments have all been checked."""
    files: list[RulesFile] = []
    out: dict[int, Rules] = {}
    template = load_rules(TEMPLATE_YEAR, bundled)
    for year in years:
        for folder in (rules_dir, bundled):
            if (folder / f"{year}.toml").is_file():
                out[year] = load_rules(year, folder)
                break
        else:
            path = rules_dir / f"{year}.toml"
            out[year] = dataclasses.replace(year_rules(year, template), path=path)
            heading = f"Scoring rules for evaluation year {year} (synthetic: written by generate)."
            files.append(_file(path, rules_text(out[year], heading), year, official=True))
    for year in years:
        path = rules_dir / "drafts" / f"{year}-decimal-targets.toml"
        heading = (
            f"What-if draft for {year}: decimal targets (written by generate).\n"
            f"# A draft is never loaded as the official rules (only rules/{year}.toml is):\n"
            "# try it with `employment-eval whatif --rules <this file>`."
        )
        files.append(_file(path, rules_text(draft_rules(out[year]), heading), year, False))
    return out, files
