"""`employment-eval rules new` and `rules check` in a subprocess, as the centre runs them: the new
year's commented copy (valid, dates moved, every setting explained, never overwriting, never
inside the program's own folders) and the check (every problem of every file at once, each with
its key and line; exit codes 0, 1, 2)."""

from __future__ import annotations

import datetime as dt
import re
import tomllib

import pytest

from employment_eval.paths import RULES_DIR
from employment_eval.rules import GROUPS, KNOB_CHOICES, SECTION_KEYS, load_rules
from tests.cli_helpers import cli

pytestmark = pytest.mark.cli


def _dates(value: object) -> list[dt.date]:
    if isinstance(value, dt.date):
        return [value]
    if isinstance(value, dict):
        return [d for v in value.values() for d in _dates(v)]
    if isinstance(value, list):
        return [d for v in value for d in _dates(v)]
    return []


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_rules_new_writes_a_commented_copy_for_the_new_year(tmp_path) -> None:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    result = cli(
        "rules", "new", "--year", "2022", "--from", "2021", "--rules", "rules", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    path = rules_dir / "2022.toml"
    assert str(path) in result.stdout
    new, old = load_rules(2022, rules_dir), load_rules(2021)
    # the same targets, points, quotas and knobs; every date moved to the new year
    assert [(m.base_points, m.target_bp) for m in new.milestones] == [
        (m.base_points, m.target_bp) for m in old.milestones
    ]
    assert (new.quotas, new.knobs, new.indicators) == (old.quotas, old.knobs, old.indicators)
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert {d.year for d in _dates(data)} == {2022}
    assert [m.date for m in new.milestones] == [m.date.replace(year=2022) for m in old.milestones]
    # every section and every setting carries a Chinese comment (its own line's, or the
    # comment block just above it)
    lines = text.splitlines()
    commented = 0
    for i, line in enumerate(lines):
        match = re.match(r"^\[{1,2}([a-z0-9_]+)\]{1,2}$|^([A-Za-z0-9_]+) = ", line)
        if not match:
            continue
        above = lines[i - 1] if i else ""
        ok = ("#" in line and _has_chinese(line.split("#", 1)[1])) or (
            above.startswith("#") and _has_chinese(above)
        )
        in_milestone = any(lines[j] == "[[milestones]]" for j in range(max(0, i - 3), i + 1))
        assert ok or in_milestone, f"line {i + 1} has no Chinese comment: {line}"
        commented += 1
    assert commented >= len(SECTION_KEYS) + len(KNOB_CHOICES) + len(GROUPS)
    for knob, spec in KNOB_CHOICES.items():
        block = text[text.index(f"\n{knob} = ") - 400 : text.index(f"\n{knob} = ")]
        if isinstance(spec, tuple):
            assert all(f'"{value}"' in block for value in spec), knob  # allowed values listed
    # the copy names its source and how to check it
    assert str(RULES_DIR / "2021.toml") in text and "rules check" in text


def test_rules_new_defaults_to_the_rules_folder_beside_raw_and_never_overwrites(tmp_path) -> None:
    (tmp_path / "data" / "raw").mkdir(parents=True)
    first = cli("rules", "new", "--year", "2023", cwd=tmp_path)  # --from: latest earlier year
    assert first.returncode == 0, first.stderr
    path = tmp_path / "data" / "rules" / "2023.toml"
    assert "从 2021 年度" in path.read_text(encoding="utf-8")
    path.write_text(path.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    before = path.read_bytes()
    again = cli("rules", "new", "--year", "2023", "--from", "2021", cwd=tmp_path)
    assert again.returncode == 2
    assert "已存在" in again.stderr and "未覆盖" in again.stderr
    assert path.read_bytes() == before


def test_rules_new_refuses_the_programs_own_folder(tmp_path) -> None:
    result = cli(
        "rules", "new", "--year", "2031", "--out", str(RULES_DIR / "2031.toml"), cwd=tmp_path
    )
    assert result.returncode == 2
    assert "程序自带的文件夹" in result.stderr
    assert not (RULES_DIR / "2031.toml").exists()


def test_rules_check_exit_codes_and_every_error_with_its_line(tmp_path) -> None:
    good = tmp_path / "2021.toml"
    good.write_bytes((RULES_DIR / "2021.toml").read_bytes())
    ok = cli("rules", "check", str(good), cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "有效" in ok.stdout

    text = good.read_text(encoding="utf-8")
    broken_text = (
        text.replace("master = 94,", 'master = "94%",')
        .replace("specialty = 3", "specialty = -3")
        .replace('partial_credit = "proportional"', 'partial_credit = "half"')
        .replace("year = 2021", "year = 2022")
    )
    broken = tmp_path / "drafts" / "2021.toml"
    broken.parent.mkdir()
    broken.write_text(broken_text, encoding="utf-8")
    bad = cli("rules", "check", str(good), str(broken), cwd=tmp_path)
    assert bad.returncode == 1
    errors = [line for line in bad.stdout.splitlines() if line.startswith("[错误]")]
    expected = {
        "milestones[1].targets.master": 'master = "94%",',
        "quotas.specialty": "specialty = -3",
        "knobs.partial_credit": 'partial_credit = "half"',
        "year": "year = 2022",  # the file is named 2021.toml
    }
    assert len(errors) == len(expected)  # one paragraph per error, all of them at once
    lines = broken_text.splitlines()
    for key, fragment in expected.items():
        number = next(i for i, line in enumerate(lines, 1) if fragment in line)
        assert any(f"第 {number} 行 {key}：" in e and str(broken) in e for e in errors), key

    missing = cli("rules", "check", str(good), str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert missing.returncode == 2
    assert "nope.toml" in missing.stdout


def test_rules_without_a_subcommand_is_bad_usage(tmp_path) -> None:
    result = cli("rules", cwd=tmp_path)
    assert result.returncode == 2
    assert "用法有误" in result.stderr
