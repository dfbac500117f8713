"""The year's rules file (`<year>.toml`): targets, nodes, points, quotas, knobs.

Loaded, checked and turned into the `reference.rule_*` tables the SQL models read. Percentages
are held as basis points (hundredths of a percent) in integers, so no float decides a boundary.

Checking collects every problem of a file at once (`check_rules_text`), each naming its key
and the line it is written on (tomllib gives no positions: `KeyLines` finds them in the text);
`RulesError` carries them all."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from employment_eval import rules_limits
from employment_eval.paths import RULES_DIR

DEGREES = ("bachelor", "master", "doctor")
INDICATORS = tuple(f"I{i}" for i in range(1, 10))
GROUPS = ("school", "general", "specialty")
CATEGORIES = ("kpi", "development")
KNOB_CHOICES: dict[str, tuple[object, ...] | type] = {
    "require_verification": bool,
    "deduction_rounding": ("floor", "ceil", "exact"),
    "large_unit_threshold": int,
    "partial_credit": ("proportional", "none"),
    "guided_denominator": ("employed_in_job", "all_graduates"),
    "special_group_scope": ("per_group_degree", "pooled_by_degree"),
}
# Every key a rules file may hold, by table ("" is the top level).
SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "": (
        "year",
        "policy",
        "dates",
        "milestones",
        "indicators",
        "quotas",
        "i3",
        "i9",
        "i7",
        "i8",
        "knobs",
    ),
    "policy": ("number", "title"),
    "dates": ("guided_snapshot", "i4_report_deadline", "i5_meeting_month", "evaluation_start"),
    "milestones": ("date", "base_points", "targets"),
    "indicators": INDICATORS,
    "indicator": ("category", "base_points", "name"),
    "quotas": GROUPS,
    "i3": ("deduction_step_pct", "bonus_per_person"),
    "i9": ("target_pct", "deduction_step_pct"),
    "i7": ("required_large", "required_small"),
    "i8": ("required_large", "required_small"),
    "knobs": tuple(KNOB_CHOICES),
}


# --- problems --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RulesProblem:
    """One problem of a rules file: the key (dotted, e.g. `milestones[2].targets.doctor`), the
    line it is written on (1-based; for a missing key the line of its table, None when the
    table itself is missing) and a Chinese sentence."""

    key: str
    line: int | None
    message: str

    def render(self) -> str:
        place = f"第 {self.line} 行" if self.line is not None else "（文件中没有）"
        return f"{place} {self.key}：{self.message}"


class RulesError(Exception):
    """The rules file is missing or malformed; the message names the file and lists every
    problem (`problems`, empty for a file that is missing or unreadable)."""

    def __init__(
        self, message: str, problems: Sequence[RulesProblem] = (), path: Path | None = None
    ):
        super().__init__(message)
        self.problems = tuple(problems)
        self.path = path

    @classmethod
    def of(cls, path: Path, problems: Sequence[RulesProblem]) -> RulesError:
        items = sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.key))
        if len(items) == 1:
            return cls(f"规则文件 {path}：{items[0].render()}", items, path)
        lines = "\n".join(f"  {p.render()}" for p in items)
        return cls(f"规则文件 {path} 有 {len(items)} 处错误：\n{lines}", items, path)


# --- where keys are written ------------------------------------------------------------------

_TABLE_ARRAY = re.compile(r"^\[\[\s*([^\[\]]+?)\s*\]\]$")
_TABLE = re.compile(r"^\[\s*([^\[\]]+?)\s*\]$")
_KEY = re.compile(r"^([^=\[]+?)\s*=(.*)$")
_INNER_KEY = re.compile(r"(?:^|[{,])\s*([A-Za-z0-9_\-]+)\s*=")
_KEY_PART = re.compile(r"\"[^\"]*\"|'[^']*'|[^.\s]+")


def _mask(line: str) -> tuple[str, str]:
    """(the line without its comment, the same with every string's content blanked out)."""
    kept, masked, quote = [], [], ""
    for ch in line:
        if quote:
            kept.append(ch)
            masked.append(ch if ch == quote else " ")
            if ch == quote:
                quote = ""
        elif ch == "#":
            break
        else:
            kept.append(ch)
            masked.append(ch)
            if ch in "\"'":
                quote = ch
    return "".join(kept), "".join(masked)


def _key_name(text: str) -> str:
    return ".".join(part.strip("\"'") for part in _KEY_PART.findall(text))


class KeyLines:
    """The line each key of a TOML text is written on, found by scanning the text: `[table]`
    and `[[array]]` headers, `key = value` lines and the keys of inline tables. Keys are dotted
    paths as the checks name them: `knobs.deduction_rounding`, `milestones[1].targets.master`,
    `indicators.I3.base_points`."""

    def __init__(self, text: str):
        self.lines: dict[str, int] = {}
        section = ""
        arrays: dict[str, int] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line, masked = (part.strip() for part in _mask(raw))
            if not line:
                continue
            if match := _TABLE_ARRAY.match(line):
                name = _key_name(match.group(1))
                index = arrays.get(name, 0)
                arrays[name] = index + 1
                section = f"{name}[{index}]"
                self.lines.setdefault(section, number)
                self.lines.setdefault(name, number)
                continue
            if match := _TABLE.match(line):
                section = _key_name(match.group(1))
                self.lines.setdefault(section, number)
                continue
            if match := _KEY.match(line):
                key = _key_name(match.group(1))
                full = f"{section}.{key}" if section else key
                self.lines.setdefault(full, number)
                value = _KEY.match(masked)
                value = value.group(2).strip() if value else ""
                if value.startswith("{"):
                    for inner in _INNER_KEY.finditer(value):
                        self.lines.setdefault(f"{full}.{inner.group(1)}", number)

    def line_of(self, key: str) -> int | None:
        """The key's line; for a key not written, the line of the nearest table holding it."""
        while key:
            if key in self.lines:
                return self.lines[key]
            if "." not in key and "[" not in key:
                return None
            cut = max(key.rfind("."), key.rfind("["))
            key = key[:cut]
        return None


# --- the rules ---------------------------------------------------------------------------------


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


def rules_from_rows(rows: dict[str, list[dict[str, object]]]) -> Rules:
    """The inverse of `Rules.rows`: the rules a year was published with, read back from the
    `reference.rule_*` tables of a marts file (one year's rows of each table)."""
    (year_row,) = rows["rule_years"]
    targets: dict[dt.date, dict[str, int]] = {}
    for r in rows["rule_targets"]:
        targets.setdefault(r["milestone_date"], {})[str(r["degree"])] = int(r["target_bp"])
    milestones = tuple(
        Milestone(m["milestone_date"], int(m["base_points"]), targets.get(m["milestone_date"], {}))
        for m in sorted(rows["rule_milestones"], key=lambda m: m["milestone_seq"])
    )
    return Rules(
        year=int(year_row["year"]),
        path=Path(str(year_row["rules_file"])),
        milestones=milestones,
        indicators={
            str(r["indicator"]): (
                str(r["category"]),
                int(r["base_points"]),
                str(r["indicator_name"]),
            )
            for r in rows["rule_indicators"]
        },
        quotas={str(r["unit_group"]): int(r["quota"]) for r in rows["rule_quotas"]},
        guided_date=year_row["guided_date"],
        i4_report_deadline=year_row["i4_report_deadline"],
        i5_meeting_month=int(year_row["i5_meeting_month"]),
        evaluation_start=year_row["evaluation_start_date"],
        i3_step_bp=int(year_row["i3_step_bp"]),
        i3_bonus_per_person=int(year_row["i3_bonus_per_person"]),
        i9_target_bp=int(year_row["i9_target_bp"]),
        i9_step_bp=int(year_row["i9_step_bp"]),
        i7_required=(int(year_row["i7_required_large"]), int(year_row["i7_required_small"])),
        i8_required=(int(year_row["i8_required_large"]), int(year_row["i8_required_small"])),
        knobs={k: year_row[k] for k in KNOB_CHOICES if k in year_row},
        policy_number=str(year_row["policy_number"] or ""),
        policy_title=str(year_row["policy_title"] or ""),
        sha256=str(year_row["rules_sha256"] or ""),
    )


def _choices(spec: tuple[object, ...]) -> str:
    return "、".join(str(v) for v in spec)


def _knob_message(name: str, value: object) -> str | None:
    """Why `value` is not allowed for the knob `name` (None when it is)."""
    if name not in KNOB_CHOICES:
        return f"未知的设置项；可用的设置项有 {_choices(tuple(KNOB_CHOICES))}"
    spec = KNOB_CHOICES[name]
    if isinstance(spec, tuple):
        if isinstance(value, bool) or value not in spec:
            return f"值 {_show(value)} 不在可选值 {_choices(spec)} 之中"
    elif spec is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        return f"值 {_show(value)} 无效：必须是非负整数"
    elif spec is bool and not isinstance(value, bool):
        return f"值 {_show(value)} 无效：必须是 true 或 false（不加引号）"
    return None


def _check_knob(name: str, value: object, path: Path) -> None:
    message = _knob_message(name, value)
    if message is not None:
        raise RulesError.of(path, [RulesProblem(f"knobs.{name}", None, message)])


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "一个表"
    if isinstance(value, list):
        return "一个数组"
    return str(value)


# --- checking ----------------------------------------------------------------------------------

_MISSING = object()


class _Checker:
    """Collects the problems of one file; each getter returns None when the value is bad."""

    def __init__(self, text: str, year: int | None, path: Path):
        self.where = KeyLines(text)
        self.problems: list[RulesProblem] = []
        self.year = year
        self.path = path

    def add(self, key: str, message: str) -> None:
        self.problems.append(RulesProblem(key, self.where.line_of(key), message))

    def table(self, data: dict, name: str, key: str, *, required: bool = True) -> dict | None:
        value = data.get(name, _MISSING)
        if value is _MISSING:
            if required:
                self.add(key, f"缺少 [{key}] 一节")
            return None
        if not isinstance(value, dict):
            self.add(key, f"应为一个表（[{key}] 一节），写成了 {_show(value)}")
            return None
        return value

    def unknown(self, data: dict, section: str, key: str) -> None:
        allowed = SECTION_KEYS[section]
        for name in data:
            if name not in allowed:
                where = f"{key}.{name}" if key else name
                self.add(where, f"未知的设置项（拼写有误？）；此处可用的有 {_choices(allowed)}")

    def value(self, data: dict, name: str, key: str) -> object:
        value = data.get(name, _MISSING)
        if value is _MISSING:
            self.add(key, "缺少此项")
            return None
        return value

    def nonneg_int(self, data: dict, name: str, key: str, *, low: int = 0, high: int | None = None):
        value = self.value(data, name, key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            what = "非负整数" if low == 0 else f"不小于 {low} 的整数"
            self.add(key, f"值 {_show(value)} 无效：必须是{what}")
            return None
        if high is not None and value > high:
            self.add(key, f"值 {value} 无效：必须在 {low}–{high} 之间")
            return None
        return value

    def percent(self, data: dict, name: str, key: str, *, positive: bool = False) -> int | None:
        """A percentage as basis points, exactly (integer or quoted decimal, 0–100)."""
        value = self.value(data, name, key)
        if value is None:
            return None
        if isinstance(value, float | bool):
            self.add(
                key,
                f'值 {_show(value)} 须写成整数或带引号的小数（如 "94.5"），'
                "不接受浮点数（浮点数会让临界值的比较不精确）",
            )
            return None
        if not isinstance(value, int | str):
            self.add(key, f"值 {_show(value)} 不是百分数")
            return None
        try:
            d = Decimal(str(value).strip())
        except InvalidOperation:
            self.add(key, f"值 {_show(value)} 不是数字")
            return None
        bp = d * 100
        if not d.is_finite() or bp != bp.to_integral_value() or not (0 <= bp <= 10000):
            self.add(key, f"值 {value} 须在 0–100 之间，且最多两位小数")
            return None
        if positive and bp == 0:
            self.add(key, "必须大于 0（它是每扣 1 分的步长）")
            return None
        return int(bp)

    def date(self, data: dict, name: str, key: str) -> dt.date | None:
        value = self.value(data, name, key)
        if value is None:
            return None
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            self.add(key, f"值 {_show(value)} 须为日期，写成 2021-12-15（不加引号）")
            return None
        if self.year is not None and value.year != self.year:
            self.add(key, f"日期 {value} 不在评估年度 {self.year} 年内")
            return None
        return value

    def text(self, data: dict, name: str, key: str, *, required: bool = True) -> str | None:
        value = data.get(name, _MISSING)
        if value is _MISSING:
            if required:
                self.add(key, "缺少此项")
            return None if required else ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.add(key, f"值 {_show(value)} 须为加引号的文字")
            return None
        return value


def check_rules_text(
    text: str, path: Path, year: int | None = None
) -> tuple[Rules | None, list[RulesProblem]]:
    """Every problem of a rules file's text, at once; the Rules when there is none.
    `year`, when given, is the year the file must be for (its name or the caller's --year)."""
    too_deep = rules_limits.depth_problem(text)  # before the parser recurses that deep
    if too_deep is not None:
        return None, [RulesProblem(*too_deep)]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [_syntax_problem(exc)]
    c = _Checker(text, year, path)
    raw_year = data.get("year", _MISSING)
    if raw_year is _MISSING:
        c.add("year", "缺少此项（评估年度，如 year = 2022）")
    elif isinstance(raw_year, bool) or not isinstance(raw_year, int):
        c.add("year", f"值 {_show(raw_year)} 须为四位数的年度（整数）")
    elif year is not None and raw_year != year:
        whose = "文件名" if path.stem == str(year) else "所要求"
        c.add("year", f"year = {raw_year}，与{whose}的年度 {year} 不符")
    else:
        c.year = raw_year
    c.unknown(data, "", "")
    rules = _build(c, data, path)
    if c.problems:
        return None, c.problems
    return rules, []


def _build(c: _Checker, data: dict, path: Path) -> Rules | None:
    policy = c.table(data, "policy", "policy", required=False) or {}
    c.unknown(policy, "policy", "policy")
    number = c.text(policy, "number", "policy.number", required=False)
    title = c.text(policy, "title", "policy.title", required=False)
    for key, value in (("number", number), ("title", title)):
        if isinstance(value, str) and key in policy and not value.strip():
            c.add(
                f"policy.{key}",
                "不能为空：每份结果文件都注明所依据的政策（如 沪交医学〔2021〕1号），"
                "请填写；确无文号时删除此行",
            )

    dates = c.table(data, "dates", "dates") or {}
    c.unknown(dates, "dates", "dates")
    guided = c.date(dates, "guided_snapshot", "dates.guided_snapshot")
    deadline = c.date(dates, "i4_report_deadline", "dates.i4_report_deadline")
    month = c.nonneg_int(dates, "i5_meeting_month", "dates.i5_meeting_month", low=1, high=12)
    start = c.date(dates, "evaluation_start", "dates.evaluation_start")

    milestones, node_dates, node_bases = _milestones(c, data)
    indicators = _indicators(c, data)
    if node_bases is not None and indicators and "I3" in indicators:
        i3_base = sum(node_bases)
        if i3_base != indicators["I3"][1]:
            c.add(
                "indicators.I3.base_points",
                f"I3 基准分 {indicators['I3'][1]} 与各时间节点基准分之和 {i3_base} 不符",
            )
    if guided is not None and guided in node_dates:
        c.add(
            "dates.guided_snapshot",
            f"I9 的统计日 {guided} 与 I3 的时间节点重合；两者须为不同的日期",
        )

    quotas_table = c.table(data, "quotas", "quotas") or {}
    c.unknown(quotas_table, "quotas", "quotas")
    quotas = {g: c.nonneg_int(quotas_table, g, f"quotas.{g}") for g in GROUPS}

    i3 = c.table(data, "i3", "i3") or {}
    c.unknown(i3, "i3", "i3")
    i3_step = c.percent(i3, "deduction_step_pct", "i3.deduction_step_pct", positive=True)
    i3_bonus = c.nonneg_int(i3, "bonus_per_person", "i3.bonus_per_person")
    i9 = c.table(data, "i9", "i9") or {}
    c.unknown(i9, "i9", "i9")
    i9_target = c.percent(i9, "target_pct", "i9.target_pct")
    i9_step = c.percent(i9, "deduction_step_pct", "i9.deduction_step_pct", positive=True)
    required = {}
    for code in ("i7", "i8"):
        table = c.table(data, code, code) or {}
        c.unknown(table, code, code)
        required[code] = (
            c.nonneg_int(table, "required_large", f"{code}.required_large"),
            c.nonneg_int(table, "required_small", f"{code}.required_small"),
        )

    knobs_table = c.table(data, "knobs", "knobs") or {}
    knobs: dict[str, object] = {}
    for name, value in knobs_table.items():
        message = _knob_message(name, value)
        if message is not None:
            c.add(f"knobs.{name}", message)
        else:
            knobs[name] = value
    for name in KNOB_CHOICES:
        if name not in knobs_table and "knobs" in data:
            c.add(f"knobs.{name}", f"缺少此项（{_knob_help(name)}）")

    if c.problems or c.year is None:
        return None
    return Rules(
        year=c.year,
        path=path,
        milestones=tuple(milestones or ()),
        indicators=indicators,
        quotas=quotas,  # type: ignore[arg-type]
        guided_date=guided,  # type: ignore[arg-type]
        i4_report_deadline=deadline,  # type: ignore[arg-type]
        i5_meeting_month=month,  # type: ignore[arg-type]
        evaluation_start=start,  # type: ignore[arg-type]
        i3_step_bp=i3_step,  # type: ignore[arg-type]
        i3_bonus_per_person=i3_bonus,  # type: ignore[arg-type]
        i9_target_bp=i9_target,  # type: ignore[arg-type]
        i9_step_bp=i9_step,  # type: ignore[arg-type]
        i7_required=required["i7"],  # type: ignore[arg-type]
        i8_required=required["i8"],  # type: ignore[arg-type]
        knobs={name: knobs[name] for name in KNOB_CHOICES},
        policy_number=number or "",
        policy_title=title or "",
    )


def _knob_help(name: str) -> str:
    spec = KNOB_CHOICES[name]
    if isinstance(spec, tuple):
        return f"可选值 {_choices(spec)}"
    return "true 或 false" if spec is bool else "非负整数"


def _milestones(
    c: _Checker, data: dict
) -> tuple[list[Milestone] | None, set[dt.date], list[int] | None]:
    """(the nodes, sorted by date, or None when one is bad; every valid node date; every
    node's base points, or None when one is bad)."""
    value = data.get("milestones", _MISSING)
    if value is _MISSING:
        c.add("milestones", "缺少时间节点：至少写一个 [[milestones]]")
        return None, set(), None
    if not isinstance(value, list) or not value or not all(isinstance(m, dict) for m in value):
        c.add("milestones", "时间节点须写成若干个 [[milestones]] 表")
        return None, set(), None
    out: list[Milestone] = []
    dates: set[dt.date] = set()
    bases: list[int] | None = []
    ok = True
    for i, m in enumerate(value):
        key = f"milestones[{i}]"
        c.unknown(m, "milestones", key)
        day = c.date(m, "date", f"{key}.date")
        base = c.nonneg_int(m, "base_points", f"{key}.base_points")
        if day is not None:
            dates.add(day)
        bases = None if bases is None or base is None else [*bases, base]
        targets_raw = m.get("targets", _MISSING)
        targets: dict[str, int] = {}
        if targets_raw is _MISSING:
            c.add(f"{key}.targets", "缺少此项（各学历的目标就业率，如 { bachelor = 94, ... }）")
        elif not isinstance(targets_raw, dict):
            c.add(f"{key}.targets", "应为一个表（{ bachelor = …, master = …, doctor = … }）")
        else:
            for name in targets_raw:
                if name not in DEGREES:
                    c.add(f"{key}.targets.{name}", f"未知的学历；可用的有 {_choices(DEGREES)}")
            for degree in DEGREES:
                bp = c.percent(targets_raw, degree, f"{key}.targets.{degree}")
                if bp is not None:
                    targets[degree] = bp
        if day is None or base is None or len(targets) != len(DEGREES):
            ok = False
            continue
        out.append(Milestone(day, base, targets))
    seen: dict[dt.date, int] = {}
    for i, m in enumerate(out):
        if m.date in seen:
            other = seen[m.date] + 1
            c.add(f"milestones[{i}].date", f"时间节点 {m.date} 重复（另见第 {other} 个节点）")
            ok = False
        seen.setdefault(m.date, i)
    return (sorted(out, key=lambda m: m.date) if ok else None), dates, bases


def _indicators(c: _Checker, data: dict) -> dict[str, tuple[str, int, str]]:
    """The indicators that are valid (all nine when there is no problem)."""
    table = c.table(data, "indicators", "indicators")
    if table is None:
        return {}
    c.unknown(table, "indicators", "indicators")
    out: dict[str, tuple[str, int, str]] = {}
    for code in INDICATORS:
        key = f"indicators.{code}"
        spec = table.get(code, _MISSING)
        if spec is _MISSING:
            c.add(key, "缺少此指标（写成 { category = …, base_points = …, name = … }）")
            continue
        if not isinstance(spec, dict):
            c.add(key, "应为一个表 { category = …, base_points = …, name = … }")
            continue
        c.unknown(spec, "indicator", key)
        category = c.value(spec, "category", f"{key}.category")
        if category is not None and category not in CATEGORIES:
            c.add(f"{key}.category", f"值 {_show(category)} 无效：必须是 kpi 或 development")
            category = None
        base = c.nonneg_int(spec, "base_points", f"{key}.base_points")
        name = c.text(spec, "name", f"{key}.name")
        if category is not None and base is not None and name is not None:
            out[code] = (str(category), base, name)
    return out  # complete only when there was no problem


def _syntax_problem(exc: tomllib.TOMLDecodeError) -> RulesProblem:
    text = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)", text)
    line = int(match.group(1)) if match else getattr(exc, "lineno", None)
    column = int(match.group(2)) if match else getattr(exc, "colno", None)
    english = re.sub(r"\s*\(at line \d+, column \d+\)", "", text).strip()
    hints = {
        "Cannot overwrite a value": "同一设置项写了两次",
        "Cannot declare": "同一个表写了两次",
        "Invalid value": (
            '值的写法无效（文字须加引号，日期写成 2021-12-15，小数写成带引号的 "94.5"）'
        ),
        "Expected '=' after a key": "设置项后缺少「=」",
        "Invalid statement": "无法识别的一行（设置项须写成 名称 = 值）",
        "Unclosed": "括号或引号没有闭合",
        "Illegal character": "含有不允许的字符",
        "Expected newline or end of document": "一行只能写一个设置项",
    }
    hint = next((zh for en, zh in hints.items() if en in english), "TOML 语法错误")
    where = f"第 {column} 列，" if column else ""
    message = f"{where}{hint}（{english}）；文件无法读取，其余检查未进行"
    return RulesProblem("TOML 语法", line, message)


# --- loading -----------------------------------------------------------------------------------


def rules_path(year: int, directory: Path = RULES_DIR) -> Path:
    return directory / f"{year}.toml"


def available_years(directory: Path = RULES_DIR) -> list[int]:
    if not directory.is_dir():
        return []
    return sorted(int(p.stem) for p in directory.glob("*.toml") if p.stem.isdigit())


def load_rules(year: int, directory: Path = RULES_DIR) -> Rules:
    return load_rules_file(rules_path(year, directory), year)


def read_rules_text(path: Path, year: int | None = None) -> tuple[bytes, str]:
    """The file's bytes and text; RulesError when it is missing, unreadable, larger than a
    rules file can be (with that problem, before the file is read whole) or not UTF-8."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            content = fh.read(rules_limits.MAX_BYTES + 1)
    except FileNotFoundError as exc:
        what = f"{year} 年没有评估规则文件" if year is not None else "评估规则文件不存在"
        raise RulesError(f"{what}：找不到 {path}", path=path) from exc
    except IsADirectoryError as exc:
        raise RulesError(f"{path} 是一个文件夹，不是评估规则文件", path=path) from exc
    except OSError as exc:
        raise RulesError(f"评估规则文件 {path} 无法读取：{exc.strerror or exc}", path=path) from exc
    too_big = rules_limits.size_problem(max(size, len(content)), content)
    if too_big is not None:
        raise RulesError.of(path, [RulesProblem(*too_big)])
    try:
        return content, content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise RulesError(
            f"规则文件 {path} 不是 UTF-8 编码的文本（第 {line} 行附近）：请用 UTF-8 编码保存",
            path=path,
        ) from exc


def load_rules_file(path: Path, year: int | None = None) -> Rules:
    """Read and check one rules file. `year` defaults to the file's own `year` key (a draft
    may have any file name); when given, the file must be for that year. RulesError lists
    every problem of the file."""
    content, text = read_rules_text(path, year)
    rules, problems = check_rules_text(text, path, year)
    if rules is None:
        raise RulesError.of(path, problems)
    return Rules(**{**rules.__dict__, "sha256": hashlib.sha256(content).hexdigest()})


def check_rules_file(path: Path, year: int | None = None) -> list[RulesProblem]:
    """Every problem of one rules file (empty when it is valid). A file that cannot be read
    raises RulesError; one too large to be a rules file is that problem."""
    try:
        _, text = read_rules_text(path, year)
    except RulesError as exc:
        if exc.problems:
            return list(exc.problems)
        raise
    return check_rules_text(text, path, year)[1]


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

    def missing(self, years: Iterable[int]) -> list[int]:
        """The years among `years` that have no rules file here."""
        return sorted({y for y in years if self.path_for(y) is None})
