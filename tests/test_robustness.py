"""Under load and under fire: a run started while both cores are busy (with a temporary
Prefect server) finishes without a traceback, and twenty runs killed at random moments never
leave a half-published marts file, a changed raw file or a working database that the next run
cannot use."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.cli

TRIALS = 20


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from employment_eval.generate import generate

    folder = tmp_path_factory.mktemp("robust") / "raw"
    generate(folder, year=2021, seed=5, scale=0.1, exports=3, fmt="csv")
    return folder


def _args(raw: Path, root: Path) -> list[str]:
    return [
        "run", "--raw", str(raw), "--marts", str(root / "marts" / "m.duckdb"),
        "--work", str(root / "work" / "w.duckdb"), "--as-of", "2021-12-20",
    ]  # fmt: skip


@contextlib.contextmanager
def busy_cores(n: int = 2):
    """Keep `n` cores busy (like two `yes >/dev/null`)."""
    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
        for _ in range(n)
    ]
    try:
        yield
    finally:
        for hog in hogs:
            os.killpg(hog.pid, signal.SIGKILL)
            hog.wait()


def test_a_run_with_a_temporary_server_succeeds_while_both_cores_are_busy(tmp_path, raw) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    with busy_cores(2):
        result = subprocess.run(
            [sys.executable, "-m", "employment_eval", *_args(raw, tmp_path)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
            env=env,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stdout + result.stderr
    assert "记分板" in result.stdout
    home = tmp_path / "work" / "prefect"  # the temporary server's home: private
    assert home.is_dir() and (home.stat().st_mode & 0o077) == 0


def _marts_whole(path: Path) -> bool:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("select count(*) from marts.scoreboard").fetchone()[0]
        info = con.execute("select count(*) from marts.run_info").fetchone()[0]
    finally:
        con.close()
    return rows == 15 and info == 1


def test_twenty_runs_killed_at_random_moments(tmp_path, raw) -> None:
    root = tmp_path / "place"
    local_raw = root / "raw"
    shutil.copytree(raw, local_raw)
    args = [*_args(local_raw, root), "--force"]  # every run rebuilds (nothing new otherwise)
    started = time.monotonic()
    first = subprocess.run(
        [sys.executable, "-m", "employment_eval", *args], capture_output=True, text=True
    )
    span = time.monotonic() - started  # every kill lands within a run's own span
    assert first.returncode == 0, first.stderr[-3000:]
    marts = root / "marts" / "m.duckdb"
    raw_before = tree_hashes(local_raw)
    rng = random.Random(20211220)
    for _ in range(TRIALS):
        proc = subprocess.Popen(
            [sys.executable, "-m", "employment_eval", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, max(1.0, span)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _marts_whole(marts)  # the old file or a new audited one, never half of one
        assert tree_hashes(local_raw) == raw_before
    last = subprocess.run(
        [sys.executable, "-m", "employment_eval", *args], capture_output=True, text=True
    )
    assert last.returncode == 0, last.stderr[-3000:]
    assert _marts_whole(marts)
    assert sorted(p.name for p in marts.parent.iterdir()) == [
        "m.duckdb",
        "m.duckdb.lock",
        "progress_2021_2021-12-20.html",  # the morning report (a killed run's temp files go)
        "progress_2021_2021-12-20.xlsx",
    ]
    con = duckdb.connect(str(root / "work" / "w.duckdb"), read_only=True)
    outcomes = [o for (o,) in con.execute("select outcome from meta.run_log").fetchall()]
    con.close()
    assert "running" not in outcomes and outcomes.count("published") >= 2
