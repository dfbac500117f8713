"""`generate`: write one or several synthetic evaluation years as the centre's files would be."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import polars as pl

from employment_eval.generate import showcase, tables
from employment_eval.generate.cohort import cohort, design_sizes
from employment_eval.generate.errors import GenerateError
from employment_eval.generate.files import (
    FileStyle,
    file_styles,
    resend,
    write_registrations,
    write_table,
)
from employment_eval.generate.rulesfiles import RulesFile, plan_rules
from employment_eval.generate.season import Season, day, export_dates, season_from_rules
from employment_eval.generate.story import build_story, placement
from employment_eval.paths import RAW_KINDS, RULES_DIR
from employment_eval.reference import Reference
from employment_eval.rules import DEGREES, Rules

DEFAULT_EXPORTS = 12
FORMATS = ("mixed", "csv")
MAX_YEARS = 10
SPECIAL_GROUP_CODES = {"econ": "economic_hardship", "academic": "academic_difficulty"}


def parse_years(text: str) -> list[int]:
    """'2020-2022' → [2020, 2021, 2022]; '2021' and '2020,2022' work too."""
    years: set[int] = set()
    for part in str(text).replace("，", ",").split(","):
        m = re.fullmatch(r"\s*(\d{4})\s*(?:[-–~至]\s*(\d{4})\s*)?", part)
        if not m:
            raise GenerateError(
                f"年度范围「{text}」无法识别：请写成 2020-2022（起止年度）或 2021（单个年度）。"
            )
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise GenerateError(f"年度范围「{text}」的结束年度 {hi} 早于开始年度 {lo}。")
        years.update(range(lo, hi + 1))
    if len(years) > MAX_YEARS:
        raise GenerateError(f"年度范围「{text}」包含 {len(years)} 个年度，最多 {MAX_YEARS} 个。")
    return sorted(years)


def _years(year: int, years: Iterable[int] | str | None) -> list[int]:
    if years is None:
        chosen = [int(year)]
    elif isinstance(years, str):
        chosen = parse_years(years)
    else:
        chosen = sorted({int(y) for y in years})
    if not chosen or any(not 2000 <= y <= 2100 for y in chosen):
        raise GenerateError(f"评估年度须在 2000 至 2100 之间，收到 {chosen or '（空）'}。")
    return chosen


def _prepare(out: Path) -> None:
    """The four input folders exist and are empty (nothing already there is overwritten)."""
    for kind in RAW_KINDS:
        folder = out / kind
        if folder.exists() and not folder.is_dir():
            raise GenerateError(f"{folder} 已存在且不是文件夹：请换一个 --out 目录。")
        present = (
            sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
            if folder.is_dir()
            else []
        )
        if present:
            raise GenerateError(
                f"输出目录 {folder} 不是空目录（已有 {present[0]} 等 {len(present)} 个文件）："
                "generate 只向空目录写入合成数据，不会覆盖或混入已有的输入文件。"
                "请换一个 --out 目录，或先清空该目录。"
            )
    for kind in RAW_KINDS:
        (out / kind).mkdir(parents=True, exist_ok=True)


def generate(
    out: Path,
    year: int = 2021,
    seed: int = 2021,
    scale: float = 1.0,
    exports: int | None = None,
    fmt: str = "mixed",
    years: Iterable[int] | str | None = None,
) -> dict:
    """Write synthetic evaluation years under `out` (registrations/, special_groups/,
    submissions/, adjustments/) and the rules files they need beside it (`out/../rules/`),
    and return a summary. `years` (e.g. "2020-2022") writes one season per year into the same
    folders; otherwise `year` alone. Same arguments → byte-identical files.

    Raises GenerateError (a Chinese paragraph) on bad arguments or a non-empty output folder;
    nothing is written then."""
    if fmt not in FORMATS:
        raise GenerateError(f"--format 须为 {' 或 '.join(FORMATS)}，收到「{fmt}」。")
    if not scale > 0:
        raise GenerateError(f"--scale 须大于 0，收到 {scale}。")
    chosen = _years(year, years)
    out = Path(out).absolute()
    n_exports = DEFAULT_EXPORTS if exports is None else int(exports)
    rules, rule_files = plan_rules(out.parent / "rules", chosen, RULES_DIR)
    seasons = {y: season_from_rules(rules[y]) for y in chosen}
    dates = {y: export_dates(seasons[y], n_exports) for y in chosen}
    _prepare(out)
    for f in rule_files:
        f.write()
    ref = Reference()
    per_year = {
        y: _generate_year(out, ref, rules[y], seasons[y], dates[y], seed, scale, fmt)
        for y in chosen
    }
    return _combine(out, per_year, rule_files)


def _generate_year(
    out: Path,
    ref: Reference,
    rules: Rules,
    season: Season,
    dates: list[dt.date],
    seed: int,
    scale: float,
    fmt: str,
) -> dict:
    year = rules.year

    def rng(*k: int) -> np.random.Generator:
        return np.random.default_rng([seed, year, *k])

    plan = showcase.design(ref, rules, design_sizes(ref, scale, year))
    frame = cohort(ref, year, scale, rng(1))
    story = build_story(rng(2), ref, season, frame, plan.guided_units)
    gap_active = max(dates) > season.nodes[-1]
    story, applied = showcase.apply(rng(6), season, story, plan, gap_active)
    styles = file_styles(rng(3, len(dates)), ref, dates, fmt)
    registrations = write_registrations(out, story, styles, ref, year)
    resent_style = next((s for s in styles if s.date == season.guided), styles[0])
    resent = resend(out, resent_style)
    registrations.append(resent)

    mixed = fmt == "mixed"
    ext = "xlsx" if mixed else "csv"
    created = dt.datetime.combine(season.end, dt.time(9, 0))
    roster_names = []
    for i, (label, roster) in enumerate(tables.rosters(story, year)):
        kind = ("xlsx" if i == 0 else "utf-8-sig") if mixed else "utf-8"
        name = f"特定群体名单_{label}_{year}.{'xlsx' if kind == 'xlsx' else 'csv'}"
        write_table(roster, out / "special_groups" / name, kind, created, "特定群体")
        roster_names.append(name)
    ledger, info = tables.ledger(rng(5), ref, rules, plan.roles, mixed)
    ledger_name = f"submissions_{year}.{ext}"
    ledger_kind = "xlsx" if mixed else "utf-8"
    write_table(ledger, out / "submissions" / ledger_name, ledger_kind, created, "单位材料登记")
    decisions: list[tuple[int, bool]] = []
    if plan.tie is not None:
        first_advanced = bool(rng(7).integers(0, 2) == 0)
        decisions = [(plan.tie[0], first_advanced), (plan.tie[1], not first_advanced)]
    adjustments = tables.adjustments(ref, rules, info.complaint_unit, decisions, season.end)
    adjustments_name = f"学指委审核调整_{year}.csv"
    write_table(
        adjustments,
        out / "adjustments" / adjustments_name,
        "utf-8-sig" if mixed else "utf-8",
        created,
        "调整",
    )
    return _summary(
        out,
        ref,
        season,
        story,
        styles,
        {
            "registrations": registrations,
            "special_groups": roster_names,
            "submissions": [ledger_name],
            "adjustments": [adjustments_name],
        },
        _features(ref, plan, applied, info, decisions, resent, roster_names),
    )


def _features(
    ref: Reference,
    plan: showcase.Design,
    applied: showcase.Applied,
    info: tables.LedgerInfo,
    decisions: list[tuple[int, bool]],
    resent: str,
    roster_names: list[str],
) -> dict:
    """What the season shows on purpose (unit codes and counts only: no personal data)."""
    code = [u.code for u in ref.units]
    exact = plan.exact
    return {
        "adjusted_cell": {"unit": code[info.complaint_unit], "indicator": "I2"},
        "tie_at_cutoff": None
        if plan.tie is None
        else {
            "group": showcase.TIE_GROUP,
            "units": [code[u] for u in plan.tie],
            "above": [code[u] for u in plan.above],
            "below": [code[u] for u in plan.below],
            "advanced": next(code[u] for u, yes in decisions if yes),
        },
        "rate_tiebreak": None
        if plan.twins is None
        else {
            "units": [code[u] for u in plan.twins],
            "first": code[plan.twins[1]],
            "degree": DEGREES[plan.twin_degree or 0],
        },
        "exact_target_cell": None
        if exact is None
        else {
            "unit": code[exact.unit],
            "special_group": "economic_hardship",
            "degree": DEGREES[exact.degree],
            "graduates": exact.members,
            "employed": exact.employed,
            "target_bp": exact.target_bp,
        },
        "zero_forms": [code[u] for u in info.zero_forms],
        "cohort_changes": {
            "added": applied.added,
            "removed": applied.removed,
            "moved_unit": applied.moved_unit,
            "moved_degree": applied.moved_degree,
        },
        "roster_missing_on_last_node": applied.missing_on_last_node,
        "roster_files": len(roster_names),
        "resent_export": resent,
    }


def _summary(
    out: Path,
    ref: Reference,
    season: Season,
    story: pl.DataFrame,
    styles: list[FileStyle],
    files: dict[str, list[str]],
    features: dict,
) -> dict:
    """Cohort sizes as in the last node's snapshot (docs/评估规则.md D1)."""
    last = placement(story, day(season.nodes[-1]))
    counts = (
        last.filter(~pl.col("completion"))
        .group_by("unit_idx", "deg_idx")
        .len()
        .sort("unit_idx", "deg_idx")
    )
    by_degree: dict[str, dict[str, int]] = {u.code: {} for u in ref.units}
    for ui, di, n in counts.iter_rows():
        by_degree[ref.units[ui].code][DEGREES[di]] = n
    graduates = {code: sum(d.values()) for code, d in by_degree.items()}
    rosters = story.filter(~pl.col("completion") & ~pl.col("ghost"))
    return {
        "out": str(out),
        "year": season.year,
        "export_dates": [s.date.isoformat() for s in styles],
        "files": files,
        "file_kinds": {s.filename: s.kind for s in styles},
        "graduates": graduates,
        "graduates_by_degree": by_degree,
        "total_graduates": sum(graduates.values()),
        "completion_rows": int(last["completion"].sum()),
        "special_group_rows": int(rosters["econ"].sum() + rosters["academic"].sum()),
        "features": features,
    }


def _combine(out: Path, per_year: dict[int, dict], rule_files: list[RulesFile]) -> dict:
    """One year: its summary; several: the files and counts of all, per year under "years"."""
    rules = [str(f.path.relative_to(out.parent)) for f in rule_files]
    if len(per_year) == 1:
        (summary,) = per_year.values()
        return {**summary, "files": {**summary["files"], "rules": rules}, "years": per_year}
    files: dict[str, list[str]] = {kind: [] for kind in RAW_KINDS}
    for s in per_year.values():
        for kind, names in s["files"].items():
            files[kind] += names
    return {
        "out": str(out),
        "years": per_year,
        "export_dates": sorted(d for s in per_year.values() for d in s["export_dates"]),
        "files": {**files, "rules": rules},
        "file_kinds": {k: v for s in per_year.values() for k, v in s["file_kinds"].items()},
        "total_graduates": sum(s["total_graduates"] for s in per_year.values()),
    }
