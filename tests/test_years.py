"""Several years in one working database and one marts file, each scored under its own rules:
the centre makes next year's rules with `rules new`, edits targets and quotas, and the 2022
season scores under them while 2021 scores exactly as it did alone. `marts.unit_trends` and its
reader put the years side by side; a year without a rules file is an input error naming the
files looked for."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest

from employment_eval import failures
from employment_eval.generate import generate
from employment_eval.problems import InputError
from employment_eval.rules import load_rules
from employment_eval.trends import read_unit_trends
from flows.nightly_refresh import nightly_refresh

TABLES_2021 = ("indicator_scores", "scoreboard", "milestone_rates", "special_group_rates",
               "guided_employment", "rate_history", "unit_trends")  # fmt: skip
DEC15_LINE = "targets = { bachelor = 94, master = 97, doctor = 98 }"


def refresh(raw: Path, marts: Path, work: Path, year: int, as_of: dt.date, rules: Path) -> None:
    with failures.unwrapped():
        nightly_refresh(
            str(raw), str(marts), str(work), year, as_of, rules_dir=str(rules), allow_older=True
        )


def marts_rows(marts: Path, year: int) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(marts), read_only=True)
    try:
        return {
            t: con.execute(
                f"select * from marts.{t} where year = ? order by all", [year]
            ).fetchall()
            for t in TABLES_2021
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def years(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("years")
    rules = root / "rules"
    rules.mkdir()
    made = subprocess.run(
        [sys.executable, "-m", "employment_eval", "rules", "new", "--year", "2022",
         "--from", "2021", "--rules", str(rules)],
        capture_output=True, text=True, timeout=120, env={**os.environ},
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    path = rules / "2022.toml"
    text = path.read_text(encoding="utf-8")
    # the centre edits the copy: other 15 Dec targets, other quotas
    edits = {
        DEC15_LINE: 'targets = { bachelor = 95, master = "97.5", doctor = 98 }',
        "school = 2  #": "school = 1  #",
        "specialty = 3  #": "specialty = 2  #",
    }
    for old, new in edits.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")

    raw = root / "raw"
    summary = generate(raw, years="2021-2022", seed=9, scale=0.3, exports=5)
    alone = root / "alone" / "raw"  # the same 2021 files, without 2022's
    for kind, names in summary["years"][2021]["files"].items():
        (alone / kind).mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy(raw / kind / name, alone / kind / name)
    marts, work = root / "marts" / "employment.duckdb", root / "work" / "warehouse.duckdb"
    refresh(alone, marts, work, 2021, dt.date(2021, 12, 20), rules)
    before = marts_rows(marts, 2021)
    refresh(raw, marts, work, 2022, dt.date(2022, 12, 20), rules)
    return {
        "root": root,
        "raw": raw,
        "rules": rules,
        "marts": marts,
        "work": work,
        "before": before,
    }


def test_2022_scores_under_its_edited_rules_and_2021_as_before(years) -> None:
    marts = years["marts"]
    assert marts_rows(marts, 2021) == years["before"]  # every cell of every 2021 table
    con = duckdb.connect(str(marts), read_only=True)
    try:
        assert con.execute("select distinct year from marts.scoreboard order by 1").fetchall() == [
            (2021,),
            (2022,),
        ]
        quotas = dict(
            con.execute(
                "select unit_group, max(quota) from marts.scoreboard where year = 2022 group by 1"
            ).fetchall()
        )
        assert quotas == {"school": 1, "general": 4, "specialty": 2}
        advanced = dict(
            con.execute(
                "select unit_group, count(*) filter (where is_advanced) from marts.scoreboard "
                "where year = 2022 group by 1"
            ).fetchall()
        )
        assert all(advanced[g] <= quotas[g] for g in quotas)
        targets = con.execute(
            "select distinct degree, target_rate from marts.milestone_rates "
            "where year = 2022 and milestone_date = date '2022-12-15' order by 1"
        ).fetchall()
        assert targets == [
            ("bachelor", Decimal("0.9500")),
            ("doctor", Decimal("0.9800")),
            ("master", Decimal("0.9750")),
        ]
        # each node of each year is counted on an export of its own season
        wrong = con.execute(
            "select count(*) from marts.milestone_rates where year(snapshot_date) <> year"
        ).fetchone()[0]
        assert wrong == 0
        for year, need, n, target in con.execute(
            "select year, required_employed, graduates, target_rate from marts.milestone_rates"
        ).fetchall():
            assert need == -(-int(target * 10000) * n // 10000), (year, need, n, target)
        rules_file, sha = con.execute(
            "select rules_file, rules_sha256 from marts.run_info"
        ).fetchone()
        assert rules_file == str(years["rules"] / "2022.toml")
        assert sha == load_rules(2022, years["rules"]).sha256
    finally:
        con.close()


def test_unit_trends_put_the_years_side_by_side(years) -> None:
    trends = read_unit_trends(years["marts"])
    assert len(trends) == 15
    con = duckdb.connect(str(years["marts"]), read_only=True)
    try:
        board = {
            (y, u): (t, r, a)
            for y, u, t, r, a in con.execute(
                "select year, unit_code, total_points, rank_in_group, is_advanced "
                "from marts.scoreboard"
            ).fetchall()
        }
        nodes = con.execute(
            "select year, unit_code, milestone_date, sum(graduates), sum(employed) "
            "from marts.milestone_rates group by all"
        ).fetchall()
        dupes = con.execute(
            "select count(*) from (select year, unit_code from marts.unit_trends "
            "group by all having count(*) > 1)"
        ).fetchone()[0]
    finally:
        con.close()
    assert dupes == 0
    rate = {}
    for year, unit, day, n, e in nodes:
        exact = Fraction(int(e), int(n))
        rate[(year, unit, day)] = Decimal(exact.numerator) / Decimal(exact.denominator)
    for trend in trends:
        assert [y.year for y in trend.years] == [2021, 2022]
        for y in trend.years:
            assert (y.total_points, y.rank_in_group, y.is_advanced) == board[
                (y.year, trend.unit_code)
            ]
            assert sum(y.points.values()) == y.total_points
            assert [d.month for d, _ in y.node_rates] == [6, 8, 12]
            for day, value in y.node_rates:
                expected = rate[(y.year, trend.unit_code, day)]
                assert value == expected.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
            assert (y.final_date, y.final_rate) == y.node_rates[-1]
    only = read_unit_trends(years["marts"], years=[2022])
    assert {y.year for t in only for y in t.years} == {2022}


def test_an_export_of_a_year_without_rules_names_the_files_looked_for(years, tmp_path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(years["raw"], raw)
    rules = tmp_path / "rules"  # the centre's folder has no 2022.toml (the bundled has none)
    rules.mkdir()
    marts, work = tmp_path / "marts" / "m.duckdb", tmp_path / "work" / "w.duckdb"
    with pytest.raises(InputError) as info:
        refresh(raw, marts, work, 2021, dt.date(2022, 12, 20), rules)
    errors = info.value.errors
    assert errors and all(
        "2022" in p.reason and str(rules / "2022.toml") in p.reason for p in errors
    )
    files = {p.file for p in errors}
    assert any(f.startswith("registrations/") for f in files)
    assert any(f.startswith("submissions/") for f in files)
    assert not marts.exists()  # nothing published


def test_whatif_compares_every_year_with_the_rules_it_was_published_with(years, tmp_path) -> None:
    """The last run was for 2022; a what-if of 2021 still says that 2021's official rules file
    is not the one 2021 was published with, one line per difference."""
    from employment_eval.paths import RULES_DIR
    from employment_eval.rules import load_rules_file
    from employment_eval.whatif import run_whatif

    rules = tmp_path / "rules"
    shutil.copytree(years["rules"], rules)
    text = (RULES_DIR / "2021.toml").read_text(encoding="utf-8")
    (rules / "2021.toml").write_text(text.replace("doctor = 98 }", "doctor = 99 }"), "utf-8")
    draft = [load_rules_file(RULES_DIR / "2021.toml")]
    notes = run_whatif(years["work"], draft, year=2021, rules_dir=rules).published_notes
    assert notes[1:] == ("  2021 年度 12月15日节点博士目标：98% → 99%",), notes
    assert str(rules / "2021.toml") in notes[0] and str(RULES_DIR / "2021.toml") in notes[0]
    draft_2022 = [load_rules(2022, rules)]
    assert run_whatif(years["work"], draft_2022, year=2022, rules_dir=rules).published_notes == ()
