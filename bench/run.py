"""Benchmark of the nightly pipeline: `make bench` (or `python bench/run.py`).

Generates synthetic data with `employment-eval generate` (cached under bench/results/data/),
runs the pipeline's stages (ingest → build → audit → publish: the plain functions the Prefect
tasks call) in a fresh subprocess per timed run, and prints per stage and end to end the median
of wall seconds, CPU seconds and peak RSS, each with the 1-minute load average of its runs.

Scenarios (`--scenarios`, comma-separated; docs/BENCHMARKS.md):

  a       full rebuild of a 1x season of 151 exports (mixed CSV/GB18030/BOM/xlsx)
  b, c    the nightly case: 150 (b) or 10 (c) exports already ingested, one new export;
          run in alternating rounds b, c, b, c, ... (their ratio is a target)
  size    one CSV export of 100 k, 1 M and 10 M graduates, full run, in rounds
          (100 k, 1 M, 10 M, 100 k, 1 M, ...: the 10 M run only in the first --big-runs
          rounds); growth exponents log(t2/t1)/log(n2/n1) of time and peak memory
  night10m  nightly case at 10 M: one 10 M export stored, a second one arrives
  r50     full rebuild at scale 50 with 40 CSV exports (6.3 M stored rows): peak memory
  runner  build.build_models vs. the same SQL executed directly, in one process,
          alternating rounds (ABAB...) on the demo season
  startup interpreter start and imports; prefect: the server's start and the nightly flow
          (scenario b) run for real against it
  cli     the command line as the centre runs it, whole process, against a running Prefect
          server, on the demo season (`generate` defaults): a night with one new export, then
          the same night again (nothing new), in alternating rounds

Every scenario's published marts are compared with those of a plain full rebuild of the same
inputs (the stages as plain calls, fresh working database): "identical" in the report lists
each comparison (marts.run_info, which names the run, aside).

How it measures (the same in every scenario):
- wall: time.perf_counter() around each stage inside the worker process;
- CPU: time.process_time() around each stage inside the worker: user + system CPU of the
  whole process, all its threads (DuckDB's and polars' worker threads included); the driver
  also records each worker's total CPU (resource.getrusage(RUSAGE_CHILDREN), interpreter and
  imports included) and the CPU the rest of the machine used meanwhile (/proc/stat minus the
  worker: "others' CPU"), which shows interference that a load average only hints at;
- peak RSS per stage: the high-water mark is reset at the start of each stage
  (/proc/self/clear_refs <- 5) and VmHWM read at its end; the run's peak is the largest;
- load: os.getloadavg()[0] read just before each timed run (our own previous run counts in
  it too); `--max-load L` waits (up to --load-wait seconds) until it is below L.

Results: printed, and written to bench/results/latest.json (git-ignored)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import math
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
WORK = Path("work") / "warehouse.duckdb"  # in a run's folder: working area and published
MARTS = Path("marts") / "employment.duckdb"  # folder apart, as the command line requires
FEW_STORED = 10
SIZES = {"100k": 31.81, "1m": 318.1, "10m": 3181.0}  # scale 1 = 3,144 graduates
R50 = (50.0, 40)  # scale, exports
QUICK = {"season_exports": 31, "sizes": {"100k": 3.181, "1m": 31.81}, "r50": (5.0, 8)}
ALL = ("a", "b", "c", "size", "floor", "night10m", "r50", "runner", "startup", "prefect", "cli")
TARGETS = {  # seconds of pipeline time (the stages in the process) / MB of peak RSS
    "a wall": ("a", "wall", 30.0),
    "b wall": ("b", "wall", 10.0),
    "1 M wall": ("size:1m", "wall", 60.0),
    "1 M peak": ("size:1m", "rss", 4096.0),
    "10 M wall": ("size:10m", "wall", 300.0),
    "10 M peak": ("size:10m", "rss", 8192.0),
    "night 10 M wall": ("night10m", "wall", 300.0),
    "night 10 M peak": ("night10m", "rss", 8192.0),
    "scale 50 x 40 peak": ("r50", "rss", 3072.0),
}
# whole command-line process, against a running server (scenario cli)
TARGETS_CLI = {"one new export": ("night", 3.0), "nothing new": ("nothing_new", 0.5)}
TARGET_FIRST_LINE = 0.5  # s to the command line's first console line, every case
TARGET_FLOOR_RATIO = 1.5  # one export: whole run / (DuckDB read_csv + the models' SQL)
TARGET_10M = {"wall": 70.0, "peak_mb": 3072.0}  # one 10 M export, whole process tree
TARGET_RATIO_BC = 1.5
TARGET_RATIO_RUNNER = 1.3

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

    # the audit's Great Expectations suites import it lazily: count it as an import
    with contextlib.suppress(ImportError):
        import great_expectations  # noqa: F401
    imports_s = time.perf_counter() - t0
    stages: dict[str, dict] = {}
    total = {"wall": time.perf_counter(), "cpu": time.process_time()}
    as_of = dt.date.fromisoformat(args.as_of)
    with _Stage("ingest", stages):
        opts = RunOptions.resolve(args.raw, args.marts, args.work, YEAR, as_of)
        rules = opts.rules_source.load_all()
        con = warehouse.open_work(opts.work_path)
        warehouse.log_run_start(
            con,
            run_id=opts.run_id,
            flow="bench",
            as_of=opts.as_of,
            raw_dir=opts.raw_dir,
            marts_path=opts.marts_path,
        )
        result = ingest(opts.raw_dir, con, as_of=opts.as_of, run_id=opts.run_id, rules=rules)
        warehouse.log_run_files(con, opts.run_id)
        warehouse.record_run(con, opts, rules, len(result.files))
    with _Stage("build", stages):
        built = build.build_models(con, rules)
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
            {
                "path": f.path,
                "kind": f.kind,
                "as_of": str(f.as_of_date),
                "parsed": f.parsed_now,
                "sha256": f.sha256,
            }
            for f in result.files
        ],
        "models": {m.name: m.seconds for m in built.models},
        "checks": len(results),
        "marts_digest": marts_digest(opts.marts_path),
    }


def marts_digest(path: Path) -> str:
    """The content of a published marts file: every table's rows, in order, but the run's own
    record (marts.run_info: run id, generation time; the run id of marts.input_files)."""
    import hashlib

    import duckdb

    digest = hashlib.sha256()
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "select schema_name, table_name, list(column_name) from duckdb_columns() "
            "where not internal and not (schema_name = 'marts' and table_name = 'run_info') "
            "group by all order by all"
        ).fetchall()
        for schema, table, columns in tables:
            digest.update(f"{schema}.{table}\n".encode())
            rest = "exclude (run_id)" if "run_id" in columns else ""  # (marts.input_files)
            query = f'select * {rest} from "{schema}"."{table}" order by all'
            for row in con.execute(query).fetchall():
                digest.update(repr(row).encode())
    finally:
        con.close()
    return digest.hexdigest()


def _worker_runner(args: argparse.Namespace) -> dict:
    """build.build_models against the same SQL executed directly, in alternating rounds in
    this one process, on a working database already ingested (args.work). Before each
    build_models round the in-process caches are cleared, as in a new process (the
    analysis cache file and the reference fingerprint are what a new process has)."""
    import duckdb

    from employment_eval import build, memory, runner
    from employment_eval.paths import SQL_DIR

    con = duckdb.connect(args.work)
    memory.limit(con, Path(args.work))
    build.build_models(con)  # the state after a nightly build: seeds, macros, cache file
    models = runner.topological_order(
        runner.discover(SQL_DIR, materializations=build.MATERIALIZATIONS)
    )
    statements = [
        f"create or replace {m.materialized} {m.schema}.{m.name} as\n{runner.query_body(m.sql)}\n"
        for m in models
    ]

    def direct() -> None:  # the SQL files alone, in dependency order, in one transaction
        con.execute("begin transaction")
        for statement in statements:
            con.execute(statement)
        con.execute("commit")

    def pipeline() -> None:
        runner._analyse.cache_clear()
        runner.query_body.cache_clear()
        build.build_models(con)

    rounds: dict[str, list[float]] = {"build_models": [], "direct": []}
    cpu: dict[str, list[float]] = {"build_models": [], "direct": []}
    direct()  # warm both once
    pipeline()
    for _ in range(args.rounds):
        for name, fn in (("build_models", pipeline), ("direct", direct)):
            wall, c = time.perf_counter(), time.process_time()
            fn()
            rounds[name].append(time.perf_counter() - wall)
            cpu[name].append(time.process_time() - c)
    con.close()
    return {"wall": rounds, "cpu": cpu, "models": len(models)}


def _worker_floor(args: argparse.Namespace) -> dict:
    """The floor of a one-export run: DuckDB reading the export into a table (`read_csv`,
    DuckDB's own settings), then the models' SQL executed directly (dependency order, one
    transaction) on the working database the whole run left (args.work); peak RSS per part."""
    import duckdb

    from employment_eval import build, runner
    from employment_eval.paths import SQL_DIR

    export = next((Path(args.raw) / "registrations").glob("*.csv"))
    table_db = Path(args.result).with_suffix(".floor.duckdb")
    parts: dict[str, dict] = {}
    try:
        with _Stage("read", parts):
            con = duckdb.connect(str(table_db))
            con.execute("create table export as select * from read_csv(?)", [str(export)])
            rows = con.execute("select count(*) from export").fetchone()[0]
            con.close()
    finally:
        for leftover in (table_db, table_db.with_suffix(".duckdb.wal")):
            leftover.unlink(missing_ok=True)
    models = runner.topological_order(
        runner.discover(SQL_DIR, materializations=build.MATERIALIZATIONS)
    )
    statements = [
        f"create or replace {m.materialized} {m.schema}.{m.name} as\n{runner.query_body(m.sql)}\n"
        for m in models
    ]
    with _Stage("sql", parts):
        con = duckdb.connect(args.work)
        con.execute("begin transaction")
        for statement in statements:
            con.execute(statement)
        con.execute("commit")
        con.close()
    return {"parts": parts, "rows": rows, "models": len(models)}


def _worker_flow(args: argparse.Namespace) -> dict:
    """The real Prefect flow against the server in PREFECT_API_URL."""
    t0 = time.perf_counter()
    from flows.nightly_refresh import nightly_refresh

    imports_s = time.perf_counter() - t0
    wall, cpu = time.perf_counter(), time.process_time()
    nightly_refresh(
        args.raw,
        args.marts,
        args.work,
        YEAR,
        dt.date.fromisoformat(args.as_of),
        force=not args.no_force,
    )
    return {
        "imports_s": imports_s,
        "flow_wall_s": time.perf_counter() - wall,
        "flow_cpu_s": time.process_time() - cpu,
    }


def worker_main(args: argparse.Namespace) -> None:
    _Stage.profile_dir = Path(args.profile) if args.profile else None
    workers = {
        "flow": _worker_flow,
        "runner": _worker_runner,
        "stages": _worker_stages,
        "floor": _worker_floor,
    }
    out = workers[args.worker](args)
    Path(args.result).write_text(json.dumps(out), encoding="utf-8")


# --- the driver ---------------------------------------------------------------------------------


def _env(extra: dict | None = None) -> dict:
    return {**os.environ, **ENV, **(extra or {})}


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("employment-eval")
    return [str(script)] if script.exists() else [sys.executable, "-m", "employment_eval"]


def generate(out: Path, scale: float, exports: int | None, fmt: str) -> Path:
    """`employment-eval generate` into a cached folder named by its arguments."""
    target = out / f"scale{scale:g}-exports{exports or 'default'}-{fmt}"
    stamp = target / ".complete"
    version = _generator_version()
    if stamp.exists() and version in stamp.read_text(encoding="utf-8"):
        return target  # made by this version of the generator
    shutil.rmtree(target, ignore_errors=True)
    cmd = [*_cli(), "generate", "--out", str(target), "--year", str(YEAR), "--seed", "2021"]
    cmd += ["--scale", f"{scale:g}", "--format", fmt]
    cmd += ["--exports", str(exports)] if exports else []
    print("$", " ".join(cmd[1:]), flush=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, check=True, env=_env(), capture_output=True, text=True)
    print(f"  generated in {time.perf_counter() - start:.1f} s", flush=True)
    stamp.write_text(f"{proc.stdout}\ngenerator {version}\n", encoding="utf-8")
    return target


def _generator_version() -> str:
    """A digest of the generator's code: cached data of another version is made again."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((HERE.parent / "employment_eval" / "generate").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


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


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return math.nan
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Load:
    """Waits for a quiet machine before a timed run (--max-load)."""

    max_load: float | None = None
    wait_s: float = 600.0

    @classmethod
    def before_run(cls) -> float:
        deadline = time.monotonic() + cls.wait_s
        load = os.getloadavg()[0]
        while cls.max_load is not None and load > cls.max_load and time.monotonic() < deadline:
            time.sleep(10)
            load = os.getloadavg()[0]
        return load


def run_worker(
    mode: str,
    raw: Path,
    work: Path,
    marts: Path,
    env: dict | None = None,
    extra: list[str] | None = None,
) -> dict:
    """One worker subprocess; its result plus what the driver saw: the process's wall and
    CPU seconds, the load average before it, the CPU the rest of the machine used meanwhile."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        result = Path(fh.name)
    try:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", mode]
        cmd += ["--raw", str(raw), "--work", str(work), "--marts", str(marts)]
        cmd += ["--as-of", AS_OF, "--result", str(result), *(extra or [])]
        load = Load.before_run()
        busy, cpu, wall = _busy_seconds(), _children_cpu(), time.perf_counter()
        proc = subprocess.run(cmd, env=_env(env), capture_output=True, text=True)
        wall, cpu = time.perf_counter() - wall, _children_cpu() - cpu
        busy = _busy_seconds() - busy
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit(f"benchmark run failed ({mode}, {raw})")
        out = json.loads(result.read_text(encoding="utf-8"))
        out["driver"] = {
            "load1_before": load,
            "load1_after": os.getloadavg()[0],
            "process_wall_s": wall,
            "process_cpu_s": cpu,
            "others_cpu_s": max(0.0, busy - cpu),
        }
        return out
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
    out["process_wall_s"] = statistics.median(r["driver"]["process_wall_s"] for r in runs)
    out["process_cpu_s"] = statistics.median(r["driver"]["process_cpu_s"] for r in runs)
    out["others_cpu_s"] = statistics.median(r["driver"]["others_cpu_s"] for r in runs)
    return out


def _loads(runs: list[dict]) -> dict:
    loads = [r["driver"]["load1_before"] for r in runs]
    return {"median": statistics.median(loads), "min": min(loads), "max": max(loads)}


def _summary(runs: list[dict], params: dict) -> dict:
    return {
        "params": params,
        "runs": len(runs),
        "median": _median_stages(runs),
        "load1": _loads(runs),
        "models": runs[0]["models"],
        "each": [
            {"total": r["stages"]["total"], "driver": r["driver"], "stages": r["stages"]}
            for r in runs
        ],
    }


def full_run(
    name: str,
    raw: Path | None,
    scratch: Path,
    i: int,
    exports: list[Path] | None = None,
    season: Path | None = None,
) -> dict:
    """A full rebuild: a fresh working database and no published marts (of `raw`, or of a raw
    folder made of the season's `exports` and its other files)."""
    place = scratch / f"{name}-{i}"
    shutil.rmtree(place, ignore_errors=True)
    if raw is None:
        link_tree([*exports, *_non_registration_files(season)], season, place / "raw")
        raw = place / "raw"
    try:
        r = run_worker("stages", raw, place / WORK, place / MARTS)
    finally:
        shutil.rmtree(place, ignore_errors=True)
    t = r["stages"]["total"]
    print(
        f"  {name} run {i + 1}: {t['wall_s']:.2f} s, peak {t['peak_rss_mb']:.0f} MB "
        f"(load {r['driver']['load1_before']:.2f})",
        flush=True,
    )
    return r


def _non_registration_files(season: Path) -> list[Path]:
    files = [p for p in season.rglob("*") if p.is_file() and "registrations" not in p.parts]
    return [p for p in files if not p.name.startswith(".")]


def warm_state(name: str, season: Path, stored: list[Path], scratch: Path) -> Path:
    """A working DB and published marts that have already seen the `stored` exports (and the
    ledger; not the special-groups roster, which lists students of the newest export: it
    arrives with the night's export, so the night also parses the roster)."""
    warm = scratch / f"{name}-warm"
    shutil.rmtree(warm, ignore_errors=True)
    other = [p for p in _non_registration_files(season) if "special_groups" not in p.parts]
    link_tree([*stored, *other], season, warm / "raw")
    run_worker("stages", warm / "raw", warm / WORK, warm / MARTS)
    return warm


def night_place(warm: Path, place: Path, season: Path, exports: list[Path]) -> Path:
    """A fresh copy of the warm state whose raw folder holds `exports` (the night's files)."""
    shutil.rmtree(place, ignore_errors=True)
    link_tree([*exports, *_non_registration_files(season)], season, place / "raw")
    for name in (WORK, WORK.with_name(WORK.name + ".analysis.json"), MARTS):
        if (warm / name).exists():
            (place / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(warm / name, place / name)
    return place


def night_run(name: str, warm: Path, season: Path, exports: list[Path], scratch: Path, i: int):
    place = night_place(warm, scratch / f"{name}-{i}", season, exports)
    try:
        r = run_worker("stages", place / "raw", place / WORK, place / MARTS)
    finally:
        shutil.rmtree(place, ignore_errors=True)
    parsed = [f["path"] for f in r["files"] if f["parsed"]]
    print(
        f"  {name} run {i + 1}: {r['stages']['total']['wall_s']:.2f} s, "
        f"peak {r['stages']['total']['peak_rss_mb']:.0f} MB "
        f"(load {r['driver']['load1_before']:.2f}; parsed: {', '.join(parsed) or 'none'})",
        flush=True,
    )
    return r


def _by_date(files: list[dict]) -> list[str]:
    """The exports by date, each content once (a file delivered twice is one export: its
    second copy is no new export for a nightly scenario)."""
    regs = sorted(
        (f for f in files if f["kind"] == "registrations"), key=lambda f: (f["as_of"], f["path"])
    )
    seen: set[str] = set()
    distinct = []
    for f in regs:
        if f["sha256"] not in seen:
            seen.add(f["sha256"])
            distinct.append(f["path"])
    return distinct


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


def scenario_season(report: dict, args, scratch: Path, which: set[str]) -> dict:
    """(a) full rebuilds, then (b) and (c) in alternating rounds."""
    season = generate(args.data, 1, args.season_exports, "mixed")
    out: dict = {"season": season}
    first = full_run("a", season, scratch, 0)
    runs_a = [first]
    if "a" in which:
        print("(a) full rebuild of the season", flush=True)
        runs_a += [full_run("a", season, scratch, i) for i in range(1, args.runs)]
        report["scenarios"]["a"] = _summary(
            runs_a, {"exports": args.season_exports, "scale": 1, "format": "mixed"}
        )
    ordered = _by_date(first["files"])
    dates = {f["path"]: f["as_of"] for f in first["files"]}
    stored_all, new_rel = ordered[:-1], ordered[-1]
    new = season / new_rel
    stored = [season / p for p in stored_all]
    out.update(stored=stored, new=new)
    if not which & {"b", "c"}:
        return out
    from employment_eval.generate import load_season

    key = {d.isoformat() for d in load_season(YEAR).key_dates}
    few = [season / p for p in _pick_stored(stored_all, FEW_STORED, key, dates)]
    print(f"(b)/(c) nightly: {len(stored)} or {len(few)} stored + {new_rel}, alternating")
    warm = {
        "b": warm_state("b", season, stored, scratch),
        "c": warm_state("c", season, few, scratch),
    }
    kept = {"b": stored, "c": few}
    runs: dict[str, list] = {"b": [], "c": []}
    for i in range(args.runs):
        for k in ("b", "c"):
            runs[k].append(night_run(k, warm[k], season, [*kept[k], new], scratch, i))
    for k in ("b", "c"):
        report["scenarios"][k] = _summary(runs[k], {"stored": len(kept[k]), "new": new_rel})
    # the same inputs as the nights (a resent copy of an export is no night's export)
    b_plain = full_run("b-plain", None, scratch, 0, [*stored, new], season)
    c_plain = full_run("c-plain", None, scratch, 0, [*few, new], season)
    plain = {"b": b_plain["marts_digest"], "c": c_plain["marts_digest"]}
    for k in ("b", "c"):
        same = all(r["marts_digest"] == plain[k] for r in runs[k])
        report.setdefault("identical", {})[f"{k} = plain full rebuild"] = same
    ratios = [b["stages"]["total"]["wall_s"] / c["stages"]["total"]["wall_s"]
              for b, c in zip(runs["b"], runs["c"], strict=True)]  # fmt: skip
    report["ratios"]["b/c"] = {
        "median_of_round_ratios": statistics.median(ratios),
        "ratio_of_medians": report["scenarios"]["b"]["median"]["total"]["wall_s"]
        / report["scenarios"]["c"]["median"]["total"]["wall_s"],
        "rounds": ratios,
    }
    return out


def scenario_sizes(report: dict, args, scratch: Path) -> None:
    """One CSV export of 100 k, 1 M, 10 M graduates: rounds of all sizes (10 M only in the
    first --big-runs rounds), then the growth exponents between consecutive sizes."""
    sizes = {k: v for k, v in args.sizes.items() if k in args.size_list}
    data = {k: generate(args.data, scale, 1, "csv") for k, scale in sizes.items()}
    runs: dict[str, list] = {k: [] for k in sizes}
    print("(size) one CSV export per size, in rounds", flush=True)
    for i in range(max(args.runs_size, args.big_runs)):
        for k in sizes:
            wanted = args.big_runs if k == "10m" else args.runs_size
            if i < wanted:
                runs[k].append(full_run(f"size-{k}", data[k], scratch, i))
    points = []
    for k in sizes:
        n = graduates(data[k])
        report["scenarios"][f"size:{k}"] = _summary(runs[k], {"graduates": n, "scale": sizes[k]})
        med = report["scenarios"][f"size:{k}"]["median"]
        points.append((k, n, med["total"]["wall_s"], med["total"]["peak_rss_mb"], med))
    growth = []
    for (k1, n1, t1, m1, s1), (k2, n2, t2, m2, s2) in itertools.pairwise(points):
        lg = math.log(n2 / n1)
        growth.append(
            {
                "from": k1,
                "to": k2,
                "time_exponent": math.log(t2 / t1) / lg,
                "memory_exponent": math.log(m2 / m1) / lg,
                "stage_time_exponents": {
                    s: math.log(s2[s]["wall_s"] / s1[s]["wall_s"]) / lg for s in STAGES
                },
            }
        )
    report["growth"] = growth


def scenario_night10m(report: dict, args, scratch: Path) -> None:
    season = generate(args.data, SIZES["10m"], 2, "csv")
    first = full_run("night10m-plain", season, scratch, 0)  # the marts to compare with
    new = season / _by_date(first["files"])[-1]  # the latest export (a resent copy is not new)
    stored = [p for p in sorted((season / "registrations").iterdir()) if p != new]
    print(f"(night10m) {len(stored)} stored 10 M export + {new.name}", flush=True)
    warm = warm_state("night10m", season, stored, scratch)
    runs = [night_run("night10m", warm, season, [*stored, new], scratch, i)
            for i in range(args.big_runs)]  # fmt: skip
    shutil.rmtree(warm, ignore_errors=True)
    same = all(r["marts_digest"] == first["marts_digest"] for r in runs)
    report.setdefault("identical", {})["night10m = plain full rebuild"] = same
    report["scenarios"]["night10m"] = _summary(
        runs, {"graduates": graduates(season), "stored": len(stored), "new": new.name}
    )


def scenario_r50(report: dict, args, scratch: Path) -> None:
    scale, exports = args.r50
    season = generate(args.data, scale, exports, "csv")
    print(f"(r50) full rebuild, scale {scale:g}, {exports} exports", flush=True)
    runs = [full_run("r50", season, scratch, i) for i in range(args.big_runs)]
    report["scenarios"]["r50"] = _summary(
        runs, {"scale": scale, "exports": exports, "graduates": graduates(season)}
    )


def scenario_floor(report: dict, args, scratch: Path) -> None:
    """One CSV export of 1 M and 10 M graduates against its floor, in rounds: the whole run's
    stages (a fresh process), the floor (DuckDB `read_csv` of the same file; the models' SQL
    executed directly on the working database that run left), and `employment-eval run`
    against a running Prefect server (a fresh working area: every output it writes; wall,
    first line and peak of the whole process tree). Ratios per round, then their median."""
    sizes = [k for k in ("1m", "10m") if k in args.size_list and k in args.sizes]
    data = {k: generate(args.data, args.sizes[k], 1, "csv") for k in sizes}
    home = Path(tempfile.mkdtemp(prefix="ee-bench-prefect-"))
    proc, url, _ = start_prefect(home)
    env = {"PREFECT_API_URL": url, "PREFECT_HOME": str(home)}
    rounds: dict[str, list[dict]] = {k: [] for k in sizes}
    print("(floor) one export: whole run, floor, command line, in rounds", flush=True)
    try:
        for i in range(max(args.runs_size, args.big_runs)):
            for k in sizes:
                if i >= (args.big_runs if k == "10m" else args.runs_size):
                    continue
                place = scratch / f"floor-{k}-{i}"
                whole = run_worker("stages", data[k], place / WORK, place / MARTS)
                floor = run_worker("floor", data[k], place / WORK, place / MARTS)
                shutil.rmtree(place, ignore_errors=True)
                cli = _cli_run(scratch / f"floor-cli-{k}-{i}", env, raw=data[k])
                shutil.rmtree(scratch / f"floor-cli-{k}-{i}", ignore_errors=True)
                rounds[k].append(_floor_round(whole, floor, cli))
                r = rounds[k][-1]
                print(
                    f"  {k} round {i + 1}: floor {r['floor_s']:.2f} s (read {r['read_s']:.2f} + "
                    f"SQL {r['sql_s']:.2f}); stages {r['stages_s']:.2f} s = "
                    f"{r['stages_ratio']:.2f}x (load {r['load_stages']:.2f}); command line "
                    f"{r['cli_s']:.2f} s = {r['cli_ratio']:.2f}x, peak tree "
                    f"{r['cli_peak_mb']:.0f} MB, first line {r['cli_first_line_s']:.2f} s "
                    f"(load {r['load_cli']:.2f})",
                    flush=True,
                )
    finally:
        stop_prefect(proc)
        shutil.rmtree(home, ignore_errors=True)
    report["floor"] = {
        k: {
            "graduates": graduates(data[k]),
            "rounds": v,
            "median": {key: statistics.median(r[key] for r in v) for key in v[0]},
        }
        for k, v in rounds.items()
        if v
    }


def _floor_round(whole: dict, floor: dict, cli: dict) -> dict:
    st, fp = whole["stages"], floor["parts"]
    read, sql = fp["read"]["wall_s"], fp["sql"]["wall_s"]
    return {
        "read_s": read,
        "sql_s": sql,
        "floor_s": read + sql,
        "read_peak_mb": fp["read"]["peak_rss_mb"],
        "sql_peak_mb": fp["sql"]["peak_rss_mb"],
        **{f"{s}_s": st[s]["wall_s"] for s in STAGES},
        **{f"{s}_peak_mb": st[s]["peak_rss_mb"] for s in STAGES},
        "stages_s": st["total"]["wall_s"],
        "stages_peak_mb": st["total"]["peak_rss_mb"],
        "stages_ratio": st["total"]["wall_s"] / (read + sql),
        "ingest_over_read": st["ingest"]["wall_s"] / read,
        "build_over_sql": st["build"]["wall_s"] / sql,
        "stages_process_s": whole["driver"]["process_wall_s"],
        "cli_s": cli["wall_s"],
        "cli_ratio": cli["wall_s"] / (read + sql),
        "cli_peak_mb": cli["peak_tree_mb"],
        "cli_first_line_s": cli["first_line_s"],
        "load_stages": whole["driver"]["load1_before"],
        "load_floor": floor["driver"]["load1_before"],
        "load_cli": cli["load1"],
    }


def scenario_runner(report: dict, args, scratch: Path) -> None:
    """build_models vs. direct SQL, alternating in one process, on the demo season."""
    demo = generate(args.data, 1, None, "mixed")  # what `make demo` generates
    place = scratch / "runner"
    shutil.rmtree(place, ignore_errors=True)
    run_worker("stages", demo, place / WORK, place / MARTS)
    print("(runner) build_models vs. direct SQL, alternating rounds", flush=True)
    r = run_worker(
        "runner",
        demo,
        place / WORK,
        place / MARTS,
        extra=["--rounds", str(args.runner_rounds)],
    )
    shutil.rmtree(place, ignore_errors=True)
    a, b = r["wall"]["build_models"], r["wall"]["direct"]
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    report["runner"] = {
        "rounds": len(a),
        "models": r["models"],
        "build_models_s": statistics.median(a),
        "direct_s": statistics.median(b),
        "build_models_cpu_s": statistics.median(r["cpu"]["build_models"]),
        "direct_cpu_s": statistics.median(r["cpu"]["direct"]),
        "ratio_of_medians": statistics.median(a) / statistics.median(b),
        "median_of_round_ratios": statistics.median(ratios),
        "load1": r["driver"]["load1_before"],
        "others_cpu_s": r["driver"]["others_cpu_s"],
        "each": r,
    }
    print(
        f"  build_models {statistics.median(a):.3f} s, direct {statistics.median(b):.3f} s: "
        f"{report['runner']['ratio_of_medians']:.2f}x",
        flush=True,
    )


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
    out = {"load1": os.getloadavg()[0]}
    for name, code in probes.items():
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=_env())
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times)
    return out


def prefect_section(season_info: dict, scratch: Path, runs: int) -> dict:
    """The server's start, then the nightly flow (scenario b) run for real against it."""
    season, stored, new = season_info["season"], season_info["stored"], season_info["new"]
    home = Path(tempfile.mkdtemp(prefix="ee-bench-prefect-"))
    proc, url, started = start_prefect(home)
    print(f"  Prefect server up in {started:.1f} s", flush=True)
    try:
        warm = warm_state("flow", season, stored, scratch)
        flows, idle = [], []
        for i in range(runs):
            place = night_place(warm, scratch / f"flow-{i}", season, [*stored, new])
            r = run_worker(
                "flow",
                place / "raw",
                place / WORK,
                place / MARTS,
                {"PREFECT_API_URL": url, "PREFECT_HOME": str(home)},
            )
            flows.append(r)
            # the same flow again: nothing new (what a served run costs when nothing arrived)
            idle.append(
                run_worker(
                    "flow",
                    place / "raw",
                    place / WORK,
                    place / MARTS,
                    {"PREFECT_API_URL": url, "PREFECT_HOME": str(home)},
                    extra=["--no-force"],
                )
            )
            print(
                f"  flow run {i + 1}: {r['flow_wall_s']:.2f} s in the flow; again with nothing "
                f"new {idle[-1]['flow_wall_s']:.2f} s in the flow, "
                f"{idle[-1]['driver']['process_wall_s']:.2f} s for the process",
                flush=True,
            )
            shutil.rmtree(place, ignore_errors=True)
    finally:
        stop_prefect(proc)
        shutil.rmtree(home, ignore_errors=True)
    return {
        "server_start_s": started,
        "load1": statistics.median(r["driver"]["load1_before"] for r in flows),
        **{key: statistics.median(r[key] for r in flows) for key in ("imports_s", "flow_wall_s")},
        "process_wall_s": statistics.median(r["driver"]["process_wall_s"] for r in flows),
        "nothing_new_flow_s": statistics.median(r["flow_wall_s"] for r in idle),
        "nothing_new_process_s": statistics.median(r["driver"]["process_wall_s"] for r in idle),
        "nothing_new_imports_s": statistics.median(r["imports_s"] for r in idle),
    }


def _tree_rss_kb(root: int) -> int:
    """Resident memory of a process and all its descendants (KB), from /proc."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        kids = [c for c, p in parent.items() if p == pid and c not in tree]
        tree.update(kids)
        frontier += kids
    total = 0
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    for pid in tree:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page_kb
        except (OSError, IndexError, ValueError):
            continue
    return total


def run_tree(cmd: list[str], env: dict, interval: float = 0.02) -> dict:
    """A whole command as a user runs it: wall seconds from start to exit, seconds to its
    first console line (stdout or stderr), the peak of the summed RSS of its process tree
    (sampled every `interval` s), exit code and output."""
    import threading

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first: list[float] = []
    out: dict[str, list[str]] = {"stdout": [], "stderr": []}

    def pump(stream, name: str) -> None:
        for line in stream:
            if not first:
                first.append(time.perf_counter() - start)
            out[name].append(line)

    pumps = [
        threading.Thread(target=pump, args=(proc.stdout, "stdout"), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, "stderr"), daemon=True),
    ]
    for t in pumps:
        t.start()
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(interval)
    wall = time.perf_counter() - start
    for t in pumps:
        t.join()
    return {
        "wall_s": wall,
        "first_line_s": first[0] if first else math.nan,
        "peak_tree_mb": peak / 1024,
        "returncode": proc.returncode,
        "stdout": "".join(out["stdout"]),
        "stderr": "".join(out["stderr"]),
    }


def _cli_run(
    place: Path,
    env: dict,
    raw: Path | None = None,
    cli: list[str] | None = None,
    env_whole: dict | None = None,
) -> dict:
    """`employment-eval run` as the centre runs it (run_tree: wall, first line, peak of the
    process tree), with the load before it; `env_whole`: exactly this environment, and
    --force (a run with a temporary server)."""
    load = Load.before_run()
    cmd = [*(cli or _cli()), "run", "--raw", str(raw or place / "raw")]
    cmd += ["--marts", str(place / MARTS), "--work", str(place / WORK), "--as-of", AS_OF]
    cmd += ["--force"] if env_whole is not None else []
    r = run_tree(cmd, env_whole if env_whole is not None else _env(env))
    if r["returncode"] != 0:
        sys.stderr.write(r["stdout"][-3000:] + r["stderr"][-3000:])
        raise SystemExit(f"command line run failed ({place})")
    return {**r, "load1": load}


def scenario_cli(report: dict, args, scratch: Path) -> None:
    """The demo season; the warm state has every export but the last; each round: a night
    with the last export (one new), then the same night again (nothing new). With
    --baseline, the same nights by another checkout's command line (its own .venv and warm
    state) alternate with this code's. Last, one run with a temporary server (no
    PREFECT_API_URL, --force) per code: its first console line while the server starts."""
    season = generate(args.data, 1, None, "mixed")
    ordered = _by_date(full_run("cli-order", season, scratch, 0)["files"])
    stored, new = [season / p for p in ordered[:-1]], season / ordered[-1]
    # the plain full rebuild of the night's inputs (a resent copy of an export is none)
    first = full_run("cli-plain", None, scratch, 0, [*stored, new], season)
    codes = {"this": _cli()}
    if args.baseline:
        codes["baseline"] = [str(Path(args.baseline).resolve() / ".venv/bin/employment-eval")]
    home = Path(tempfile.mkdtemp(prefix="ee-bench-prefect-"))
    proc, url, _ = start_prefect(home)
    env = {"PREFECT_API_URL": url, "PREFECT_HOME": str(home)}
    print(f"(cli) demo season: {len(stored)} stored + {ordered[-1]}; command line, whole process")
    runs: dict[str, dict[str, list]] = {c: {"night": [], "nothing_new": []} for c in codes}
    same = True
    try:
        other = [p for p in _non_registration_files(season) if "special_groups" not in p.parts]
        warm = {}
        for code, cli in codes.items():
            warm[code] = scratch / f"cli-warm-{code}"
            link_tree([*stored, *other], season, warm[code] / "raw")
            _cli_run(warm[code], env, cli=cli)
        for i in range(args.runs):
            for code, cli in codes.items():
                place = night_place(warm[code], scratch / f"cli-{code}-{i}", season, [*stored, new])
                night = _cli_run(place, env, cli=cli)
                runs[code]["night"].append(night)
                if code == "this":
                    same &= marts_digest(place / MARTS) == first["marts_digest"]
                published = (place / MARTS).read_bytes()
                again = _cli_run(place, env, cli=cli)
                assert "没有新的输入" in again["stdout"], again["stdout"]
                assert (place / MARTS).read_bytes() == published
                runs[code]["nothing_new"].append(again)
                print(
                    f"  round {i + 1} ({code}): one new export {night['wall_s']:.2f} s (first "
                    f"line {night['first_line_s']:.2f} s, load {night['load1']:.2f}), nothing "
                    f"new {again['wall_s']:.2f} s (first line {again['first_line_s']:.2f} s, "
                    f"load {again['load1']:.2f})",
                    flush=True,
                )
                shutil.rmtree(place, ignore_errors=True)
    finally:
        stop_prefect(proc)
        shutil.rmtree(home, ignore_errors=True)
    temporary = {}
    for code, cli in codes.items():  # no server: the run starts a temporary one
        place = night_place(warm[code], scratch / f"cli-tmp-{code}", season, [*stored, new])
        alone = {k: v for k, v in _env().items() if k != "PREFECT_API_URL"}
        alone["PREFECT_HOME"] = str(place / "prefect-home")
        r = _cli_run(place, {}, cli=cli, env_whole=alone)
        temporary[code] = {k: r[k] for k in ("wall_s", "first_line_s", "peak_tree_mb", "load1")}
        print(
            f"  temporary server ({code}): {r['wall_s']:.2f} s, first line "
            f"{r['first_line_s']:.2f} s (load {r['load1']:.2f})",
            flush=True,
        )
        shutil.rmtree(place, ignore_errors=True)
    report["cli"] = {
        k: {
            "median_wall_s": statistics.median(r["wall_s"] for r in v),
            "walls": [r["wall_s"] for r in v],
            "first_line_s": [r["first_line_s"] for r in v],
            "peak_tree_mb": statistics.median(r["peak_tree_mb"] for r in v),
            "load1": statistics.median(r["load1"] for r in v),
            "loads": [r["load1"] for r in v],
            "runs": len(v),
        }
        for k, v in runs["this"].items()
    }
    report["cli"]["temporary_server"] = {**temporary["this"], "first_line_s": [
        temporary["this"]["first_line_s"]]}  # fmt: skip
    if "baseline" in runs:
        report["cli_baseline"] = {
            "checkout": str(args.baseline),
            **{
                k: {
                    "median_wall_s": statistics.median(r["wall_s"] for r in v),
                    "walls": [r["wall_s"] for r in v],
                    "first_line_s": [r["first_line_s"] for r in v],
                    "loads": [r["load1"] for r in v],
                }
                for k, v in runs["baseline"].items()
            },
            "temporary_server": temporary["baseline"],
        }
    report.setdefault("identical", {})["cli night = plain full rebuild"] = same


def machine() -> dict:
    return {
        "cores": os.cpu_count(),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "loadavg": list(os.getloadavg()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }


TITLES = {
    "a": "(a) full rebuild, 1x season of {exports} exports",
    "b": "(b) nightly: {stored} stored + 1 new export",
    "c": "(c) nightly: {stored} stored + 1 new export",
    "size:100k": "(size) one CSV export of {graduates:,} graduates, full run",
    "size:1m": "(size) one CSV export of {graduates:,} graduates, full run",
    "size:10m": "(size) one CSV export of {graduates:,} graduates, full run",
    "night10m": "(night10m) nightly: a stored export of {graduates:,} graduates + a new one",
    "r50": "(r50) full rebuild, scale {scale:g} ({graduates:,} graduates) x {exports} exports",
}


def print_table(report: dict) -> None:
    mc = report["machine"]
    print()
    print(f"machine: {mc['cores']} cores (nproc {mc['nproc']}), {mc['memory_gb']} GB, ")
    print(f"Python {mc['python']}; load average before {report['load_before']}, ", end="")
    print(f"after {report['load_after']}")
    print("median over the runs; wall s, CPU s (process_time), peak RSS MB; load = 1-min load")
    for key, sc in report["scenarios"].items():
        ld = sc["load1"]
        print()
        print(TITLES.get(key, key).format(**sc["params"]))
        print(
            f"  {sc['runs']} runs, load {ld['median']:.2f} (min {ld['min']:.2f}, max "
            f"{ld['max']:.2f}); others' CPU during a run {sc['median']['others_cpu_s']:.1f} s"
        )
        print(f"  {'stage':<10}{'wall s':>9}{'CPU s':>9}{'peak MB':>11}")
        for stage in (*STAGES, "total"):
            m = sc["median"][stage]
            print(f"  {stage:<10}{m['wall_s']:>9.2f}{m['cpu_s']:>9.2f}{m['peak_rss_mb']:>11.0f}")
        print(
            f"  whole worker process: {sc['median']['process_wall_s']:.2f} s wall, "
            f"{sc['median']['process_cpu_s']:.2f} s CPU (interpreter and imports included)"
        )
    for g in report.get("growth", []):
        print(
            f"growth {g['from']} -> {g['to']}: time exponent {g['time_exponent']:.2f}, "
            f"memory exponent {g['memory_exponent']:.2f}; by stage "
            + ", ".join(f"{s} {e:.2f}" for s, e in g["stage_time_exponents"].items())
        )
    for name, r in report["ratios"].items():
        print(
            f"ratio {name}: {r['median_of_round_ratios']:.2f} (median of the rounds' ratios), "
            f"{r['ratio_of_medians']:.2f} (ratio of medians)"
        )
    rn = report.get("runner")
    if rn:
        print(
            f"runner: build_models {rn['build_models_s']:.3f} s vs direct SQL "
            f"{rn['direct_s']:.3f} s ({rn['models']} models, {rn['rounds']} rounds each, "
            f"alternating; load {rn['load1']:.2f}): {rn['ratio_of_medians']:.2f}x "
            f"(median of round ratios {rn['median_of_round_ratios']:.2f})"
        )
    st = report.get("startup")
    if st:
        print(
            f"interpreter start {st['interpreter']:.2f} s; + pipeline imports "
            f"{st['pipeline_imports']:.2f} s; + flow imports (Prefect) {st['flow_imports']:.2f} s "
            f"(load {st['load1']:.2f})"
        )
    cl = report.get("cli")
    if cl:
        for key, label in (("night", "one new export"), ("nothing_new", "nothing new")):
            c = cl[key]
            print(
                f"command line, {label}: {c['median_wall_s']:.2f} s whole process (median of "
                f"{c['runs']}, alternating; load {c['load1']:.2f}; runs "
                + ", ".join(f"{w:.2f}" for w in c["walls"])
                + ")"
            )
    if cl and "temporary_server" in cl:
        t = cl["temporary_server"]
        print(
            f"command line with a temporary server: {t['wall_s']:.2f} s, first line "
            f"{t['first_line_s'][0]:.2f} s (load {t['load1']:.2f})"
        )
    if cl:
        print(
            "first console line: "
            + "; ".join(
                f"{k} " + ", ".join(f"{x:.2f}" for x in cl[k]["first_line_s"]) + " s"
                for k in ("night", "nothing_new")
            )
        )
    bl = report.get("cli_baseline")
    if bl:
        for key, label in (("night", "one new export"), ("nothing_new", "nothing new")):
            c = bl[key]
            print(
                f"baseline ({bl['checkout']}), {label}: {c['median_wall_s']:.2f} s (runs "
                + ", ".join(f"{w:.2f}" for w in c["walls"])
                + "; first line "
                + ", ".join(f"{w:.2f}" for w in c["first_line_s"])
                + " s; loads "
                + ", ".join(f"{w:.2f}" for w in c["loads"])
                + ")"
            )
        t = bl["temporary_server"]
        print(
            f"baseline with a temporary server: {t['wall_s']:.2f} s, first line "
            f"{t['first_line_s']:.2f} s (load {t['load1']:.2f})"
        )
    for k, fl in report.get("floor", {}).items():
        m = fl["median"]
        print(
            f"floor {k} ({fl['graduates']:,} graduates, {len(fl['rounds'])} rounds, median): "
            f"DuckDB read_csv {m['read_s']:.2f} s ({m['read_peak_mb']:.0f} MB) + models' SQL "
            f"{m['sql_s']:.2f} s ({m['sql_peak_mb']:.0f} MB) = {m['floor_s']:.2f} s "
            f"(load {m['load_floor']:.2f})"
        )
        print(
            f"  stages {m['stages_s']:.2f} s = {m['stages_ratio']:.2f}x the floor (ingest "
            f"{m['ingest_s']:.2f} s = {m['ingest_over_read']:.2f}x read, build {m['build_s']:.2f}"
            f" s = {m['build_over_sql']:.2f}x SQL, audit {m['audit_s']:.2f} s, publish "
            f"{m['publish_s']:.2f} s); peak MB ingest {m['ingest_peak_mb']:.0f}, build "
            f"{m['build_peak_mb']:.0f}, audit {m['audit_peak_mb']:.0f}, publish "
            f"{m['publish_peak_mb']:.0f} (load {m['load_stages']:.2f})"
        )
        print(
            f"  command line {m['cli_s']:.2f} s = {m['cli_ratio']:.2f}x the floor; peak of the "
            f"process tree {m['cli_peak_mb']:.0f} MB; first line {m['cli_first_line_s']:.2f} s "
            f"(load {m['load_cli']:.2f})"
        )
    pf = report.get("prefect")
    if pf:
        print(
            f"Prefect server start {pf['server_start_s']:.1f} s; nightly flow (b) against it: "
            f"{pf['flow_wall_s']:.2f} s in the flow, {pf['process_wall_s']:.2f} s for the "
            f"whole process (load {pf['load1']:.2f}); the flow with nothing new: "
            f"{pf['nothing_new_flow_s']:.2f} s in the flow, {pf['nothing_new_process_s']:.2f} s "
            f"for the whole process, of which imports {pf['nothing_new_imports_s']:.2f} s"
        )
    print()
    for name, verdict in report["targets"].items():
        print(f"  target {name}: {verdict}")


def judge(report: dict) -> dict:
    sc, out = report["scenarios"], {}
    if report.get("quick"):
        return {"(quick run)": "small data: the targets are not judged"}
    for name, (key, what, limit) in TARGETS.items():
        if key not in sc:
            continue
        total = sc[key]["median"]["total"]
        value = total["wall_s"] if what == "wall" else total["peak_rss_mb"]
        unit = "s" if what == "wall" else "MB"
        verdict = "met" if value <= limit else "MISSED"
        out[f"{name} <= {limit:g} {unit}"] = f"{value:.1f} {unit} — {verdict}"
    if "b/c" in report["ratios"]:
        r = report["ratios"]["b/c"]["median_of_round_ratios"]
        out[f"(b)/(c) <= {TARGET_RATIO_BC}"] = (
            f"{r:.2f} — {'met' if r <= TARGET_RATIO_BC else 'MISSED'}"
        )
    for name, (key, limit) in TARGETS_CLI.items():
        if key in report.get("cli", {}):
            value = report["cli"][key]["median_wall_s"]
            verdict = "met" if value <= limit else "MISSED"
            out[f"{name} night, whole process <= {limit:g} s"] = f"{value:.2f} s — {verdict}"
    firsts = [t for c in report.get("cli", {}).values() for t in c.get("first_line_s", [])]
    firsts += [r["cli_first_line_s"] for f in report.get("floor", {}).values() for r in f["rounds"]]
    if firsts:
        worst = max(firsts)
        verdict = "met" if worst <= TARGET_FIRST_LINE else "MISSED"
        out[f"first console line, every run <= {TARGET_FIRST_LINE:g} s"] = (
            f"{worst:.2f} s (slowest of {len(firsts)}) — {verdict}"
        )
    for k, fl in report.get("floor", {}).items():
        m = fl["median"]
        for what in ("stages", "cli"):
            r = m[f"{what}_ratio"]
            verdict = "met" if r <= TARGET_FLOOR_RATIO else "MISSED"
            out[f"{k} {what} / floor <= {TARGET_FLOOR_RATIO:g}"] = f"{r:.2f} — {verdict}"
        if k == "10m":
            for what, value in (("stages", m["stages_s"]), ("command line", m["cli_s"])):
                verdict = "met" if value <= TARGET_10M["wall"] else "MISSED"
                out[f"10m {what} wall <= {TARGET_10M['wall']:g} s"] = f"{value:.1f} s — {verdict}"
            peak = m["cli_peak_mb"]
            verdict = "met" if peak <= TARGET_10M["peak_mb"] else "MISSED"
            out[f"10m process tree peak <= {TARGET_10M['peak_mb']:g} MB"] = (
                f"{peak:.0f} MB — {verdict}"
            )
    for name, same in report.get("identical", {}).items():
        out[f"marts identical: {name}"] = "yes" if same else "NO"
    if report.get("runner"):
        r = report["runner"]["ratio_of_medians"]
        verdict = "met" if r <= TARGET_RATIO_RUNNER else "MISSED"
        out[f"build_models / direct SQL <= {TARGET_RATIO_RUNNER}"] = f"{r:.2f} — {verdict}"
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scenarios", default=",".join(ALL), help=f"subset of {','.join(ALL)}")
    p.add_argument("--runs", type=int, default=5, help="timed runs of a, b, c (median)")
    p.add_argument("--runs-size", type=int, default=3, help="runs of the 100 k and 1 M sizes")
    p.add_argument("--big-runs", type=int, default=1, help="runs of the 10 M and r50 cases")
    p.add_argument("--sizes", default="100k,1m,10m", help="sizes of the size scenario")
    p.add_argument("--runner-rounds", type=int, default=9, help="rounds of the runner scenario")
    p.add_argument("--quick", action="store_true", help="small data, 1 run: a smoke test")
    p.add_argument("--max-load", type=float, help="wait until the 1-min load is below this")
    p.add_argument(
        "--baseline",
        metavar="DIR",
        help="cli: another checkout (with its own .venv) whose command line alternates with "
        "this one's",
    )
    p.add_argument("--load-wait", type=float, default=600.0, help="at most this long (s)")
    p.add_argument("--data", type=Path, default=RESULTS / "data", help="generated data cache")
    p.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    p.add_argument(
        "--worker", choices=("stages", "flow", "runner", "floor"), help=argparse.SUPPRESS
    )
    p.add_argument("--no-force", action="store_true", help=argparse.SUPPRESS)  # worker: flow
    p.add_argument("--profile", help=argparse.SUPPRESS)  # worker: pyinstrument text per stage
    p.add_argument("--rounds", type=int, default=9, help=argparse.SUPPRESS)
    for opt in ("--raw", "--work", "--marts", "--as-of", "--result"):
        p.add_argument(opt, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker_main(args)
        return 0

    which = {s.strip() for s in args.scenarios.split(",") if s.strip()}
    unknown = which - set(ALL)
    if unknown:
        p.error(f"unknown scenarios {sorted(unknown)}; choose from {','.join(ALL)}")
    args.size_list = [s.strip() for s in args.sizes.split(",")]
    args.season_exports, args.sizes, args.r50 = SEASON_EXPORTS, dict(SIZES), R50
    if args.quick:
        args.runs = args.runs_size = args.big_runs = 1
        args.runner_rounds = 3
        args.season_exports, args.r50 = QUICK["season_exports"], QUICK["r50"]
        args.sizes = dict(QUICK["sizes"])
        args.size_list = list(args.sizes)
    Load.max_load, Load.wait_s = args.max_load, args.load_wait
    load_before = list(os.getloadavg())
    started = time.perf_counter()
    args.data.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="ee-bench-", dir=RESULTS))  # on the data's disk
    report: dict = {
        "command": "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "load_before": load_before,
        "quick": args.quick,
        "scenarios": {},
        "ratios": {},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after each scenario: a later failure keeps what was measured
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")

    try:
        season_info = None
        if which & {"a", "b", "c", "prefect"}:
            season_info = scenario_season(report, args, scratch, which)
            save()
        if "size" in which:
            scenario_sizes(report, args, scratch)
            save()
        if "floor" in which:
            scenario_floor(report, args, scratch)
            save()
        if "night10m" in which and not args.quick:
            scenario_night10m(report, args, scratch)
            save()
        if "r50" in which:
            scenario_r50(report, args, scratch)
            save()
        if "runner" in which:
            scenario_runner(report, args, scratch)
            save()
        if "startup" in which:
            print("start-up costs", flush=True)
            report["startup"] = startup_costs(max(3, args.runs))
        if "cli" in which:
            scenario_cli(report, args, scratch)
            save()
        if "prefect" in which and season_info is not None:
            print("Prefect: server start and the nightly flow (b)", flush=True)
            report["prefect"] = prefect_section(season_info, scratch, args.runs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report["load_after"] = list(os.getloadavg())
    report["bench_seconds"] = time.perf_counter() - started
    report["targets"] = judge(report)
    save()
    print_table(report)
    print(f"\nwritten: {args.out} ({report['bench_seconds']:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
