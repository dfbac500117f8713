"""The year's rules file: every number the SQL reads, and clear errors naming the file."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from employment_eval.paths import RULES_DIR
from employment_eval.rules import (
    KeyLines,
    RulesError,
    check_rules_text,
    load_rules,
    load_rules_file,
)


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


# --- every problem at once, each with its key and line ------------------------------------------


def _line_of(text: str, fragment: str) -> int:
    """1-based line of the only line holding `fragment`."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(hits) == 1, (fragment, hits)
    return hits[0]


def test_a_broken_file_reports_every_problem_with_its_line(tmp_path) -> None:
    text = (RULES_DIR / "2021.toml").read_text(encoding="utf-8")
    edits = {
        # (old, new): (key reported, words of the message)
        ("doctor = 95 }", 'doctor = "nine" }'): ("milestones[1].targets.doctor", "不是数字"),
        ("bachelor = 94,", "bachelor = 94.5,"): ("milestones[2].targets.bachelor", "浮点"),
        ('deduction_rounding = "floor"', 'deduction_rounding = "round"'): (
            "knobs.deduction_rounding",
            "floor、ceil、exact",
        ),
        ("general = 4", "genral = 4"): ("quotas.genral", "未知的设置项"),
        ("i5_meeting_month = 10", "i5_meeting_month = 13"): ("dates.i5_meeting_month", "1–12"),
        ("guided_snapshot = 2021-12-01", "guided_snapshot = 2020-12-01"): (
            "dates.guided_snapshot",
            "不在评估年度",
        ),
        ("require_verification = true", 'require_verification = "yes"'): (
            "knobs.require_verification",
            "true 或 false",
        ),
    }
    for (old, new), _ in edits.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "2021.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_rules(2021, tmp_path)
    error = info.value
    problems = {p.key: p for p in error.problems}
    # the quota left out by the misspelling is reported too, at the [quotas] header
    assert set(problems) == {key for key, _ in edits.values()} | {"quotas.general"}
    for (_, new), (key, words) in edits.items():
        assert problems[key].line == _line_of(text, new)
        assert words in problems[key].message
        assert f"第 {problems[key].line} 行 {key}" in str(error)  # the message lists them all
    assert problems["quotas.general"].line == _line_of(text, "[quotas]")
    assert str(path) in str(error)


def test_a_syntax_error_names_its_line(tmp_path) -> None:
    text = (RULES_DIR / "2021.toml").read_text(encoding="utf-8")
    text = text.replace("school = 2", "school = = 2")
    (tmp_path / "2021.toml").write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_rules(2021, tmp_path)
    (problem,) = info.value.problems
    assert problem.line == _line_of(text, "school = = 2")
    assert "语法" in str(info.value)


def test_key_lines_follow_tables_arrays_and_inline_tables() -> None:
    text = (RULES_DIR / "2021.toml").read_text(encoding="utf-8")
    where = KeyLines(text)
    assert where.line_of("year") == _line_of(text, "year = 2021")
    assert where.line_of("knobs.partial_credit") == _line_of(text, "partial_credit =")
    assert where.line_of("indicators.I7.base_points") == _line_of(text, "I7 = {")
    third_node = [i for i, line in enumerate(text.splitlines(), 1) if "targets = {" in line][2]
    assert where.line_of("milestones[2].targets.master") == third_node
    # a key that is not written: the line of the table that should hold it
    assert where.line_of("i9.not_written") == _line_of(text, "[i9]")
    assert where.line_of("nowhere.at_all") is None


def test_a_draft_says_its_own_year_and_may_be_checked_against_another(tmp_path) -> None:
    draft = tmp_path / "草案.toml"
    shutil.copy(RULES_DIR / "2021.toml", draft)
    assert load_rules_file(draft).year == 2021
    with pytest.raises(RulesError, match="与所要求的年度 2022 不符"):
        load_rules_file(draft, 2022)


def test_knob_changes_are_still_checked() -> None:
    with pytest.raises(RulesError, match="deduction_rounding"):
        load_rules(2021).with_knobs(deduction_rounding="round")
    with pytest.raises(RulesError, match="未知的设置项"):
        load_rules(2021).with_knobs(rounding="floor")


def test_nesting_is_bounded_before_parsing_and_strings_and_comments_do_not_count() -> None:
    from employment_eval.rules_limits import MAX_DEPTH, depth_problem

    assert depth_problem(RULES_DIR.joinpath("2021.toml").read_text(encoding="utf-8")) is None
    ok = "x = " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert depth_problem(ok) is None
    deep = "year = 2021\n\nx = " + "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert depth_problem(deep) is not None and depth_problem(deep).line == 3
    for text in (
        'a = "' + "[" * 100 + '"',
        "a = '" + "{" * 100 + "'",
        'a = """\n' + "[" * 100 + '\n"""',
        "# " + "[" * 100,
        'a = [ {}, { b = 1 }, "]]]]" ]\n' * 50,
    ):
        assert depth_problem(text) is None, text
    dotted = "a." + ".".join(["b"] * MAX_DEPTH) + " = 1"
    assert depth_problem(dotted) is not None
    header = "[" + ".".join(["t"] * (MAX_DEPTH + 1)) + "]\nx = 1"
    assert depth_problem(header) is not None
    [problem] = check_rules_text(deep, Path("deep.toml"), 2021)[1]
    assert (problem.key, problem.line) == ("嵌套层数", 3)
