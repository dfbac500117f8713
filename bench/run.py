"""Benchmark of the nightly pipeline: `make bench` (or `python bench/run.py`).

Generates synthetic data with `employment-eval generate`, runs the pipeline's stages
(ingest → build → audit → publish: the plain functions the Prefect tasks call) in a fresh
subprocess per run, and prints, per stage and end to end, the median over --runs of wall
seconds, CPU seconds and peak RSS. Scenarios (docs/BENCHMARKS.md):

  a  full rebuild of a 1× season of 151 exports (fresh working database)
  b  the nightly case: 150 exports already ingested (warm working database), one new export
  c  the same with 10 exports stored instead of 150 (same new export)
  d  one export of ~1,000,000 graduates as plain CSV (--format csv), fresh working database

Reported separately: interpreter start and library imports, the Prefect server's start, and
the nightly flow (scenario b) run for real against that started server.

Peak RSS per stage: the process's high-water mark is reset (`/proc/self/clear_refs` ← 5) at
the start of each stage, so the figure is the peak resident set during that stage (it includes
what earlier stages left resident). End to end: the maximum of the stages' peaks.

Results: printed as a table and written to bench/results/latest.json (git-ignored); the
generated data is cached under bench/results/data/ (the generator is deterministic)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
STAGES = ("ingest", "build", "audit", "publish")
YEAR = 2021
AS_OF = "2021-12-20"
SEASON_EXPORTS = 151  # 150 stored + the night's new one
FEW_STORED = 10
BIG_SCALE = 318.1  # the scale-1 cohort is 3,144 graduates: 318.1× ≈ 1,000,109
QUICK = {"season_exports": 31, "big_scale": 32.0}
TARGETS = {  # issue 6, seconds of pipeline time (stages in the process)
    "a": 30.0,
    "b": 10.0,
    "d": 60.0,
}
TARGET_RATIO_BC = 1.5
TARGET_RSS_D_MB = 4096.0

ENV = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


# --- the worker: one run of the stages in this process ------------------------------------------


def _hwm_kb() -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", text).group(1))


def _reset_hwm() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class _Stage:
    profile_dir: Path | None = None  # --profile: a pyinstrument profile per stage

    def __init__(self, name: str, out: dict) -> None:
        self.name, self.out = name, out
        self.profiler = None

    def __enter__(self):
        if self.profile_dir is not None:
            from pyinstrument import Profiler

            self.profiler = Profiler(interval=0.001)
            self.profiler.start()
        self.reset = _reset_hwm()
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        if self.profiler is not None:
            self.profiler.stop()
            self.profile_dir.mkdir(parents=True, exist_ok=True)
            text = self.profiler.output_text(unicode=True, color=False, show_all=False)
            (self.profile_dir / f"{self.name}.txt").write_text(text, encoding="utf-8")
        self.out[self.name] = {
            "wall_s": time.perf_counter() - self.wall,
            "cpu_s": time.process_time() - self.cpu,
            "peak_rss_mb": _hwm_kb() / 1024,
            "rss_reset": self.reset,
        }
        return False


def _worker_stages(args: argparse.Namespace) -> dict:
    """The flow's tasks as plain calls (flows/nightly_refresh.py, without Prefect)."""
    t0 = time.perf_counter()
    from employment_eval import adjustments, audit, build, publish, quality, warehouse
    from employment_eval.ingest.api import ingest
    from employment_eval.options import RunOptions
    from employment_eval.problems import raise_if_errors
    from employment_eval.rules import load_rules

    # the audit's Great Expectations suites import it lazily: count it as an import
    with contextlib.suppress(ImportError):
        import great_expectations  # noqa: F401
    imports_s = time.perf_counter() - t0
    stages: dict[str, dict] = {}
    total = {"wall": time.perf_counter(), "cpu": time.process_time()}
    as_of = dt.date.fromisoformat(args.as_of)
    with _Stage("ingest", stages):
        opts = RunOptions.resolve(args.raw, args.marts, args.work, YEAR, as_of)
        load_rules(opts.year)
        con = warehouse.open_work(opts.work_path)
        warehouse.log_run_start(
            con,
            run_id=opts.run_id,
            flow="bench",
            as_of=opts.as_of,
            raw_dir=opts.raw_dir,
            marts_path=opts.marts_path,
        )
        result = ingest(opts.raw_dir, con, as_of=opts.as_of, run_id=opts.run_id)
        warehouse.log_run_files(con, opts.run_id)
    with _Stage("build", stages):
        built = build.build_models(con)
        raise_if_errors(adjustments.decision_problems(con))
    with _Stage("audit", stages):  # as the flow's audit task does
        candidate, results = audit.audit_candidate(con, opts)
    with _Stage("publish", stages):  # as the flow's publish task does
        digest = publish.sha256_file(candidate)
        size = candidate.stat().st_size
        publish.publish(candidate, opts.marts_path)
        warehouse.log_run_output(con, opts.run_id, "marts", opts.marts_path, digest, size)
        quality.mark_validated(con)
        warehouse.log_run_end(con, opts.run_id, "published")
        con.close()
    stages["total"] = {
        "wall_s": time.perf_counter() - total["wall"],
        "cpu_s": time.process_time() - total["cpu"],
        # the stages' high-water marks were reset one by one: the run's peak is their maximum
        "peak_rss_mb": max(stages[s]["peak_rss_mb"] for s in STAGES),
    }
    return {
        "imports_s": imports_s,
        "stages": stages,
        "files": [
            {"path": f.path, "kind": f.kind, "as_of": str(f.as_of_date), "parsed": f.parsed_now}
            for f in result.files
        ],
        "models": {m.name: m.seconds for m in built.models},
        "checks": len(results),
    }


