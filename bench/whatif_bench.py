"""Benchmark of `employment-eval whatif` on demo data: `python bench/whatif_bench.py`.

Setup (not timed): the demo season of `make demo` (`generate --year 2021 --seed 2021`, and with
--years a several-year demo, `generate --years 2020-2022 --seed 2021`), published by a real
`employment-eval run` against a Prefect server started for the purpose. Then, --runs rounds,
each running every scenario once in turn (interleaved, so that a drift of the machine touches
all scenarios alike), each in a fresh process, timed from the process's start to its end:

  draft     one draft (the generated decimal-target draft of the year)
  official  the official rules as the draft (no change)
  two       two drafts (one column each)

Reported per scenario: the median, min and max wall seconds of the whole process, and the
median of the seconds the command itself reports (its time after the interpreter start and the
command line's imports). Target: the whole process ≤ 2 s (median). Results: printed, and
written to bench/results/whatif.json (git-ignored)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
TARGET_SECONDS = 2.0
ENV = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def _cli() -> list[str]:
    return [sys.executable, "-m", "employment_eval"]


def _run(args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}): {' '.join(args)}\n{result.stderr}")
    return result


def setup(place: Path, years: str | None, env: dict) -> dict:
    """Generate the demo season and publish it with a real run; returns the paths."""
    raw = place / "data" / "raw"
    place.mkdir(parents=True, exist_ok=True)
    year_args = ["--years", years] if years else ["--year", "2021"]
    _run([*_cli(), "generate", "--out", str(raw), *year_args, "--seed", "2021"], env, place)
    last = int(years.split("-")[-1]) if years else 2021
    marts = place / "data" / "marts" / "employment.duckdb"
    work = place / "data" / "work" / "warehouse.duckdb"
    _run(
        [*_cli(), "run", "--raw", str(raw), "--marts", str(marts), "--work", str(work),
         "--year", str(last), "--as-of", f"{last}-12-20"],
        env, place,
    )  # fmt: skip
    rules = place / "data" / "rules"
    official = rules / f"{last}.toml"
    if not official.exists():
        official = ROOT / "reference" / "rules" / f"{last}.toml"
    return {
        "work": work,
        "draft": rules / "drafts" / f"{last}-decimal-targets.toml",
        "official": official,
        "year": last,
    }


def scenarios(paths: dict, out: Path) -> dict[str, list[str]]:
    base = [*_cli(), "whatif", "--work", str(paths["work"]), "--out", str(out)]
    return {
        "draft": [*base, "--rules", str(paths["draft"])],
        "official": [*base, "--rules", str(paths["official"])],
        "two": [*base, "--rules", str(paths["draft"]), "--rules", str(paths["official"])],
    }


def measure(commands: dict[str, list[str]], runs: int, env: dict, cwd: Path) -> dict:
    wall: dict[str, list[float]] = {name: [] for name in commands}
    inner: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, args in commands.items():  # interleaved: one of each per round
            start = time.perf_counter()
            result = _run(args, env, cwd)
            wall[name].append(time.perf_counter() - start)
            said = re.search(r"（用时 ([\d.]+) 秒）", result.stdout)
            if said:
                inner[name].append(float(said.group(1)))
    return {
        name: {
            "median_s": round(statistics.median(wall[name]), 3),
            "min_s": round(min(wall[name]), 3),
            "max_s": round(max(wall[name]), 3),
            "command_median_s": round(statistics.median(inner[name]), 2) if inner[name] else None,
            "runs": [round(s, 3) for s in wall[name]],
        }
        for name in commands
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--years", help="several-year demo, e.g. 2020-2022 (default: 2021 only)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    from employment_eval import prefect_server

    scratch = Path(tempfile.mkdtemp(prefix="whatif-bench-"))
    env = {**os.environ, **ENV}
    proc = None
    try:
        proc, url = prefect_server.start(scratch / "prefect-home")
        env.update(PREFECT_API_URL=url, PREFECT_HOME=str(scratch / "prefect-home"))
        started = time.perf_counter()
        paths = setup(scratch / "demo", args.years, env)
        setup_s = time.perf_counter() - started
        prefect_server.stop(proc)  # the what-if needs no server: measured without one
        proc = None
        env.pop("PREFECT_API_URL", None)
        results = measure(scenarios(paths, scratch / "out"), args.runs, env, scratch)
    finally:
        if proc is not None:
            prefect_server.stop(proc)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    report = {
        "demo": f"generate {'--years ' + args.years if args.years else '--year 2021'} --seed 2021",
        "runs": args.runs,
        "setup_s": round(setup_s, 1),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
        },
        "target_s": TARGET_SECONDS,
        "scenarios": results,
        "met": all(r["median_s"] <= TARGET_SECONDS for r in results.values()),
    }
    print(f"whatif on {report['demo']}: median of {args.runs} interleaved runs")
    print(f"(setup: generate + a real run, {setup_s:.0f} s, not timed)")
    print(f"{'scenario':<10}{'median s':>10}{'min s':>8}{'max s':>8}{'command s':>11}")
    for name, r in results.items():
        print(
            f"{name:<10}{r['median_s']:>10.2f}{r['min_s']:>8.2f}{r['max_s']:>8.2f}"
            f"{(r['command_median_s'] or 0):>11.2f}"
        )
    verdict = "met" if report["met"] else "NOT met"
    print(f"target ≤ {TARGET_SECONDS:.1f} s for the whole process: {verdict}")
    RESULTS.mkdir(exist_ok=True)
    suffix = f"_{args.years}" if args.years else ""
    (RESULTS / f"whatif{suffix}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0 if report["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
