"""Crashes and readers: the published marts survive a run killed at any point, readers of the
marts never see a half-published file, and no run changes a raw file.

The crash test runs `python -m employment_eval run` in a subprocess that stops at a named point
(EMPLOYMENT_EVAL_TEST_PAUSE_AT, see employment_eval/faults.py) and kills it there with SIGKILL."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from employment_eval import build, failures, publish, warehouse
from employment_eval.faults import PAUSE_AT, PAUSE_FILE
from employment_eval.ingest.api import ingest
from flows.nightly_refresh import nightly_refresh

BEFORE = dt.date(2021, 12, 14)  # the last good marts: exports up to 14 December
AFTER = dt.date(2021, 12, 20)  # the killed runs: two more exports


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def raw_hashes(raw: Path) -> dict[str, str]:
    return {str(p.relative_to(raw)): sha(p) for p in sorted(raw.rglob("*")) if p.is_file()}


def scoreboard(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select * from marts.scoreboard order by all").fetchall()
    finally:
        con.close()


def latest_as_of(path: Path) -> dt.date:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select max(as_of_date) from marts.rate_history").fetchall()[0][0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> dict[str, Path]:
    """The last good night (exports up to BEFORE), built with the plain functions: a working
    database and its published marts, copied by each test."""
    root = tmp_path_factory.mktemp("baseline")
    work, marts = root / "work" / "warehouse.duckdb", root / "marts" / "employment.duckdb"
    con = warehouse.open_work(work)
    try:
        ingest(sample_raw, con, as_of=BEFORE, run_id="baseline")
        build.build_models(con)
        publish.publish(publish.export_candidate(con, marts, "baseline"), marts)
    finally:
        con.close()
    return {"work": work, "marts": marts}


@pytest.fixture()
def place(tmp_path: Path, sample_raw: Path, baseline) -> dict[str, Path]:
    """The shared raw folder (read-only files) and a copy of the baseline."""
    place = {
        "raw": sample_raw,
        "marts": tmp_path / "marts" / "employment.duckdb",
        "work": tmp_path / "work" / "warehouse.duckdb",
    }
    for key in ("marts", "work"):
        place[key].parent.mkdir()
        shutil.copy(baseline[key], place[key])
    return place


def refresh(place: dict[str, Path], as_of: dt.date) -> str:
    with failures.unwrapped():  # the failure in full, as the command line shows it
        return nightly_refresh(
            str(place["raw"]), str(place["marts"]), str(place["work"]), 2021, as_of, force=True
        )


def run_until_killed(place: dict[str, Path], point: str, tmp_path: Path) -> None:
    """Start the command line, wait until it stops at `point`, SIGKILL it."""
    flag = tmp_path / f"paused-{point}"
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        PAUSE_AT: point,
        PAUSE_FILE: str(flag),
    }
    args = ["--raw", str(place["raw"]), "--marts", str(place["marts"])]
    args += ["--work", str(place["work"]), "--year", "2021", "--as-of", AFTER.isoformat()]
    proc = subprocess.Popen(
        [sys.executable, "-m", "employment_eval", "run", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not flag.exists():
            if proc.poll() is not None:
                raise AssertionError(f"run ended before {point}: {proc.stderr.read()[-3000:]!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"run did not reach {point} in 120 s")
            time.sleep(0.05)
        assert int(flag.read_text()) == proc.pid
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


@pytest.mark.parametrize("points", [["exporting"], ["renaming", "published"]], ids="+".join)
def test_a_run_killed_at_any_point_leaves_the_last_good_marts(place, tmp_path, points) -> None:
    hashes = raw_hashes(place["raw"])
    good_sha, good_board = sha(place["marts"]), scoreboard(place["marts"])
    assert latest_as_of(place["marts"]) <= BEFORE

    for point in points:
        run_until_killed(place, point, tmp_path)
        if point == "published":  # killed just after the rename: the new file, audited, whole
            assert sha(place["marts"]) != good_sha
            assert latest_as_of(place["marts"]) == AFTER
            assert len(scoreboard(place["marts"])) == 15
        else:  # killed before the rename: byte for byte the last good marts, and it opens
            assert sha(place["marts"]) == good_sha
            assert scoreboard(place["marts"]) == good_board
            leftovers = [
                p.name
                for p in place["marts"].parent.iterdir()
                if p != place["marts"] and p.suffix != ".lock"  # the run lock stays, unlocked
            ]
            assert leftovers and all(".building" in name for name in leftovers)
        assert raw_hashes(place["raw"]) == hashes

    # the next run succeeds, removes what the killed runs left, and the log says what happened
    run_id = refresh(place, AFTER)
    left = sorted(p.name for p in place["marts"].parent.iterdir())
    morning_report = [f"progress_2021_{AFTER}.html", f"progress_2021_{AFTER}.xlsx"]  # published
    assert left == sorted([place["marts"].name, place["marts"].name + ".lock", *morning_report])
    assert latest_as_of(place["marts"]) == AFTER
    con = duckdb.connect(str(place["work"]), read_only=True)
    outcomes = con.execute("select outcome from meta.run_log order by started_at").fetchall()
    published = con.execute(
        "select o.file_sha256 from meta.run_log as r inner join meta.run_log_outputs as o "
        "on r.run_id = o.run_id and r.published_sha256 = o.file_sha256 where r.run_id = ?",
        [run_id],
    ).fetchall()
    con.close()
    assert [o for (o,) in outcomes] == ["interrupted"] * len(points) + ["published"]
    assert published == [(sha(place["marts"]),)]
    assert raw_hashes(place["raw"]) == hashes


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
query = "select max(as_of_date)::varchar, count(*) from marts.rate_history"
print(*con.execute(query).fetchall()[0], flush=True)
sys.stdin.readline()  # the refresh publishes meanwhile
print(*con.execute(query).fetchall()[0], flush=True)
con.execute("begin")
print(*con.execute(query).fetchall()[0], flush=True)
con.close()
"""


def test_an_open_reader_keeps_its_view_while_new_readers_see_the_new_marts(place) -> None:
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(place["marts"])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        before = reader.stdout.readline().split()
        refresh(place, AFTER)  # two more exports: the refresh publishes new marts
        reader.stdin.write("go\n")
        reader.stdin.flush()
        still = reader.stdout.readline().split()
        still_in_transaction = reader.stdout.readline().split()
        assert reader.wait(timeout=30) == 0
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    assert before[0] <= BEFORE.isoformat()
    assert still == before == still_in_transaction  # the open reader: the old file, whole
    con = duckdb.connect(str(place["marts"]), read_only=True)
    now = con.execute(
        "select max(as_of_date)::varchar, count(*) from marts.rate_history"
    ).fetchall()[0]
    con.close()
    assert now[0] == AFTER.isoformat() and now[1] > int(before[1])  # a new reader: new marts
