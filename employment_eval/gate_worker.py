"""The Great Expectations validator in a second process, started before it is needed.

Importing Great Expectations costs seconds of one core (docs/BENCHMARKS.md), and a run only
needs it at the audit step, after ingest and build. A run therefore starts this worker first:
it imports GX on the second core while the run imports Prefect, ingests and builds, and then
validates the frames the run sends it. It is the same `quality.Validator` (the same suites,
the same GX code, every expectation on every row); only where it runs changes.

Protocol: pickled messages over the worker's stdin/stdout. The parent sends
("validate", suite, frames, parameters) per suite — frames are the suite's chunks, sent one
message at a time ("chunk", frame) and closed by ("end",) — and finally ("docs",) or
("stop",). The worker answers each with ("ok", value) or ("error", type name, message).
The worker never talks to Prefect, and exits when its stdin closes (a killed parent).
Frames may hold personal data: they only travel between the run's own two processes."""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from employment_eval import quality

ENV_DISABLE = "EMPLOYMENT_EVAL_GATE_IN_PROCESS"  # "1": validate in the run's own process


class WorkerError(Exception):
    """The validator process failed or went away."""


class _Channel:
    def __init__(self, proc: subprocess.Popen):
        self.proc = proc

    def send(self, message: tuple) -> None:
        try:
            pickle.dump(message, self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerError(f"质量检查进程已退出（{exc}）") from exc

    def receive(self) -> Any:
        try:
            reply = pickle.load(self.proc.stdout)
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            raise WorkerError(f"质量检查进程意外退出（退出码 {self.proc.poll()}）") from exc
        if reply[0] == "error":
            if reply[1] == "SuiteError":  # a suite file that GX cannot load: as in-process
                raise quality.SuiteError(reply[2])
            raise WorkerError(f"质量检查进程出错：{reply[1]}：{reply[2]}")
        return reply[1]


class RemoteValidator:
    """`quality.Validator`'s interface, served by the worker process."""

    def __init__(self, channel: _Channel, docs_dir: Path | None):
        self._channel = channel
        self._channel.send(("open", docs_dir))
        self._channel.receive()

    def check_suites(self, suites: list[quality.Suite]) -> None:
        self._channel.send(("check", suites))
        self._channel.receive()

    def validate(self, suite: quality.Suite, frames: Any, parameters: dict[str, list]) -> list:
        self._channel.send(("validate", suite, parameters))
        single = hasattr(frames, "iloc") or hasattr(frames, "num_rows")  # one table or frame
        for frame in [frames] if single else frames:  # Arrow tables: converted in the worker
            self._channel.send(("chunk", frame))
        self._channel.send(("end",))
        return self._channel.receive()

    def build_docs(self) -> Path | None:
        self._channel.send(("docs",))
        return self._channel.receive()


class Worker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "employment_eval.gate_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.channel = _Channel(self.proc)

    def validator(self, docs_dir: Path | None) -> RemoteValidator:
        return RemoteValidator(self.channel, docs_dir)

    def stop(self) -> None:
        with contextlib.suppress(WorkerError, ValueError):
            self.channel.send(("stop",))
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            self.proc.stdout.close()


_WORKER: Worker | None = None


def prestart(*, force: bool = False) -> None:
    """Start the worker now (GX imports while the run does other work). Idempotent; nothing
    to gain once GX is imported in this process (a long-lived process validates in it),
    unless `force`."""
    global _WORKER
    if _WORKER is None and (
        force or (os.environ.get(ENV_DISABLE) != "1" and "great_expectations" not in sys.modules)
    ):
        try:
            _WORKER = Worker()
        except OSError:
            _WORKER = None  # validate in this process instead


def validator(docs_dir: Path | None):
    """The prestarted worker's validator (it serves one run), else one in this process."""
    global _WORKER
    worker, _WORKER = _WORKER, None
    if worker is None or worker.proc.poll() is not None:
        return contextlib.nullcontext(quality.Validator(docs_dir))
    return _serving(worker, docs_dir)


@contextlib.contextmanager
def _serving(worker: Worker, docs_dir: Path | None) -> Iterator[RemoteValidator]:
    try:
        yield worker.validator(docs_dir)
    finally:
        worker.stop()


@contextlib.contextmanager
def early() -> Iterator[None]:
    """A run's span: the worker starts now and is gone at the end, used or not."""
    prestart()
    try:
        yield
    finally:
        shutdown()


def shutdown() -> None:
    """Stop a prestarted worker that no audit used (a failed or a no-op run)."""
    global _WORKER
    worker, _WORKER = _WORKER, None
    if worker is not None:
        worker.stop()


# --- the worker process -----------------------------------------------------------------------


def _serve(stdin, stdout) -> None:
    quality.prepare_gx_import()
    import great_expectations  # noqa: F401  (the point of the worker: import it early)

    def reply(message: tuple) -> None:
        pickle.dump(message, stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()

    validator: quality.Validator | None = None
    while True:
        try:
            message = pickle.load(stdin)
        except EOFError:
            _exit()  # the run ended (or was killed)
        kind = message[0]
        try:
            if kind == "stop":
                _exit()
            if kind == "open":
                validator = quality.Validator(message[1])
                reply(("ok", None))
            elif kind == "check":
                validator.check_suites(message[1])
                reply(("ok", None))
            elif kind == "validate":
                suite, parameters = message[1], message[2]
                chunks = _Chunks(stdin)
                try:
                    outcomes = validator.validate(suite, chunks, parameters)
                finally:
                    chunks.drain()  # keep the protocol in step whatever happened
                reply(("ok", outcomes))
            elif kind == "docs":
                reply(("ok", validator.build_docs()))
        except Exception as exc:  # sent back to the run, which reports it
            reply(("error", type(exc).__name__, str(exc)))


def _exit() -> None:
    """Leave at once: nothing to flush (replies are flushed as sent), and tearing down an
    interpreter that holds GX costs the run most of a second (it waits for the worker)."""
    sys.stdout.flush()
    os._exit(0)


class _Chunks:
    """The chunks of one suite's frame, read as the validator asks for them."""

    def __init__(self, stdin) -> None:
        self._stdin = stdin
        self._ended = False

    def __iter__(self) -> Iterator[Any]:
        while not self._ended:
            message = pickle.load(self._stdin)
            if message[0] == "end":
                self._ended = True
                return
            yield message[1]

    def drain(self) -> None:
        for _ in self:
            pass


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
