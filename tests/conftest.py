"""Test session setup: one Prefect server for the whole session (all xdist workers share it),
so CLI tests in subprocesses and in-process flow runs never start a temporary server each."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from hypothesis import settings

# CI explores the same examples every run (a red CI must be reproducible); locally hypothesis
# keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

_SERVER: dict[str, object] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_prefect_server() -> None:
    home = Path(tempfile.mkdtemp(prefix="ee-prefect-"))
    port = _free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    log = open(home / "server.log", "wb")  # noqa: SIM115 - kept open for the server's life
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-ui",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((home / "server.log").read_text()[-3000:])
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("Prefect server did not start in 120 s")
    os.environ["PREFECT_API_URL"] = url
    os.environ["PREFECT_HOME"] = str(home)
    _SERVER.update(proc=proc, home=home, log=log)


def pytest_configure(config: pytest.Config) -> None:
    # Only the controlling process starts the server; xdist workers inherit PREFECT_API_URL.
    if hasattr(config, "workerinput") or os.environ.get("PREFECT_API_URL"):
        return
    _start_prefect_server()


def pytest_unconfigure(config: pytest.Config) -> None:
    proc = _SERVER.get("proc")
    if proc is not None:
        proc.terminate()  # type: ignore[union-attr]
        try:
            proc.wait(timeout=20)  # type: ignore[union-attr]
        except subprocess.TimeoutExpired:
            proc.kill()  # type: ignore[union-attr]
        shutil.rmtree(_SERVER["home"], ignore_errors=True)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated synthetic season (seed 7), shared read-only by the tests of a worker."""
    from employment_eval.generate import generate

    out = tmp_path_factory.mktemp("sample") / "raw"
    generate(out, year=2021, seed=7, scale=0.5, exports=8)
    for path in out.rglob("*"):
        if path.is_file():
            path.chmod(0o444)
    return out
