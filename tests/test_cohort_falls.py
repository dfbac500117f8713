"""The season cannot shrink unnoticed (issue 17, point 2): a unit's cohort of one degree that
falls between consecutive exports by more than the rules allow is refused, naming unit, degree,
both exports and both counts — unless the year's rules file records the fall as expected. The
generated seasons' real cohort changes pass."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import shutil
from pathlib import Path

import polars as pl
import pytest

from employment_eval.generate import generate
from employment_eval.ingest.api import check_inputs
from employment_eval.ingest.cohorts import allowed_fall
from employment_eval.paths import RULES_DIR
from employment_eval.problems import InputError, Problem
from employment_eval.rules import RulesSource, load_rules_file
from tests.ingest_helpers import copy_raw, file_hashes, reference, refresh_season

AS_OF = dt.date(2021, 12, 20)
REG = "registrations"
LAST = "就业登记导出_2021-12-15.csv"
BEFORE = "就业登记导出_2021-12-01.csv"
FALL = "减少到本导出"
RUIJIN = "上海交通大学医学院附属瑞金医院"
RENJI = "上海交通大学医学院附属仁济医院"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cohort-falls")
    raw = root / "raw"
    generate(raw, year=2021, seed=5, scale=0.2, exports=4, fmt="csv")
    place = {"raw": raw, "marts": root / "m" / "e.duckdb", "work": root / "w" / "w.duckdb"}
    refresh_season(place, raw)
    return place


def roster(raw: Path) -> list[str]:
    return [
        sid
        for path in (raw / "special_groups").glob("*.csv")
        for sid in pl.read_csv(path, infer_schema=False)["学号"].to_list()
    ]


def shrink(raw: Path, name: str, unit: str, degree: str, keep: int) -> tuple[int, int]:
    """Keep only `keep` graduates of one unit and degree in an export (students of the
    special-group rosters stay); (graduates before, after)."""
    path = raw / REG / name
    df = pl.read_csv(path, infer_schema=False)
    ref = reference()
    units = [n for n, code in ref.unit_by_name.items() if code == ref.unit_by_name[unit]]
    labels = [
        label
        for label, (code, completion) in ref.degree_by_label.items()
        if not completion and code == ref.degree_by_label[degree][0]
    ]
    cell = pl.col("培养单位").is_in(units) & pl.col("学历层次").is_in(labels)
    listed = pl.col("学号").is_in(roster(raw))
    removable = cell & ~listed
    was = df.filter(cell).height
    drop = max(0, was - keep)
    kept = df.filter(~removable | (pl.int_range(pl.len()).over(removable) >= drop))
    kept.write_csv(path)
    now = kept.filter(cell).height
    assert was - now >= 2, (unit, degree, was, now)
    return was, now


def falls(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error" and FALL in p.reason]


def test_allowed_fall_is_a_share_rounded_up_to_whole_graduates() -> None:
    assert [allowed_fall(n, 1000) for n in (0, 1, 5, 10, 11, 32, 441)] == [0, 1, 1, 1, 2, 4, 45]
    assert allowed_fall(7, 0) == 0 and allowed_fall(7, 10_000) == 7
    assert allowed_fall(3, 3333) == 1 and allowed_fall(3, 3334) == 2


def test_a_fall_is_refused_naming_unit_degree_both_exports_and_counts(baseline, tmp_path) -> None:
    """Two cells fall in the latest export: both are reported at once, on that export."""
    raw = copy_raw(baseline, tmp_path)
    ruijin = shrink(raw, LAST, RUIJIN, "硕士", 2)
    renji = shrink(raw, LAST, RENJI, "本科", 1)
    published = hashlib.sha256(baseline["marts"].read_bytes()).hexdigest()
    before = file_hashes(raw)
    with pytest.raises(InputError) as info:
        refresh_season(baseline, raw)
    assert hashlib.sha256(baseline["marts"].read_bytes()).hexdigest() == published
    assert file_hashes(raw) == before
    found = falls(info.value.errors)
    assert [p.file for p in found] == [f"{REG}/{LAST}"] * 2
    text = {RUIJIN: "", RENJI: ""}
    for p in found:
        text[RUIJIN if RUIJIN in p.reason else RENJI] = p.reason
    for unit, degree, (was, now) in ((RUIJIN, "硕士", ruijin), (RENJI, "本科", renji)):
        reason = text[unit]
        assert f"「{unit}」2021 届{degree}毕业生从 {REG}/{BEFORE}（导出日期 2021-12-01）" in reason
        assert f"的 {was} 人减少到本导出（导出日期 2021-12-15）的 {now} 人" in reason
        # how to record it, exactly
        assert "[[exports.expected_drops]]" in reason and f'unit = "{unit}"' in reason
        assert f'degree = "{degree}"' in reason and "export_date = 2021-12-15" in reason
        assert str(RULES_DIR / "2021.toml") in reason and "rules/2021.toml" in reason
    assert "Traceback" not in str(info.value)


def expected_drops_file(rules_dir: Path, *entries: tuple[str, str, str]) -> Path:
    """The bundled 2021 rules with expected drops (unit, degree, export date) appended, as the
    centre writes them in its own rules folder."""
    rules_dir.mkdir(parents=True, exist_ok=True)
    text = (RULES_DIR / "2021.toml").read_text(encoding="utf-8")
    for unit, degree, day in entries:
        text += (
            f'\n[[exports.expected_drops]]\nunit = "{unit}"\ndegree = "{degree}"\n'
            f'export_date = {day}\nreason = "一批学生转为结业"\n'
        )
    path = rules_dir / "2021.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_recorded_fall_is_accepted_and_published(baseline, tmp_path) -> None:
    raw = copy_raw(baseline, tmp_path)
    shrink(raw, LAST, RUIJIN, "硕士", 2)
    rules = expected_drops_file(tmp_path / "rules", ("瑞金", "硕士", "2021-12-15"))
    [drop] = load_rules_file(rules, 2021).expected_drops
    assert (drop.unit_code, drop.degree, drop.export_date) == (
        "ruijin",
        "master",
        AS_OF.replace(day=15),
    )
    refresh_season(baseline, raw)  # the rules folder beside raw holds the centre's 2021.toml


def test_a_record_covers_only_its_unit_degree_and_export(baseline, tmp_path) -> None:
    raw = copy_raw(baseline, tmp_path)
    shrink(raw, LAST, RUIJIN, "硕士", 2)
    shrink(raw, LAST, RENJI, "本科", 1)
    expected_drops_file(
        tmp_path / "rules", ("瑞金", "博士", "2021-12-15"), ("仁济", "本科", "2021-12-01")
    )
    found = falls(check_inputs(raw, as_of=AS_OF, raise_on_error=False).problems)
    assert len(found) == 2
    expected_drops_file(tmp_path / "rules", ("ruijin", "master", "2021-12-15"))
    [left] = falls(check_inputs(raw, as_of=AS_OF, raise_on_error=False).problems)
    assert RENJI in left.reason and str(tmp_path / "rules" / "2021.toml") in left.reason


def test_exports_left_out_by_as_of_are_not_judged_and_pairs_are_consecutive(
    baseline, tmp_path
) -> None:
    """The fall is in the 1 Dec export (the 15 Dec one recovers): judged against the export
    before it (15 Aug), on every night that uses it, and not before its date."""
    raw = copy_raw(baseline, tmp_path)
    was, now = shrink(raw, BEFORE, RUIJIN, "硕士", 1)
    shutil.copy(raw / REG / BEFORE, raw / REG / f"重发_{BEFORE}")  # the resent copy too
    for as_of in (dt.date(2021, 12, 1), AS_OF):
        [fall] = falls(check_inputs(raw, as_of=as_of, raise_on_error=False).problems)
        assert fall.file == f"{REG}/{BEFORE}"
        assert f"{REG}/就业登记导出_2021-08-15.csv（导出日期 2021-08-15）" in fall.reason
        assert f"的 {was} 人减少到本导出（导出日期 2021-12-01）的 {now} 人" in fall.reason
    # the night before that export: it is not used, so not judged
    assert (
        falls(check_inputs(raw, as_of=dt.date(2021, 11, 30), raise_on_error=False).problems) == []
    )


def test_a_share_of_zero_refuses_any_fall_and_the_default_passes_the_seasons(tmp_path) -> None:
    """The generated seasons (`make demo`, and three years) lose and move graduates between
    exports: with the default share they pass; with a share of 0 those falls are errors (so
    the check really judged them)."""
    for name, kwargs in (
        ("demo", {}),
        ("years", {"years": "2020-2022", "scale": 0.3, "exports": 6, "fmt": "csv"}),
    ):
        raw = tmp_path / name / "raw"
        generate(raw, **kwargs)
        assert (
            falls(check_inputs(raw, as_of=dt.date(2022, 12, 31), raise_on_error=False).problems)
            == []
        )
        source = RulesSource(raw.parent / "rules")
        for year in source.years():  # the generator's rules files carry the share
            assert source.load(year).max_cohort_drop_bp == 1000
            assert "max_cohort_drop_pct = 10" in source.path_for(year).read_text(encoding="utf-8")
        strict = [dataclasses.replace(source.load(y), max_cohort_drop_bp=0) for y in source.years()]
        found = falls(
            check_inputs(
                raw, as_of=dt.date(2022, 12, 31), raise_on_error=False, rules=strict
            ).problems
        )
        assert found and all("超过规则允许的 0%（0 人）" in p.reason for p in found)
