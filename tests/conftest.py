"""Test session setup: one Prefect server for the whole session (all xdist workers share it),
so CLI tests in subprocesses and in-process flow runs never start a temporary server each."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

from employment_eval import prefect_server

# CI explores the same examples every run (a red CI must be reproducible); locally hypothesis
# keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

_SERVER: dict[str, object] = {}


def _start_prefect_server() -> None:
    home = Path(tempfile.mkdtemp(prefix="ee-prefect-"))
    proc, url = prefect_server.start(home, timeout=120)
    os.environ["PREFECT_API_URL"] = url
    os.environ["PREFECT_HOME"] = str(home)
    _SERVER.update(proc=proc, home=home)


def pytest_configure(config: pytest.Config) -> None:
    # Only the controlling process starts the server; xdist workers inherit PREFECT_API_URL.
    if hasattr(config, "workerinput") or os.environ.get("PREFECT_API_URL"):
        return
    _start_prefect_server()


def pytest_unconfigure(config: pytest.Config) -> None:
    proc = _SERVER.get("proc")
    if proc is not None:
        prefect_server.stop(proc)  # type: ignore[arg-type]
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
