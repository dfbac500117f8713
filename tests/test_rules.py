"""The year's rules file: every number the SQL reads, and clear errors naming the file."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from employment_eval.paths import RULES_DIR
from employment_eval.rules import RulesError, load_rules


def test_2021_rules_read_as_in_rules_md() -> None:
    rules = load_rules(2021)
    nodes = [(m.date, m.base_points, m.target_bp) for m in rules.milestones]
    # D9: the policy's "6月5日" node is read as 15 June
    assert nodes[0] == (dt.date(2021, 6, 15), 5, {"bachelor": 8000, "master": 8000, "doctor": 8000})
    assert nodes[1] == (
        dt.date(2021, 8, 15),
        15,
        {"bachelor": 9000, "master": 9400, "doctor": 9500},
    )
    assert nodes[2] == (
        dt.date(2021, 12, 15),
        15,
        {"bachelor": 9400, "master": 9700, "doctor": 9800},
    )
    assert rules.guided_date == dt.date(2021, 12, 1)
    assert rules.quotas == {"school": 2, "general": 4, "specialty": 3}
    assert sum(base for _, base, _ in rules.indicators.values()) == 130
    assert rules.i3_step_bp == 50 and rules.i9_target_bp == 5000 and rules.i9_step_bp == 100
    assert rules.knobs == {
        "require_verification": True,
        "deduction_rounding": "floor",
        "large_unit_threshold": 20,
        "partial_credit": "proportional",
        "guided_denominator": "employed_in_job",
        "special_group_scope": "per_group_degree",
    }


def test_a_year_without_rules_names_the_file() -> None:
    with pytest.raises(RulesError, match=r"2019\.toml"):
        load_rules(2019)


def _copy_rules(tmp_path: Path, old: str, new: str) -> Path:
    shutil.copy(RULES_DIR / "2021.toml", tmp_path / "2021.toml")
    path = tmp_path / "2021.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("bachelor = 94,", "bachelor = 94.5,", "浮点"),
        ('deduction_rounding = "floor"', 'deduction_rounding = "round"', "deduction_rounding"),
        ("large_unit_threshold = 20", "large_unit_threshold = -1", "large_unit_threshold"),
        (
            'I3 = { category = "kpi", base_points = 35',
            'I3 = { category = "kpi", base_points = 30',
            "I3",
        ),
        ("year = 2021", "year = 2020", "2020"),
    ],
)
def test_bad_rules_are_errors_naming_the_file(tmp_path, old, new, message) -> None:
    directory = _copy_rules(tmp_path, old, new)
    with pytest.raises(RulesError, match=message) as info:
        load_rules(2021, directory)
    assert "2021.toml" in str(info.value)


def test_decimal_targets_are_exact(tmp_path) -> None:
    directory = _copy_rules(tmp_path, "bachelor = 94,", 'bachelor = "94.5",')
    assert load_rules(2021, directory).milestones[2].target_bp["bachelor"] == 9450