def _worker_flow(args: argparse.Namespace) -> dict:
    """The real Prefect flow against the server in PREFECT_API_URL."""
    t0 = time.perf_counter()
    from flows.nightly_refresh import nightly_refresh

    imports_s = time.perf_counter() - t0
    wall, cpu = time.perf_counter(), time.process_time()
    nightly_refresh(args.raw, args.marts, args.work, YEAR, dt.date.fromisoformat(args.as_of))
    return {
        "imports_s": imports_s,
        "flow_wall_s": time.perf_counter() - wall,
        "flow_cpu_s": time.process_time() - cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def worker_main(args: argparse.Namespace) -> None:
    _Stage.profile_dir = Path(args.profile) if args.profile else None
    out = _worker_flow(args) if args.worker == "flow" else _worker_stages(args)
    Path(args.result).write_text(json.dumps(out), encoding="utf-8")


# --- the driver ---------------------------------------------------------------------------------


def _env(extra: dict | None = None) -> dict:
    env = {**os.environ, **ENV, **(extra or {})}
    return env


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("employment-eval")
    return [str(script)] if script.exists() else [sys.executable, "-m", "employment_eval"]


def generate(out: Path, scale: float, exports: int, fmt: str) -> Path:
    """`employment-eval generate` into a cached folder named by its arguments."""
    target = out / f"scale{scale:g}-exports{exports}-{fmt}"
    stamp = target / ".complete"
    if stamp.exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    cmd = [*_cli(), "generate", "--out", str(target), "--year", str(YEAR), "--seed", "2021"]
    cmd += ["--scale", f"{scale:g}", "--exports", str(exports), "--format", fmt]
    print("$", " ".join(cmd[-12:]), flush=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, check=True, env=_env(), capture_output=True, text=True)
    print(f"  generated in {time.perf_counter() - start:.1f} s", flush=True)
    stamp.write_text(proc.stdout, encoding="utf-8")
    return target


def graduates(folder: Path) -> int:
    """The cohort size the generator reported (its summary line is kept in the stamp)."""
    m = re.search(r"([\d,]+) 名毕业生", (folder / ".complete").read_text(encoding="utf-8"))
    return int(m.group(1).replace(",", "")) if m else 0


def link_tree(files: list[Path], src_root: Path, dst_root: Path) -> None:
    """A raw folder made of hard links (copies across filesystems) to the generated files."""
    for f in files:
        dst = dst_root / f.relative_to(src_root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(f, dst)
        except OSError:
            shutil.copy2(f, dst)
    for kind in ("registrations", "special_groups", "submissions", "adjustments"):
        (dst_root / kind).mkdir(parents=True, exist_ok=True)


def run_worker(mode: str, raw: Path, work: Path, marts: Path, env: dict | None = None) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        result = Path(fh.name)
    try:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", mode]
        cmd += ["--raw", str(raw), "--work", str(work), "--marts", str(marts)]
        cmd += ["--as-of", AS_OF, "--result", str(result)]
        proc = subprocess.run(cmd, env=_env(env), capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit(f"benchmark run failed ({mode}, {raw})")
        return json.loads(result.read_text(encoding="utf-8"))
    finally:
        result.unlink(missing_ok=True)


def _median_stages(runs: list[dict]) -> dict:
    out: dict[str, dict] = {}
    for stage in (*STAGES, "total"):
        out[stage] = {
            key: statistics.median(r["stages"][stage][key] for r in runs)
            for key in ("wall_s", "cpu_s", "peak_rss_mb")
        }
    out["imports_s"] = statistics.median(r["imports_s"] for r in runs)
    return out


def scenario_full(name: str, raw: Path, scratch: Path, runs: int) -> tuple[dict, dict]:
    """A full rebuild: a fresh working database and no published marts, every run."""
    results = []
    for i in range(runs):
        place = scratch / f"{name}-{i}"
        shutil.rmtree(place, ignore_errors=True)
        results.append(
            run_worker("stages", raw, place / "warehouse.duckdb", place / "employment.duckdb")
        )
        print(f"  {name} run {i + 1}: {results[-1]['stages']['total']['wall_s']:.2f} s", flush=True)
        shutil.rmtree(place, ignore_errors=True)
    return _median_stages(results), results[0]


def _non_registration_files(season: Path) -> list[Path]:
    files = [p for p in season.rglob("*") if p.is_file() and "registrations" not in p.parts]
    return [p for p in files if not p.name.startswith(".")]


def warm_state(name: str, season: Path, stored: list[Path], scratch: Path) -> Path:
    """A working DB and published marts that have already seen the `stored` exports."""
    warm = scratch / f"{name}-warm"
    shutil.rmtree(warm, ignore_errors=True)
    link_tree([*stored, *_non_registration_files(season)], season, warm / "raw")
    run_worker("stages", warm / "raw", warm / "warehouse.duckdb", warm / "employment.duckdb")
    return warm


def night_place(warm: Path, place: Path, season: Path, exports: list[Path]) -> Path:
    """A fresh copy of the warm state whose raw folder holds `exports` (the night's files)."""
    shutil.rmtree(place, ignore_errors=True)
    link_tree([*exports, *_non_registration_files(season)], season, place / "raw")
    shutil.copy2(warm / "warehouse.duckdb", place / "warehouse.duckdb")
    shutil.copy2(warm / "employment.duckdb", place / "employment.duckdb")
    return place


def scenario_nightly(
    name: str, season: Path, stored: list[Path], new: Path, scratch: Path, runs: int
) -> dict:
    """`stored` exports already ingested (warm working database and published marts), then
    the night's `new` export arrives: each timed run starts from a copy of the warm state."""
    warm = warm_state(name, season, stored, scratch)
    results = []
    for i in range(runs):
        place = night_place(warm, scratch / f"{name}-{i}", season, [*stored, new])
        results.append(
            run_worker(
                "stages", place / "raw", place / "warehouse.duckdb", place / "employment.duckdb"
            )
        )
        parsed = [f["path"] for f in results[-1]["files"] if f["parsed"]]
        print(
            f"  {name} run {i + 1}: {results[-1]['stages']['total']['wall_s']:.2f} s "
            f"(parsed: {', '.join(parsed) or 'none'})",
            flush=True,
        )
        if i < runs - 1:
            shutil.rmtree(place, ignore_errors=True)
    return _median_stages(results)


def start_prefect(home: Path) -> tuple[subprocess.Popen, str, float]:
    from employment_eval import prefect_server

    start = time.perf_counter()
    try:
        proc, url = prefect_server.start(home)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from exc
    return proc, url, time.perf_counter() - start


def stop_prefect(proc: subprocess.Popen) -> None:
    from employment_eval import prefect_server

    prefect_server.stop(proc)


def startup_costs(runs: int) -> dict:
    """Interpreter start and imports, each in a fresh interpreter (wall seconds, median)."""
    probes = {
        "interpreter": "pass",
        "pipeline_imports": "import employment_eval.ingest.api, employment_eval.build, "
        "employment_eval.audit, employment_eval.publish",
        "flow_imports": "import flows.nightly_refresh",
    }
    out = {}
    for name, code in probes.items():
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=_env())
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times)
    return out


def prefect_section(season: Path, stored: list[Path], new: Path, scratch: Path, runs: int) -> dict:
    """The server's start, then the nightly flow (scenario b) run for real against it."""
    home = Path(tempfile.mkdtemp(prefix="ee-bench-prefect-"))
    proc, url, started = start_prefect(home)
    print(f"  Prefect server up in {started:.1f} s", flush=True)
    try:
        warm = warm_state("flow", season, stored, scratch)
        flows = []
        for i in range(runs):
            place = night_place(warm, scratch / f"flow-{i}", season, [*stored, new])
            start = time.perf_counter()
            r = run_worker(
                "flow",
                place / "raw",
                place / "warehouse.duckdb",
                place / "employment.duckdb",
                {"PREFECT_API_URL": url, "PREFECT_HOME": str(home)},
            )
            r["process_wall_s"] = time.perf_counter() - start
            flows.append(r)
            print(f"  flow run {i + 1}: {r['flow_wall_s']:.2f} s in the flow", flush=True)
            shutil.rmtree(place, ignore_errors=True)
    finally:
        stop_prefect(proc)
        shutil.rmtree(home, ignore_errors=True)
    return {
        "server_start_s": started,
        **{
            key: statistics.median(r[key] for r in flows)
            for key in ("imports_s", "flow_wall_s", "flow_cpu_s", "peak_rss_mb", "process_wall_s")
        },
    }


def _by_date(files: list[dict]) -> list[str]:
    regs = [f for f in files if f["kind"] == "registrations"]
    return [f["path"] for f in sorted(regs, key=lambda f: (f["as_of"], f["path"]))]


def _pick_stored(
    ordered: list[str], n: int, key_dates: set[str], dates: dict[str, str]
) -> list[str]:
    """n of the stored exports: the node dates and 1 Dec, then others spread evenly."""
    keys = [p for p in ordered if dates[p] in key_dates]
    rest = [p for p in ordered if p not in keys]
    k = max(0, n - len(keys))
    step = (len(rest) - 1) / max(1, k - 1) if k > 1 else 0
    picks = {rest[round(i * step)] for i in range(k)} if rest else set()
    return [p for p in ordered if p in keys or p in picks][:n]


def machine() -> dict:
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    return {
        "cores": os.cpu_count(),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "loadavg": [float(x) for x in load],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _row(label: str, m: dict) -> str:
    return f"  {label:<10}{m['wall_s']:>9.2f}{m['cpu_s']:>9.2f}{m['peak_rss_mb']:>11.0f}"


def print_table(report: dict) -> None:
    mc = report["machine"]
    print()
    print(f"machine: {mc['cores']} cores (nproc {mc['nproc']}), Python {mc['python']}")
    print(f"load average: before {report['load_before']}, after {report['load_after']}")
    print(f"median of {report['runs']} runs; wall s, CPU s, peak RSS MB (per stage: see header)")
    titles = {
        "a": "(a) full rebuild, 1× season of {exports} exports",
        "b": "(b) nightly: {stored} stored + 1 new export",
        "c": "(c) nightly: {stored} stored + 1 new export",
        "d": "(d) one CSV export of {graduates:,} graduates, full run",
    }
    for key, sc in report["scenarios"].items():
        print()
        print(titles[key].format(**sc["params"]))
        print(f"  {'stage':<10}{'wall s':>9}{'CPU s':>9}{'peak MB':>11}")
        for stage in (*STAGES, "total"):
            print(_row(stage, sc["median"][stage]))
    st = report["startup"]
    print()
    print(
        f"interpreter start {st['interpreter']:.2f} s; + pipeline imports "
        f"{st['pipeline_imports']:.2f} s; + flow imports (Prefect) {st['flow_imports']:.2f} s"
    )
    pf = report.get("prefect")
    if pf:
        stages = report["scenarios"]["b"]["median"]["total"]["wall_s"]
        print(
            f"Prefect server start {pf['server_start_s']:.1f} s; nightly flow (b) against it: "
            f"{pf['flow_wall_s']:.2f} s in the flow (stages alone {stages:.2f} s), "
            f"{pf['process_wall_s']:.2f} s for the whole process"
        )
    print()
    for name, verdict in report["targets"].items():
        print(f"  target {name}: {verdict}")


def judge(report: dict) -> dict:
    sc = report["scenarios"]
    out = {}

    def total(k: str) -> float:
        return sc[k]["median"]["total"]["wall_s"]

    for k, limit in TARGETS.items():
        if k in sc:
            t = total(k)
            out[f"({k}) <= {limit:g} s"] = f"{t:.2f} s — {'met' if t <= limit else 'MISSED'}"
    if "b" in sc and "c" in sc:
        ratio = total("b") / total("c")
        verdict = "met" if ratio <= TARGET_RATIO_BC else "MISSED"
        out[f"(b)/(c) <= {TARGET_RATIO_BC}"] = f"{ratio:.2f} — {verdict}"
    if "d" in sc:
        rss = sc["d"]["median"]["total"]["peak_rss_mb"]
        verdict = "met" if rss <= TARGET_RSS_D_MB else "MISSED"
        out["(d) peak RSS <= 4 GB"] = f"{rss:.0f} MB — {verdict}"
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=3, help="timed runs per scenario (median)")
    p.add_argument("--quick", action="store_true", help="small data, 1 run: a smoke test")
    p.add_argument("--scenarios", default="abcd", help="subset of abcd")
    p.add_argument("--no-prefect", action="store_true", help="skip the Prefect server and flow")
    p.add_argument("--data", type=Path, default=RESULTS / "data", help="generated data cache")
    p.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    p.add_argument("--worker", choices=("stages", "flow"), help=argparse.SUPPRESS)
    p.add_argument("--profile", help=argparse.SUPPRESS)  # worker: pyinstrument text per stage
    for opt in ("--raw", "--work", "--marts", "--as-of", "--result"):
        p.add_argument(opt, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker_main(args)
        return 0

    runs = 1 if args.quick else args.runs
    season_exports = QUICK["season_exports"] if args.quick else SEASON_EXPORTS
    big_scale = QUICK["big_scale"] if args.quick else BIG_SCALE
    load_before = machine()["loadavg"]
    started = time.perf_counter()
    args.data.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="ee-bench-"))
    report: dict = {
        "command": "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "runs": runs,
        "load_before": load_before,
        "scenarios": {},
    }
    try:
        season = generate(args.data, 1, season_exports, "mixed")
        print("(a) full rebuild of the season", flush=True)
        median_a, first = scenario_full("a", season, scratch, runs)
        report["scenarios"]["a"] = {
            "params": {"exports": season_exports, "scale": 1},
            "median": median_a,
            "models": first["models"],
        }
        ordered = _by_date(first["files"])  # the exports by as-of date
        dates = {f["path"]: f["as_of"] for f in first["files"]}
        stored_all, new_rel = ordered[:-1], ordered[-1]
        new = season / new_rel
        stored = [season / p for p in stored_all]
        if "b" in args.scenarios:
            print(f"(b) nightly: {len(stored)} stored + {new_rel}", flush=True)
            report["scenarios"]["b"] = {
                "params": {"stored": len(stored), "new": new_rel},
                "median": scenario_nightly("b", season, stored, new, scratch, runs),
            }
        if "c" in args.scenarios:
            from employment_eval.generate import load_season

            key = {d.isoformat() for d in load_season(YEAR).key_dates}
            few = [season / p for p in _pick_stored(stored_all, FEW_STORED, key, dates)]
            print(f"(c) nightly: {len(few)} stored + {new_rel}", flush=True)
            report["scenarios"]["c"] = {
                "params": {"stored": len(few), "new": new_rel},
                "median": scenario_nightly("c", season, few, new, scratch, runs),
            }
        if "d" in args.scenarios:
            big = generate(args.data, big_scale, 1, "csv")
            print("(d) one big CSV export, full run", flush=True)
            median_d, first_d = scenario_full("d", big, scratch, runs)
            report["scenarios"]["d"] = {
                "params": {"scale": big_scale, "graduates": graduates(big)},
                "median": median_d,
                "models": first_d["models"],
            }
        print("start-up costs", flush=True)
        report["startup"] = startup_costs(max(3, runs))
        if not args.no_prefect:
            print("Prefect: server start and the nightly flow (b)", flush=True)
            report["prefect"] = prefect_section(season, stored, new, scratch, runs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report["load_after"] = machine()["loadavg"]
    report["bench_seconds"] = time.perf_counter() - started
    report["targets"] = judge(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print_table(report)
    print(f"\nwritten: {args.out} ({report['bench_seconds']:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
