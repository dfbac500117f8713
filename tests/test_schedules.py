"""The scheduled deployments: both registered with their Asia/Shanghai crons by the serving
process, and a triggered run of the nightly deployment completes and publishes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from employment_eval.paths import PROJECT_ROOT
from flows import schedules

pytestmark = pytest.mark.cli


def test_crons_are_in_shanghai_time() -> None:
    assert schedules.TIMEZONE == "Asia/Shanghai"
    assert schedules.NIGHTLY_CRON == "0 2 * 6-12 *"
    assert schedules.YEAR_END_CRON == "0 9 20 12 *"


def _wait_for_deployments(client, names: list[str], timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return {name: client.read_deployment_by_name(name) for name in names}
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def test_served_deployments_run_on_trigger(tmp_path: Path, sample_raw: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    raw = tmp_path / "raw"
    shutil.copytree(sample_raw, raw)
    marts, work = tmp_path / "marts" / "e.duckdb", tmp_path / "work" / "w.duckdb"
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows.schedules",
            "--raw",
            str(raw),
            "--marts",
            str(marts),
            "--work",
            str(work),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PREFECT_RUNNER_POLL_FREQUENCY": "2"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        with get_client(sync_client=True) as client:
            found = _wait_for_deployments(
                client, ["nightly_refresh/nightly", "year_end_scoreboard/year-end"]
            )
        crons = {
            name: [(s.schedule.cron, s.schedule.timezone, s.active) for s in dep.schedules]
            for name, dep in found.items()
        }
        assert crons == {
            "nightly_refresh/nightly": [("0 2 * 6-12 *", "Asia/Shanghai", True)],
            "year_end_scoreboard/year-end": [("0 9 20 12 *", "Asia/Shanghai", True)],
        }
        run = run_deployment(
            "nightly_refresh/nightly", parameters={"as_of": "2021-12-20"}, timeout=300
        )
        assert run.state is not None and run.state.is_completed(), (
            run.state,
            (tmp_path / "serve.log").read_text(errors="replace")[-3000:],
        )
        con = duckdb.connect(str(marts), read_only=True)
        assert con.execute("select count(*) from marts.scoreboard").fetchone() == (15,)
        con.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
