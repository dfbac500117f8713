"""The year's rules file (reference/rules/<year>.toml): targets, nodes, points, quotas, knobs.

Loaded, checked and turned into the `reference.rule_*` tables the SQL models read. Percentages
are held as basis points (hundredths of a percent) in integers, so no float decides a boundary."""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from employment_eval.paths import RULES_DIR

DEGREES = ("bachelor", "master", "doctor")
INDICATORS = tuple(f"I{i}" for i in range(1, 10))
GROUPS = ("school", "general", "specialty")
KNOB_CHOICES: dict[str, tuple[object, ...] | type] = {
    "require_verification": bool,
    "deduction_rounding": ("floor", "ceil", "exact"),
    "large_unit_threshold": int,
    "partial_credit": ("proportional", "none"),
    "guided_denominator": ("employed_in_job", "all_graduates"),
    "special_group_scope": ("per_group_degree", "pooled_by_degree"),
}


class RulesError(Exception):
    """The rules file is missing or malformed; the message names the file."""


def _bp(value: object, where: str, path: Path) -> int:
    """Percent (int or decimal string) → basis points, exactly."""
    if isinstance(value, float | bool):
        raise RulesError(
            f"规则文件 {path}：{where} 的值 {value!r} 必须写成整数"
            '或带引号的小数（如 "94.5"），不接受浮点数'
        )
    try:
        d = Decimal(str(value))
    except InvalidOperation as exc:
        raise RulesError(f"规则文件 {path}：{where} 的值 {value!r} 不是数字") from exc
    bp = d * 100
    if bp != bp.to_integral_value() or not (0 <= bp <= 10000):
        raise RulesError(f"规则文件 {path}：{where} 的值 {value} 须在 0–100 之间且最多两位小数")
    return int(bp)


@dataclass(frozen=True)
class Milestone:
    date: dt.date
    base_points: int
    target_bp: dict[str, int]


@dataclass(frozen=True)
class Rules:
    year: int
    path: Path
    milestones: tuple[Milestone, ...]
    indicators: dict[str, tuple[str, int, str]]  # code → (category, base_points, name)
    quotas: dict[str, int]
    guided_date: dt.date
    i4_report_deadline: dt.date
    i5_meeting_month: int
    evaluation_start: dt.date
    i3_step_bp: int
    i3_bonus_per_person: int
    i9_target_bp: int
    i9_step_bp: int
    i7_required: tuple[int, int]  # (large, small)
    i8_required: tuple[int, int]
    knobs: dict[str, object] = field(default_factory=dict)
    policy_number: str = ""  # e.g. 沪交医学〔2021〕1号
    policy_title: str = ""
    sha256: str = ""  # of the rules file's bytes, as read

    def with_knobs(self, **changes: object) -> Rules:
        """A copy with some knobs changed (used by tests and what-if runs)."""
        knobs = dict(self.knobs)
        for k, v in changes.items():
            _check_knob(k, v, self.path)
            knobs[k] = v
        return Rules(**{**self.__dict__, "knobs": knobs})

    # Rows for the reference.rule_* tables -------------------------------------------
    def rows(self) -> dict[str, list[dict[str, object]]]:
        y = self.year
        return {
            "rule_years": [
                {
                    "year": y,
                    "guided_date": self.guided_date,
                    "i4_report_deadline": self.i4_report_deadline,
                    "i5_meeting_month": self.i5_meeting_month,
                    "evaluation_start_date": self.evaluation_start,
                    "i3_step_bp": self.i3_step_bp,
                    "i3_bonus_per_person": self.i3_bonus_per_person,
                    "i9_target_bp": self.i9_target_bp,
                    "i9_step_bp": self.i9_step_bp,
                    "i7_required_large": self.i7_required[0],
                    "i7_required_small": self.i7_required[1],
                    "i8_required_large": self.i8_required[0],
                    "i8_required_small": self.i8_required[1],
                    "policy_number": self.policy_number,
                    "policy_title": self.policy_title,
                    "rules_file": str(self.path),
                    "rules_sha256": self.sha256,
                    **self.knobs,
                }
            ],
            "rule_milestones": [
                {
                    "year": y,
                    "milestone_date": m.date,
                    "milestone_seq": i + 1,
                    "base_points": m.base_points,
                }
                for i, m in enumerate(self.milestones)
            ],
            "rule_targets": [
                {"year": y, "milestone_date": m.date, "degree": d, "target_bp": m.target_bp[d]}
                for m in self.milestones
                for d in DEGREES
            ],
            "rule_indicators": [
                {
                    "year": y,
                    "indicator": code,
                    "category": cat,
                    "base_points": base,
                    "indicator_name": name,
                }
                for code, (cat, base, name) in self.indicators.items()
            ],
            "rule_quotas": [
                {"year": y, "unit_group": g, "quota": q} for g, q in self.quotas.items()
            ],
        }


