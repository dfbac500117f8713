"""A night with nothing new does nothing: same inputs, rules, models, suites and code as the last
published run → one Chinese line, exit 0, the marts untouched, no run logged; anything that
the marts depend on changed (an input, the rules, the next node, the published file) → a run."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.cli

NOTHING_NEW = "没有新的输入"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def place(tmp_path: Path) -> dict[str, Path]:
    from employment_eval.generate import generate

    raw = tmp_path / "raw"
    generate(raw, year=2021, seed=9, scale=0.1, exports=4, fmt="csv")
    return {
        "raw": raw,
        "marts": tmp_path / "marts" / "m.duckdb",
        "work": tmp_path / "work" / "w.duckdb",
    }


def run(place: dict[str, Path], *extra: str, as_of: str = "2021-12-20"):
    args = ["run", "--raw", str(place["raw"]), "--marts", str(place["marts"])]
    args += ["--work", str(place["work"]), "--as-of", as_of, *extra]
    result = subprocess.run(
        [sys.executable, "-m", "employment_eval", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stdout + result.stderr
    return result


def runs_logged(place: dict[str, Path]) -> int:
    con = duckdb.connect(str(place["work"]), read_only=True)
    try:
        return con.execute("select count(*) from meta.run_log").fetchone()[0]
    finally:
        con.close()


def test_nothing_new_does_nothing_and_anything_new_runs(place) -> None:
    assert NOTHING_NEW not in run(place).stdout
    published, logged = sha(place["marts"]), runs_logged(place)

    again = run(place)  # same inputs, same rules, same code
    assert NOTHING_NEW in again.stdout and len(again.stdout.strip().splitlines()) == 1
    assert sha(place["marts"]) == published and runs_logged(place) == logged

    later = run(place, as_of="2021-12-24")  # a later night, same exports, no node crossed
    assert NOTHING_NEW in later.stdout and sha(place["marts"]) == published

    forced = run(place, "--force")
    assert NOTHING_NEW not in forced.stdout and runs_logged(place) == logged + 1
    published = sha(place["marts"])

    export = sorted((place["raw"] / "registrations").iterdir())[-1]
    copy = export.with_name("另一份_2021-12-19.csv")  # a new export (another as-of date)
    shutil.copy(export, copy)
    assert NOTHING_NEW not in run(place).stdout
    assert sha(place["marts"]) != published


def test_a_new_rules_file_or_a_crossed_node_runs(place, tmp_path) -> None:
    run(place, as_of="2021-08-01")
    assert NOTHING_NEW in run(place, as_of="2021-08-02").stdout
    # 15 August passed: marts.progress now looks at 15 December
    assert NOTHING_NEW not in run(place, as_of="2021-08-16").stdout
    rules = place["raw"].parent / "rules"  # the centre's rules folder beside the raw folder
    rules.mkdir(exist_ok=True)  # the generator put its what-if drafts there
    bundled = Path(__file__).resolve().parents[1] / "reference" / "rules" / "2021.toml"
    text = bundled.read_text(encoding="utf-8").replace("school = 2", "school = 1")
    (rules / "2021.toml").write_text(text, encoding="utf-8")
    assert NOTHING_NEW not in run(place, as_of="2021-08-16").stdout
    con = duckdb.connect(str(place["marts"]), read_only=True)
    quota = con.execute(
        "select quota from marts.scoreboard where unit_group = 'school' limit 1"
    ).fetchone()
    con.close()
    assert quota == (1,)


def test_a_replaced_marts_file_is_rebuilt(place) -> None:
    run(place)
    place["marts"].unlink()
    assert NOTHING_NEW not in run(place).stdout
    assert place["marts"].exists()
