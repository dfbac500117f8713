"""The demo season (`make demo`: generate's defaults) through the real nightly refresh, and a
season of another year with the rules file generate wrote for it: the published marts show
what the seasons are built to show (employment_eval/generate/showcase.py) — an adjusted cell,
a tie at the quota line decided by the committee, a rank decided by the exact 15 Dec rate, a
special-group cell exactly at its target, a unit without counselling forms."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from employment_eval.generate import generate
from flows.nightly_refresh import nightly_refresh

AS_OF = dt.date(2021, 12, 20)


def _read(marts: Path, sql: str, *params: object) -> list[tuple]:
    con = duckdb.connect(str(marts), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _board(marts: Path, year: int) -> dict[str, dict]:
    columns = (
        "unit_code, unit_group, total_points, i3_points, rank_in_group, quota, tie_at_cutoff, "
        "is_advanced, is_decided_by_committee, status"
    )
    names = [c.strip() for c in columns.split(",")]
    rows = _read(marts, f"select {columns} from marts.scoreboard where year = ?", year)
    return {r[0]: dict(zip(names, r, strict=True)) for r in rows}


def _check_tie(board: dict[str, dict], tie: dict) -> None:
    a, b = (board[u] for u in tie["units"])
    assert a["tie_at_cutoff"] and b["tie_at_cutoff"]
    assert (a["total_points"], a["i3_points"]) == (b["total_points"], b["i3_points"])
    assert a["rank_in_group"] == b["rank_in_group"] == a["quota"]
    assert a["is_decided_by_committee"] and b["is_decided_by_committee"]
    assert {u: board[u]["is_advanced"] for u in tie["units"]} == {
        u: u == tie["advanced"] for u in tie["units"]
    }
    group = [r for r in board.values() if r["unit_group"] == tie["group"]]
    assert sum(r["is_advanced"] for r in group) == a["quota"]
    assert all(board[u]["is_advanced"] and not board[u]["tie_at_cutoff"] for u in tie["above"])
    assert not any(board[u]["is_advanced"] for u in tie["below"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    root = tmp_path_factory.mktemp("demo")
    summary = generate(root / "raw")  # what `make demo` generates
    marts = root / "marts" / "employment.duckdb"
    work = root / "work" / "warehouse.duckdb"
    nightly_refresh(str(root / "raw"), str(marts), str(work), 2021, AS_OF)
    return summary, marts


def test_the_marts_show_every_case_of_the_demo_season(demo) -> None:
    summary, marts = demo
    f = summary["features"]
    board = _board(marts, 2021)
    assert {r["status"] for r in board.values()} == {"final"}  # the tie is decided

    # 1. a committee adjustment of a point value, computed value kept beside it
    adjusted = _read(
        marts,
        "select unit_code, indicator, computed_points, points, adjustment_approved_by "
        "from marts.indicator_scores where adjusted",
    )
    assert adjusted == [
        (f["adjusted_cell"]["unit"], "I2", Decimal("0.00"), Decimal("5.00"), "学指委主任")
    ]

    # 1. a tie at the quota line, marked and decided by the committee (D10, D12)
    _check_tie(board, f["tie_at_cutoff"])

    # 2. equal total and I3, the rank decided by the exact 15 Dec rate
    tiebreak = f["rate_tiebreak"]
    ahead = board[tiebreak["first"]]
    behind = next(board[u] for u in tiebreak["units"] if u != tiebreak["first"])
    assert (ahead["total_points"], ahead["i3_points"]) == (
        behind["total_points"],
        behind["i3_points"],
    )
    assert ahead["rank_in_group"] < behind["rank_in_group"]
    rates = {
        u: (e, n)
        for u, e, n in _read(
            marts,
            "select unit_code, sum(employed), sum(graduates) from marts.milestone_rates "
            "where milestone_date = ? group by unit_code",
            dt.date(2021, 12, 15),
        )
    }
    (e1, n1), (e2, n2) = rates[ahead["unit_code"]], rates[behind["unit_code"]]
    assert n1 == n2 and e1 == e2 + 1

    # 5. a special-group cell exactly at its 15 Dec target, and it passes (rate ≥ target)
    cell = f["exact_target_cell"]
    (row,) = _read(
        marts,
        "select graduates, employed, employment_rate, target_rate, meets_target "
        "from marts.special_group_rates where unit_code = ? and special_group = ? and degree = ?",
        cell["unit"],
        cell["special_group"],
        cell["degree"],
    )
    graduates, employed, rate, target, meets = row
    assert (graduates, employed, meets) == (cell["graduates"], cell["employed"], True)
    assert rate == target == Decimal(cell["target_bp"]) / 10000

    # 6. a unit that handed in no counselling form scores 0 on I7
    zero = _read(
        marts,
        "select unit_code from marts.indicator_scores where indicator = 'I7' and points = 0",
    )
    assert [u for (u,) in zero] == f["zero_forms"]


def test_another_year_runs_with_the_rules_file_generate_wrote(tmp_path: Path) -> None:
    """2022 has no bundled rules: generate writes rules/2022.toml beside the raw folder (other
    targets and quotas), and the run reads it from there (the default --rules folder)."""
    root = tmp_path
    summary = generate(root / "raw", year=2022, scale=0.3, exports=6, fmt="csv")
    assert (root / "rules" / "2022.toml").is_file()
    marts = root / "marts" / "e.duckdb"
    as_of = dt.date(2022, 12, 20)
    nightly_refresh(str(root / "raw"), str(marts), str(root / "w" / "w.duckdb"), 2022, as_of)
    (rules_file,) = _read(marts, "select rules_file from marts.run_info")[0]
    assert Path(rules_file) == root / "rules" / "2022.toml"
    board = _board(marts, 2022)
    quota = {g: q for g, q in _read(marts, "select unit_group, quota from reference.rule_quotas")}
    assert quota != {"school": 2, "general": 4, "specialty": 3}  # not 2021's
    _check_tie(board, summary["features"]["tie_at_cutoff"])


def test_a_multi_year_folder_runs_each_year(tmp_path: Path) -> None:
    """`generate --years 2020-2021`: the exports of both years in one folder, each year run
    with its own rules (a replay of 2020 with --as-of 2020-12-20, then 2021). A roster is
    checked against the latest export that holds its cohort, and a cohort without any export
    yet is checked against the latest export of all (ingestion's rule today): so the replay of
    2020 runs without the 2021 roster, a file the centre would not have had then."""
    summary = generate(tmp_path / "raw", years="2020-2021", scale=0.2, exports=5, fmt="csv")
    for year in (2020, 2021):
        raw = tmp_path / f"raw-{year}"
        shutil.copytree(tmp_path / "raw", raw)
        for roster in (raw / "special_groups").iterdir():
            if int(roster.stem[-4:]) > year:
                roster.unlink()
        marts = tmp_path / f"m{year}" / "e.duckdb"
        work = tmp_path / f"w{year}" / "w.duckdb"
        rules = str(tmp_path / "rules")
        nightly_refresh(str(raw), str(marts), str(work), year, dt.date(year, 12, 20), rules)
        board = _board(marts, year)
        _check_tie(board, summary["years"][year]["features"]["tie_at_cutoff"])
        assert {r["status"] for r in board.values()} == {"final"}
    assert len(list((tmp_path / "raw-2021" / "special_groups").iterdir())) == 4