def _check_knob(name: str, value: object, path: Path) -> None:
    if name not in KNOB_CHOICES:
        raise RulesError(f"规则文件 {path}：未知的设置项 {name}")
    spec = KNOB_CHOICES[name]
    if isinstance(spec, tuple):
        if value not in spec:
            raise RulesError(
                f"规则文件 {path}：{name} = {value!r} 不在可选值 {', '.join(map(str, spec))} 之中"
            )
    elif spec is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise RulesError(f"规则文件 {path}：{name} 必须是非负整数")
    elif spec is bool and not isinstance(value, bool):
        raise RulesError(f"规则文件 {path}：{name} 必须是 true 或 false")


def rules_path(year: int, directory: Path = RULES_DIR) -> Path:
    return directory / f"{year}.toml"


def available_years(directory: Path = RULES_DIR) -> list[int]:
    if not directory.is_dir():
        return []
    return sorted(int(p.stem) for p in directory.glob("*.toml") if p.stem.isdigit())


def load_rules(year: int, directory: Path = RULES_DIR) -> Rules:
    return load_rules_file(rules_path(year, directory), year)


def load_rules_file(path: Path, year: int | None = None) -> Rules:
    """Read and check one rules file. `year` defaults to the file's own `year` key (a draft
    may have any file name); when given, the file must be for that year."""
    try:
        content = path.read_bytes()
    except FileNotFoundError as exc:
        what = f"{year} 年没有评估规则文件" if year is not None else "评估规则文件不存在"
        raise RulesError(f"{what}：找不到 {path}") from exc
    except OSError as exc:
        raise RulesError(f"评估规则文件 {path} 无法读取：{exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(content.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"规则文件 {path} 无法解析：{exc}") from exc
    if year is None:
        year = data.get("year")
        if isinstance(year, bool) or not isinstance(year, int):
            raise RulesError(f"规则文件 {path}：缺少整数设置项 year（评估年度）")
    try:
        rules = _build(year, path, data)
    except KeyError as exc:
        raise RulesError(f"规则文件 {path} 缺少设置项 {exc.args[0]}") from exc
    return Rules(**{**rules.__dict__, "sha256": hashlib.sha256(content).hexdigest()})


@dataclass(frozen=True)
class RulesSource:
    """Where each year's official rules come from: `<directory>/<year>.toml`, the centre's own
    folder, first; the bundled `reference/rules/<year>.toml` when the folder has no file for
    that year. Only files named exactly `<year>.toml` are official (drafts live elsewhere)."""

    directory: Path | None = None
    bundled: Path = RULES_DIR

    def folders(self) -> list[Path]:
        return [d for d in (self.directory, self.bundled) if d is not None]

    def path_for(self, year: int) -> Path | None:
        for folder in self.folders():
            path = rules_path(year, folder)
            if path.is_file():
                return path
        return None

    def years(self) -> list[int]:
        return sorted({y for folder in self.folders() for y in available_years(folder)})

    def looked_for(self, year: int) -> str:
        return " 或 ".join(str(rules_path(year, folder)) for folder in self.folders())

    def load(self, year: int) -> Rules:
        path = self.path_for(year)
        if path is None:
            raise RulesError(f"{year} 年没有评估规则文件：找不到 {self.looked_for(year)}")
        return load_rules_file(path, year)

    def load_all(self) -> list[Rules]:
        return [self.load(year) for year in self.years()]


def _date(value: object, where: str, path: Path) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise RulesError(f"规则文件 {path}：{where} 必须是日期（如 2021-12-15）")


def _int(value: object, where: str, path: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RulesError(f"规则文件 {path}：{where} 必须是非负整数")
    return value


def _build(year: int, path: Path, data: dict) -> Rules:
    if data.get("year") != year:
        raise RulesError(
            f"规则文件 {path}：year = {data.get('year')!r}，与文件名的年度 {year} 不符"
        )
    milestones = []
    for i, m in enumerate(data["milestones"]):
        d = _date(m["date"], f"milestones[{i}].date", path)
        if d.year != year:
            raise RulesError(f"规则文件 {path}：时间节点 {d} 不在 {year} 年")
        targets = {deg: _bp(m["targets"][deg], f"{d} {deg} 目标", path) for deg in DEGREES}
        milestones.append(Milestone(d, _int(m["base_points"], f"{d} base_points", path), targets))
    milestones.sort(key=lambda m: m.date)
    indicators = {}
    for code in INDICATORS:
        spec = data["indicators"][code]
        if spec["category"] not in ("kpi", "development"):
            raise RulesError(f"规则文件 {path}：{code}.category 必须是 kpi 或 development")
        indicators[code] = (
            spec["category"],
            _int(spec["base_points"], f"{code}.base_points", path),
            spec["name"],
        )
    i3_base = sum(m.base_points for m in milestones)
    if i3_base != indicators["I3"][1]:
        raise RulesError(
            f"规则文件 {path}：I3 基准分 {indicators['I3'][1]} "
            f"与各时间节点基准分之和 {i3_base} 不符"
        )
    quotas = {g: _int(data["quotas"][g], f"quotas.{g}", path) for g in GROUPS}
    knobs = {}
    for name in KNOB_CHOICES:
        value = data["knobs"][name]
        _check_knob(name, value, path)
        knobs[name] = value
    dates = data["dates"]
    policy = data.get("policy", {})
    if not isinstance(policy, dict) or not all(
        isinstance(policy.get(k, ""), str) for k in ("number", "title")
    ):
        raise RulesError(f"规则文件 {path}：[policy] 的 number 与 title 须为文字")
    return Rules(
        year=year,
        path=path,
        milestones=tuple(milestones),
        indicators=indicators,
        quotas=quotas,
        guided_date=_date(dates["guided_snapshot"], "dates.guided_snapshot", path),
        i4_report_deadline=_date(dates["i4_report_deadline"], "dates.i4_report_deadline", path),
        i5_meeting_month=_int(dates["i5_meeting_month"], "dates.i5_meeting_month", path),
        evaluation_start=_date(dates["evaluation_start"], "dates.evaluation_start", path),
        i3_step_bp=_bp(data["i3"]["deduction_step_pct"], "i3.deduction_step_pct", path),
        i3_bonus_per_person=_int(data["i3"]["bonus_per_person"], "i3.bonus_per_person", path),
        i9_target_bp=_bp(data["i9"]["target_pct"], "i9.target_pct", path),
        i9_step_bp=_bp(data["i9"]["deduction_step_pct"], "i9.deduction_step_pct", path),
        i7_required=(
            _int(data["i7"]["required_large"], "i7", path),
            _int(data["i7"]["required_small"], "i7", path),
        ),
        i8_required=(
            _int(data["i8"]["required_large"], "i8", path),
            _int(data["i8"]["required_small"], "i8", path),
        ),
        knobs=knobs,
        policy_number=policy.get("number", ""),
        policy_title=policy.get("title", ""),
    )
