"""The notice's settings file (`notice.toml`): the texts of the notice of results and of the
certificates that the centre edits — the letterhead, the title, the opening and closing, the
period for objections, the contact line, the certificate's wording. The centre's own file is
`<rules folder>/notice.toml`; without it the bundled `reference/notice.toml` is used.

Checked like a rules file: every problem at once, each with its key and line (an unknown
section or key, a missing one, a wrong type, an unknown {placeholder})."""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from employment_eval.paths import REFERENCE_DIR
from employment_eval.rules import KeyLines, RulesError, RulesProblem, read_rules_text

BUNDLED = REFERENCE_DIR / "notice.toml"
FILE_NAME = "notice.toml"
COMMON = ("year", "policy_number", "policy_title", "advanced_count")
# section → key → (type, placeholders allowed; None: not a text)
SPEC: dict[str, dict[str, tuple[type, tuple[str, ...] | None]]] = {
    "notice": {
        "issuer_mark": (str, COMMON),
        "document_number": (str, COMMON),
        "title": (str, COMMON),
        "recipients": (str, COMMON),
        "opening": (str, COMMON),
        "closing": (str, COMMON),
        "signatory": (str, COMMON),
    },
    "objection": {"days": (int, None), "text": (str, (*COMMON, "start", "end"))},
    "contact": {"text": (str, COMMON)},
    "certificate": {"title": (str, COMMON), "text": (str, COMMON), "issuer": (str, COMMON)},
}
OPTIONAL_EMPTY = {("notice", "document_number")}
MAX_DAYS = 60
PLACEHOLDER_MARK = "××"  # the bundled contact line: to be filled in


@dataclass(frozen=True)
class NoticeSettings:
    path: Path
    values: dict[str, dict[str, object]]

    def text(self, section: str, key: str, **fields: object) -> str:
        return str(self.values[section][key]).format(**fields)

    @property
    def objection_days(self) -> int:
        return int(self.values["objection"]["days"])

    @property
    def contact_unfilled(self) -> bool:
        return PLACEHOLDER_MARK in str(self.values["contact"]["text"])


def settings_path(rules_dir: Path | None) -> Path:
    own = rules_dir / FILE_NAME if rules_dir is not None else None
    return own if own is not None and own.is_file() else BUNDLED


def check_text(text: str, path: Path) -> tuple[dict | None, list[RulesProblem]]:
    where = KeyLines(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [
            RulesProblem("TOML 语法", getattr(exc, "lineno", None), f"TOML 语法错误：{exc}")
        ]
    problems: list[RulesProblem] = []

    def add(key: str, message: str) -> None:
        problems.append(RulesProblem(key, where.line_of(key), message))

    for section in data:
        if section not in SPEC:
            add(section, f"未知的一节；可用的有 {'、'.join(SPEC)}")
    for section, keys in SPEC.items():
        table = data.get(section)
        if not isinstance(table, dict):
            add(section, f"缺少 [{section}] 一节")
            continue
        for key in table:
            if key not in keys:
                add(f"{section}.{key}", f"未知的设置项；此处可用的有 {'、'.join(keys)}")
        for key, (kind, fields) in keys.items():
            name = f"{section}.{key}"
            if key not in table:
                add(name, "缺少此项")
                continue
            value = table[key]
            if kind is int:
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int)
                    or not 1 <= value <= MAX_DAYS
                ):
                    add(name, f"值 {value!r} 无效：须为 1–{MAX_DAYS} 的整数（日数）")
                continue
            if not isinstance(value, str):
                add(name, f"值 {value!r} 无效：须为带引号的文字")
                continue
            if not value.strip() and (section, key) not in OPTIONAL_EMPTY:
                add(name, "不能为空")
            problems += _placeholders(value, fields or (), name, where)
    return (data if not problems else None), problems


def _placeholders(
    value: str, allowed: tuple[str, ...], key: str, where: KeyLines
) -> list[RulesProblem]:
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
    except ValueError as exc:
        return [
            RulesProblem(
                key, where.line_of(key), f"花括号不成对（{exc}）；文字中的花括号须写成 {{{{ 或 }}}}"
            )
        ]
    bad = [n for n in names if n not in allowed]
    if not bad:
        return []
    return [
        RulesProblem(
            key,
            where.line_of(key),
            f"未知的占位符 {'、'.join('{' + b + '}' for b in bad)}；此处可用的有 "
            + "、".join("{" + a + "}" for a in allowed),
        )
    ]


def load_settings(path: Path) -> NoticeSettings:
    """Read and check a settings file; RulesError lists every problem (exit 2)."""
    _, text = read_rules_text(path)
    data, problems = check_text(text, path)
    if data is None:
        raise RulesError.of(path, problems)
    return NoticeSettings(path, data)
