"""A one-off `employment-eval run` with no Prefect server running (the run starts a temporary
one), on an idle machine and with both cores kept busy: `python bench/busy_bench.py`.

Setup (not timed): the demo season (`generate --year 2021 --seed 2021`) in a temporary folder.
Then --runs rounds, each an idle run and a busy run in turn (two `yes > /dev/null` processes
started before and killed after the busy run), each `run --force` (a whole rebuild, the
temporary server included), timed from the process's start to its end, without
`PREFECT_API_URL` and with a fresh PREFECT_HOME per run. Reported per condition: exit codes,
whether any output held a Python traceback, the median / min / max seconds and the 1-minute
load average before each run. Results: printed, and written to bench/results/busy.json
(git-ignored)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _cli() -> list[str]:
    return [sys.executable, "-m", "employment_eval"]


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_HOME=str(home))
    return env


def one_run(place: Path, round_no: int, busy: bool) -> dict:
    hogs = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(2 if busy else 0)]
    try:
        time.sleep(2 if busy else 0)  # let the hogs take the cores
        load = os.getloadavg()[0]
        args = [*_cli(), "run", "--force", "--raw", str(place / "raw"),
                "--marts", str(place / "marts" / "employment.duckdb"),
                "--work", str(place / "work" / "warehouse.duckdb"),
                "--as-of", "2021-12-20", "--year", "2021"]  # fmt: skip
        env = _env(place / f"prefect-{round_no}-{'busy' if busy else 'idle'}")
        start = time.perf_counter()
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
        seconds = time.perf_counter() - start
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    return {
        "busy": busy,
        "seconds": round(seconds, 2),
        "exit_code": result.returncode,
        "traceback": "Traceback" in result.stdout + result.stderr,
        "load": round(load, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds (idle + busy each)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="busy-bench-") as tmp:
        place = Path(tmp)
        subprocess.run(
            [*_cli(), "generate", "--out", str(place / "raw"), "--year", "2021", "--seed", "2021"],
            env=_env(place / "prefect-generate"), check=True, capture_output=True,
        )  # fmt: skip
        runs = [one_run(place, i, busy) for i in range(args.runs) for busy in (False, True)]
    summary = {}
    for label, busy in (("idle", False), ("both cores busy", True)):
        rows = [r for r in runs if r["busy"] is busy]
        secs = [r["seconds"] for r in rows]
        summary[label] = {
            "median_s": statistics.median(secs),
            "min_s": min(secs),
            "max_s": max(secs),
            "exit_codes": [r["exit_code"] for r in rows],
            "any_traceback": any(r["traceback"] for r in rows),
            "loads": [r["load"] for r in rows],
        }
        print(
            f"{label:16} median {summary[label]['median_s']:.2f} s "
            f"(min {min(secs):.2f}, max {max(secs):.2f}); exit codes "
            f"{summary[label]['exit_codes']}; traceback: {summary[label]['any_traceback']}; "
            f"load before each run {summary[label]['loads']}"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "busy.json").write_text(
        json.dumps({"runs": runs, "summary": summary}, ensure_ascii=False, indent=2)
    )
    failed = any(r["exit_code"] != 0 or r["traceback"] for r in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
