"""Every command of README.md and docs/QUERIES.md runs exactly as written.

The commands run in a sandbox laid out like the repository after `make demo` (a generated
season in data/raw, published by a real `employment-eval run`, and the project's .venv), so
`.venv/bin/duckdb -readonly data/marts/employment.duckdb "…"` is tried with the DuckDB CLI that
the project installs. `make demo` and `make test` are the CI script's own commands (.ci/run);
the scheduled-runs block starts the Prefect server and the serving process as written and
checks that both deployments are registered."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from employment_eval.paths import PROJECT_ROOT

pytestmark = [pytest.mark.cli, pytest.mark.xdist_group("readme_commands")]

README = PROJECT_ROOT / "README.md"
QUERIES = PROJECT_ROOT / "docs" / "QUERIES.md"
BIN = PROJECT_ROOT / ".venv" / "bin"


def blocks(path: Path, language: str) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def commands(path: Path) -> list[str]:
    """Shell commands of the bash blocks (comments stripped, continuation lines joined)."""
    found = []
    for block in blocks(path, "bash"):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"):
                found.append(line)
    return found


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out like the repository after a run: data/raw, data/marts, .venv."""
    root = tmp_path_factory.mktemp("readme")
    (root / ".venv").symlink_to(PROJECT_ROOT / ".venv")
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    for args in (
        ["generate", "--out", "data/raw", "--scale", "0.2", "--exports", "5"],
        ["run", "--as-of", "2021-12-20"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "employment_eval", *args],
            cwd=root,
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    return root


def run_shell(command: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_make_demo_and_make_test_are_what_ci_runs() -> None:
    first = blocks(README, "bash")[0].splitlines()  # the README starts with the two commands
    assert first[0].startswith("make demo") and first[1].startswith("make test")
    assert README.read_text(encoding="utf-8").index("make demo") < 200
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "\nmake test\n" in ci and 'make demo PY="${newest' in ci


@pytest.mark.parametrize("path", [README, QUERIES], ids=lambda p: p.name)
def test_every_analyst_command_runs_as_written(sandbox, path) -> None:
    analyst = [c for c in commands(path) if c.startswith((".venv/bin/duckdb", ".venv/bin/python"))]
    assert analyst, f"{path.name} shows no analyst command"
    for command in analyst:
        done = run_shell(command, sandbox)
        assert done.returncode == 0, (command, done.stderr[-2000:])
        assert "Error" not in done.stderr, (command, done.stderr[-2000:])
        assert done.stdout.strip(), command


def test_every_query_runs_in_the_projects_duckdb_cli(sandbox) -> None:
    """The SQL blocks of docs/QUERIES.md, through .venv/bin/duckdb on the published file."""
    queries = blocks(QUERIES, "sql")
    assert len(queries) >= 8
    for query in queries:
        done = run_shell(".venv/bin/duckdb -readonly data/marts/employment.duckdb", sandbox, query)
        assert done.returncode == 0 and "Error" not in done.stderr, (query, done.stderr)


def test_the_python_example_runs(sandbox) -> None:
    for block in blocks(QUERIES, "python"):
        done = subprocess.run(
            [str(BIN / "python"), "-c", block], cwd=sandbox, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]


def test_every_other_readme_command_is_accounted_for() -> None:
    """Nothing in README's bash blocks escapes the tests above and below."""
    known = ("make demo", "make test", "make bench", ".venv/bin/duckdb", ".venv/bin/python")
    scheduled = (
        ".venv/bin/employment-eval server",
        "export PREFECT_API_URL=",
        ".venv/bin/employment-eval serve",
    )
    for command in commands(README):
        assert command.startswith(known + scheduled), command


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_scheduled_runs_block_registers_both_deployments(sandbox, tmp_path) -> None:
    """`employment-eval server`, `export PREFECT_API_URL=…`, `employment-eval serve`, as
    written in README.md (on a free port instead of 4200, the one substitution)."""
    block = next(b for b in blocks(README, "bash") if "employment-eval serve" in b)
    lines = [
        re.sub(r"\s+#\s.*$", "", line).strip()
        for line in block.replace("\\\n", " ").splitlines()
        if line.strip()
    ]
    port = str(_free_port())
    server_cmd, export_cmd, serve_cmd = (line.replace("4200", port) for line in lines)
    url = export_cmd.split("=", 1)[1]
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PREFECT_HOME": str(tmp_path)}
    env.pop("PREFECT_API_URL", None)
    server = subprocess.Popen(
        [*shlex.split(server_cmd), "--port", port],
        cwd=sandbox,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    serve = None
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.5)
        serve = subprocess.Popen(
            shlex.split(serve_cmd),
            cwd=sandbox,
            env={**env, "PREFECT_API_URL": url},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        names: set[str] = set()
        while names != {"nightly", "year-end"}:
            assert serve.poll() is None, serve.stdout.read()[-3000:]
            assert time.monotonic() < deadline, "deployments not registered"
            time.sleep(1)
            secret = (sandbox / "data" / "work" / "prefect-api-auth").read_text().strip()
            request = urllib.request.Request(
                f"{url}/deployments/filter",
                data=b"{}",
                headers={
                    "Content-Type": "application/json",
                    "Authorization": "Basic " + base64.b64encode(secret.encode()).decode(),
                },
            )
            with urllib.request.urlopen(request, timeout=5) as resp:
                names = {d["name"] for d in json.load(resp)}
        with pytest.raises(urllib.error.HTTPError) as refused:  # the API needs the password
            urllib.request.urlopen(f"{url}/admin/version", timeout=5)
        assert refused.value.code == 401
    finally:
        for proc in (serve, server):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
    outputs = [p.stdout.read() for p in (server, serve) if p is not None]
    for text in outputs:
        assert "Traceback" not in text and "telemetry" not in text.lower()
    served = outputs[-1]  # stopped by SIGTERM, as systemd stops it: one Chinese line
    assert served.rstrip().rsplit("\n", 1)[-1].startswith("定时运行已停止")
    assert "prefect.runner" not in served and "Warning" not in served


def test_every_published_table_and_column_carries_its_comment(sandbox) -> None:
    """Through the project's DuckDB CLI (1.x, on the published storage version)."""
    published = "schema_name in ('marts', 'reference')"
    query = (
        f"select count(*) from duckdb_columns() where {published} "
        "and coalesce(comment, '') = ''; "
        f"select count(*) from duckdb_tables() where {published} "
        "and coalesce(comment, '') = ''; "
        "select count(*) from duckdb_columns() where schema_name = 'marts'; "
        "select count(*) from duckdb_columns() where schema_name = 'reference';"
    )
    done = run_shell(
        f'.venv/bin/duckdb -readonly -csv -noheader data/marts/employment.duckdb "{query}"',
        sandbox,
    )
    assert done.returncode == 0, done.stderr
    empty_columns, empty_tables, marts, reference = (int(x) for x in done.stdout.split())
    assert (empty_columns, empty_tables) == (0, 0) and marts > 80 and reference > 70
