"""The GX validator in its second process (employment_eval.gate_worker) gives exactly the gate
of the run's own process: the same results on a season with planted failures, the same error
for a suite file GX cannot load; and it never outlives its run."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time

import pytest

from employment_eval import audit, gate_worker, quality
from tests.test_audit_chunks import built, planted  # noqa: F401  (fixtures)


def _gate(con, opts, *, worker: bool) -> list[audit.CheckResult]:
    if worker:
        gate_worker.prestart(force=True)
        assert gate_worker._WORKER is not None
    with pytest.raises(audit.AuditError) as info:
        audit.audit_candidate(con, opts, None, data_docs=False, chunk_rows=1000)
    assert gate_worker._WORKER is None  # the audit used (and stopped) the worker
    return info.value.results


def _plain(results: list[audit.CheckResult]) -> list[dict]:
    return [dataclasses.asdict(r) for r in results]


def test_the_worker_gives_the_gate_of_the_run_process(planted) -> None:  # noqa: F811
    con, opts = planted
    here = _gate(con, opts, worker=False)
    there = _gate(con, opts, worker=True)
    assert any(not r.ok and r.severity == "error" for r in here)
    assert json.dumps(_plain(there), default=str) == json.dumps(_plain(here), default=str)


def test_a_suite_file_gx_cannot_load_is_the_same_error_there() -> None:
    suite = quality.load_suites()[0]
    bad = dataclasses.replace(
        suite,
        expectations=(
            {**suite.expectations[0], "type": "expect_column_values_to_be_nonsense"},
            *suite.expectations[1:],
        ),
    )
    worker = gate_worker.Worker()
    try:
        validator = worker.validator(None)
        with pytest.raises(quality.SuiteError, match="expect_column_values_to_be_nonsense"):
            validator.check_suites([bad])
        validator.check_suites([suite])  # the worker goes on serving after the error
    finally:
        worker.stop()
    assert worker.proc.returncode == 0


def test_the_worker_leaves_when_its_run_goes() -> None:
    worker = gate_worker.Worker()
    worker.proc.stdin.close()  # what a killed run leaves behind: a closed pipe
    started = time.monotonic()
    assert worker.proc.wait(timeout=60) == 0
    assert time.monotonic() - started < 60
    worker.proc.stdout.close()


def test_no_worker_once_gx_is_in_the_process() -> None:
    quality.Validator(None)  # GX imported here
    gate_worker.prestart()
    assert gate_worker._WORKER is None
    with gate_worker.validator(None) as validator:
        assert isinstance(validator, quality.Validator)


def test_the_command_line_validates_in_the_worker(tmp_path, sample_raw) -> None:
    """A real run from the command line: the worker process is started (and gone after)."""
    import os
    import sys

    args = ["run", "--raw", str(sample_raw), "--marts", str(tmp_path / "m" / "m.duckdb")]
    args += ["--work", str(tmp_path / "w" / "w.duckdb"), "--as-of", "2021-12-20"]
    probe = (
        "import sys, employment_eval.gate_worker as g\n"
        "real = g.Worker.__init__\n"
        "def spy(self):\n"
        "    real(self)\n"
        "    print('WORKER', self.proc.pid, file=sys.stderr, flush=True)\n"
        "g.Worker.__init__ = spy\n"
        "from employment_eval.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={k: v for k, v in os.environ.items() if k != gate_worker.ENV_DISABLE},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    pids = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("WORKER")]
    assert len(pids) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)
