"""Ingest of one raw folder, in-process, into a fresh working database (no parse cache):
`python bench/ingest_bench.py RAW [--code DIR ...] [--rounds N]`.

Each timed run is a fresh subprocess calling `employment_eval.ingest.api.ingest`; with
`--code`, every DIR (a source tree holding `employment_eval/` and `reference/`, e.g. an
earlier commit from `git archive <commit> employment_eval reference | tar -x -C DIR`) is put
first on the path, and the trees are run in turn within each round (interleaved, so that a
drift of the machine touches them alike). Reported per run: seconds, peak RSS, the 1-minute load
average before and after. Without --code, the working tree's code is timed.

Example (issue 17, the second count of every file's rows), a 1 M-graduate export:
  employment-eval generate --out /tmp/x/raw --scale 320 --exports 1 --format csv
  git archive 37f044a employment_eval reference | tar -x -C /tmp/before
  python bench/ingest_bench.py /tmp/x/raw --code /tmp/before --code . --rounds 3"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

CHILD = """
import os, resource, sys, tempfile, time
from datetime import date
from pathlib import Path
import duckdb
from employment_eval.ingest.api import ingest
with tempfile.TemporaryDirectory() as d:
    con = duckdb.connect(os.path.join(d, "w.duckdb"))
    con.execute("set enable_progress_bar = false")
    t = time.perf_counter()
    result = ingest(Path(sys.argv[1]), con, as_of=date(2099, 12, 31), run_id="bench")
    seconds = time.perf_counter() - t
    con.close()
rows = sum(f.rows for f in result.files if f.parsed_now)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(f"{seconds:.2f} s  {rows:,} rows parsed  peak RSS {rss} MB")
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("raw", type=Path)
    p.add_argument("--code", action="append", type=Path, default=[])
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    trees = args.code or [Path(__file__).resolve().parent.parent]
    for n in range(1, args.rounds + 1):
        for tree in trees:
            env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
            before = os.getloadavg()[0]
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(args.raw)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            line = (out.stdout.strip() or out.stderr.strip()).splitlines()[-1].split("\r")[-1]
            print(f"round {n}  {tree}:  {line}  (load {before:.2f} → {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
