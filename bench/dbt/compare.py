"""The product's model runner against dbt-duckdb on the same models: `make bench-dbt`.

The models of sql/ are ported to dbt (port.py) and both build them on the same working
database (ingested by the product, reference tables and macros loaded), at demo size and at
1 M graduates, in alternating rounds: runner, dbt, runner, dbt, ... Each round is a new
process, as a nightly run is:
- runner: `python -c` that opens the working database and calls build.build_models;
- dbt: `dbt run` of the ported project (threads: 1, as the runner; dbt's partial parsing
  kept in its target/ folder between rounds, as the runner keeps its analysis cache).
Reported per size: the median wall seconds of the whole process (interpreter, imports, parsing
and SQL), the time inside (build_models' own seconds; dbt's run_results.json elapsed_time),
their ratios, and the 1-minute load average before the rounds.

Usage: bench/.venv-dbt must hold dbt-duckdb (`make bench-dbt` creates it), then
    .venv/bin/python bench/dbt/compare.py [--rounds 5] [--sizes demo,1m]"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(HERE))

import port  # noqa: E402
import run as bench  # noqa: E402

DBT = BENCH / ".venv-dbt" / "bin" / "dbt"
SIZES = {"demo": (1.0, None, "mixed"), "1m": (318.1, 1, "csv")}  # scale, exports, format
RUNNER = (
    "import sys, time, json\n"
    "t = time.perf_counter()\n"
    "from pathlib import Path\n"
    "from employment_eval import build, warehouse\n"
    "con = warehouse.open_work(Path(sys.argv[1]))\n"
    "r = build.build_models(con)\n"
    "con.close()\n"
    "print(json.dumps({'inside_s': r.seconds, 'total_s': time.perf_counter() - t}))\n"
)


def prepare(size: str, scratch: Path) -> Path:
    """A working database of that size after a nightly run of the product."""
    scale, exports, fmt = SIZES[size]
    raw = bench.generate(BENCH / "results" / "data", scale, exports, fmt)
    place = scratch / size
    bench.run_worker("stages", raw, place / bench.WORK, place / bench.MARTS)
    return place / bench.WORK


def runner_round(work: Path) -> dict:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(work)], capture_output=True, text=True, check=True
    )
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"process_s": time.perf_counter() - start, "inside_s": out["inside_s"]}


def dbt_round(project: Path, work: Path) -> dict:
    env = {**os.environ, "EE_DBT_DATABASE": str(work), "DO_NOT_TRACK": "1"}
    cmd = [str(DBT), "run", "--project-dir", str(project), "--profiles-dir", str(project)]
    start = time.perf_counter()
    proc = subprocess.run([*cmd, "--quiet"], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit("dbt run failed")
    results = json.loads((project / "target" / "run_results.json").read_text("utf-8"))
    return {"process_s": wall, "inside_s": results["elapsed_time"]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--sizes", default="demo,1m")
    p.add_argument("--out", type=Path, default=BENCH / "results" / "dbt.json")
    args = p.parse_args(argv)
    if not DBT.exists():
        raise SystemExit(f"{DBT} is missing: run `make bench-dbt` (it installs dbt-duckdb there)")
    scratch = Path(tempfile.mkdtemp(prefix="ee-bench-dbt-", dir=BENCH / "results"))
    report: dict = {"rounds": args.rounds, "sizes": {}}
    try:
        project = scratch / "project"
        models = port.port(project)
        print(f"{len(models)} models ported to dbt", flush=True)
        for size in args.sizes.split(","):
            work = prepare(size, scratch)
            dbt_round(project, work)  # warm-up of both: dbt's parse cache, the OS cache
            runner_round(work)
            load = os.getloadavg()[0]
            rounds: dict[str, list[dict]] = {"runner": [], "dbt": []}
            for i in range(args.rounds):
                rounds["runner"].append(runner_round(work))
                rounds["dbt"].append(dbt_round(project, work))
                print(
                    f"  {size} round {i + 1}: runner {rounds['runner'][-1]['process_s']:.2f} s, "
                    f"dbt {rounds['dbt'][-1]['process_s']:.2f} s",
                    flush=True,
                )
            med = {
                who: {k: statistics.median(r[k] for r in rs) for k in ("process_s", "inside_s")}
                for who, rs in rounds.items()
            }
            report["sizes"][size] = {
                "load1_before": load,
                "load1_after": os.getloadavg()[0],
                "median": med,
                "dbt_over_runner_process": med["dbt"]["process_s"] / med["runner"]["process_s"],
                "dbt_over_runner_inside": med["dbt"]["inside_s"] / med["runner"]["inside_s"],
                "rounds": rounds,
            }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print()
    print(f"{len(models)} models, {args.rounds} alternating rounds per size (median)")
    print(f"{'size':<6}{'load':>6}{'runner s':>10}{'dbt s':>9}{'ratio':>7}   inside: runner / dbt")
    for size, r in report["sizes"].items():
        m = r["median"]
        print(
            f"{size:<6}{r['load1_before']:>6.2f}{m['runner']['process_s']:>10.2f}"
            f"{m['dbt']['process_s']:>9.2f}{r['dbt_over_runner_process']:>7.2f}   "
            f"{m['runner']['inside_s']:.2f} / {m['dbt']['inside_s']:.2f} s "
            f"({r['dbt_over_runner_inside']:.2f}x)"
        )
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
