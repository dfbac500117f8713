"""The served flow takes orders from no one: `employment-eval server` puts Prefect's API behind
a password kept 0600 in the working folder, and `serve` binds the paths at its start, so that
an API call can choose only the as-of date and `force`.

The end-to-end test starts both commands on a free port with a temporary working folder,
publishes a season through the API (as the service's own account, with the secret), then acts
as a second local user (`nobody`, via runuser or setpriv): without the secret every request is
refused (401, and the websocket handshake too); with the secret (a user who got hold of it) a
run naming a path is created but refused — Failed, in Chinese — and nothing is written
anywhere: marts, raw and working database byte-identical, the target file not created."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from employment_eval import prefect_auth, prefect_server
from employment_eval.failures import UsageError
from employment_eval.paths import PROJECT_ROOT
from flows import served
from tests.cli_helpers import cli

# --- in-process: the pieces ------------------------------------------------------------------


def test_only_as_of_and_force_are_accepted(tmp_path, monkeypatch) -> None:
    bound = served.Bound(
        tmp_path / "raw", tmp_path / "m.duckdb", tmp_path / "w.duckdb", None, tmp_path
    )
    monkeypatch.setenv(served.ENVIRONMENT, bound.to_environment())
    assert served.Bound.from_environment() == bound
    assert served.checked_parameters({"as_of": "2021-12-20"}) == {
        "as_of": dt.date(2021, 12, 20),
        "force": False,
    }
    assert served.checked_parameters({}) == {"as_of": None, "force": False}
    with pytest.raises(served.ParametersRefused) as info:
        served.checked_parameters({"as_of": "2021-12-20", "work_path": "/tmp/x.duckdb"})
    assert "work_path" in str(info.value) and "/tmp/x.duckdb" not in str(info.value)
    assert "已拒绝：未读取、未写入任何文件" in str(info.value)
    for bad in ({"as_of": "12/20/2021"}, {"as_of": 20211220}, {"force": "yes"}):
        with pytest.raises(served.ParametersRefused):
            served.checked_parameters(bad)
    monkeypatch.delenv(served.ENVIRONMENT)
    with pytest.raises(served.ParametersRefused, match="只能由 employment-eval serve 执行"):
        served.checked_parameters({"as_of": "2021-12-20"})


def test_the_deployments_have_no_path_parameter() -> None:
    from flows.schedules import deployments

    for d in deployments():
        assert set(d.flow.parameters.properties) == {"as_of", "force"}
        assert d.flow.on_crashed_hooks == [served.refused_in_chinese]


def test_the_secret_is_made_once_private_and_a_readable_one_is_refused(tmp_path) -> None:
    first = prefect_auth.ensure_secret(tmp_path)
    assert first.startswith("employment-eval:") and len(first) > 40
    path = prefect_auth.secret_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert prefect_auth.ensure_secret(tmp_path) == first == prefect_auth.read_secret(tmp_path)
    path.chmod(0o644)
    with pytest.raises(UsageError, match="其他账户也能读取"):
        prefect_auth.ensure_secret(tmp_path)


def test_a_non_loopback_host_needs_allow_remote(tmp_path) -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert prefect_auth.check_host(host, allow_remote=False) is None
    warning = prefect_auth.check_host("0.0.0.0", allow_remote=True)
    assert warning is not None and "没有加密" in warning
    result = cli("server", "--host", "0.0.0.0", "--work", str(tmp_path / "w" / "w.duckdb"))
    assert result.returncode == 2, result.stderr
    assert "--allow-remote" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "w").exists()  # refused before anything was created


# --- end to end, as a second user --------------------------------------------------------------

AS_OF = "2021-12-20"
RETRIES = 8
NOBODY_SCRIPT = r"""
import base64, json, socket, sys, time, urllib.error, urllib.request
url, deployment, secret, target, raw = sys.argv[1:6]
port = int(url.split(":")[2].split("/")[0])

def call(path, body=None, auth=None):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode() if body else None,
                                     method="POST" if body is not None else "GET",
                                     headers={"Content-Type": "application/json"})
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    for attempt in range(8):  # a busy server answers 503 (its database is locked)
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            if exc.code not in (429, 503) or attempt == 7:
                return exc.code, None
            time.sleep(1 + attempt)

def websocket_status(path):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall((f"GET /api{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        return int(s.recv(200).split()[1])

out = {"uid": __import__("os").getuid()}
out["no_secret"] = [
    call("/admin/version")[0],
    call("/deployments/filter", {})[0],
    call(f"/deployments/{deployment}/create_flow_run", {"parameters": {"work_path": target}})[0],
    call("/flow_runs/filter", {})[0],
]
out["websockets"] = [websocket_status(p) for p in ("/events/out", "/events/in", "/logs/out")]
runs = [
    {"parameters": {"work_path": target, "raw_dir": raw, "marts_path": target + ".marts"}},
    {"parameters": {"as_of": "2021-12-20", "work_path": target},
     "enforce_parameter_schema": False},
]
out["with_secret"] = []
for body in runs:
    status, run = call(f"/deployments/{deployment}/create_flow_run", body, secret)
    out["with_secret"].append([status, run and run["id"]])
print(json.dumps(out))
"""


def _as_nobody() -> tuple[list[str], str] | None:
    """(the command prefix that runs as `nobody`, a Python it can run), or None."""
    if os.geteuid() != 0:
        return None
    pythons = [p for p in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3") if p]
    for prefix in (
        ["runuser", "-u", "nobody", "--"],
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"],
    ):
        if shutil.which(prefix[0]) is None:
            continue
        for python in pythons:
            probe = [*prefix, python, "-c", "import os, json, socket, urllib.request"]
            if subprocess.run(probe, capture_output=True, timeout=30).returncode == 0:
                return prefix, python
    return None


class Api:
    """The service's own client: urllib with the secret."""

    def __init__(self, url: str, secret: str):
        self.url = url
        self.header = "Basic " + base64.b64encode(secret.encode()).decode()

    def call(self, path: str, body: object = None) -> object:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method="POST" if data is not None else "GET",
            headers={"Content-Type": "application/json", "Authorization": self.header},
        )
        for attempt in range(RETRIES):  # a busy server answers 503 (its database is locked)
            try:
                with urllib.request.urlopen(request, timeout=30) as resp:
                    return json.loads(resp.read() or b"null")
            except urllib.error.HTTPError as exc:
                if exc.code not in (429, 503) or attempt == RETRIES - 1:
                    raise
                time.sleep(1 + attempt)
        raise AssertionError("not reached")

    def deployments(self, timeout: float = 90) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = {d["name"]: d for d in self.call("/deployments/filter", {})}  # type: ignore[union-attr]
            if {"nightly", "year-end"} <= set(found):
                return found
            time.sleep(1)
        raise AssertionError("serve did not register its deployments")

    def wait(self, run_id: str, timeout: float = 180) -> dict:
        """The run once it has finished. A crash is turned into a failure by the serving
        process's hook, so a Crashed state is waited on a little longer."""
        deadline = time.monotonic() + timeout
        crashed_at = None
        while time.monotonic() < deadline:
            run: dict = self.call(f"/flow_runs/{run_id}")  # type: ignore[assignment]
            state = run["state_type"]
            if state in ("COMPLETED", "FAILED", "CANCELLED"):
                return run
            if state == "CRASHED":
                crashed_at = crashed_at or time.monotonic()
                if time.monotonic() - crashed_at > 30:
                    return run
            time.sleep(0.5)
        raise AssertionError(f"flow run {run_id} did not finish")


def _digests(*folders: Path, skip: str = "prefect") -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file() and skip not in p.relative_to(folder).parts
    }


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as fh:  # the child keeps its own handle
        return subprocess.Popen(
            [sys.executable, "-m", "employment_eval", *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.cli
def test_a_second_user_cannot_steer_the_served_runs(tmp_path: Path) -> None:
    nobody = _as_nobody()
    if nobody is None:
        pytest.skip("needs root and runuser or setpriv to act as the user nobody")
    prefix, python = nobody
    from employment_eval.generate import generate

    raw = tmp_path / "raw"
    generate(raw, year=2021, seed=7, scale=0.2, exports=3, fmt="csv")
    work, marts = tmp_path / "work" / "w.duckdb", tmp_path / "marts" / "e.duckdb"
    drop = tmp_path / "drop"  # a folder anyone may write into, as an attacker would pick
    drop.mkdir(mode=0o1777)
    drop.chmod(0o1777)
    target = drop / "stolen.duckdb"

    port = prefect_server.free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(DO_NOT_TRACK="1", PREFECT_UI_ENABLED="false", PREFECT_LOGGING_LEVEL="WARNING")
    server = _start(
        ["server", "--port", str(port), "--work", str(work)], env, tmp_path / "server.log"
    )
    serve = None
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        secret_file = prefect_auth.secret_path(work.parent)
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(work.parent.stat().st_mode) == 0o700
        serve = _start(
            ["serve", "--raw", str(raw), "--marts", str(marts), "--work", str(work)],
            {**env, "PREFECT_API_URL": url, "PREFECT_RUNNER_POLL_FREQUENCY": "1"},
            tmp_path / "serve.log",
        )
        api = Api(url, secret_file.read_text(encoding="utf-8").strip())
        nightly = api.deployments()["nightly"]
        assert nightly["parameters"] == {}
        assert set(nightly["parameter_openapi_schema"]["properties"]) == {"as_of", "force"}

        # the service publishes through the API (as_of only): a good published state
        good = api.call(
            f"/deployments/{nightly['id']}/create_flow_run", {"parameters": {"as_of": AS_OF}}
        )
        run = api.wait(good["id"])  # type: ignore[index]
        assert run["state_type"] == "COMPLETED", (tmp_path / "serve.log").read_text()[-3000:]
        before = _digests(raw, marts.parent, work.parent)
        assert str(marts) in before

        # a second local user, first without the secret, then with it
        secret = secret_file.read_text(encoding="utf-8").strip()
        args = [url, nightly["id"], secret, str(target), str(raw)]
        result = subprocess.run(
            [*prefix, python, "-c", NOBODY_SCRIPT, *args],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        seen = json.loads(result.stdout)
        assert seen["uid"] != 0
        assert seen["no_secret"] == [401, 401, 401, 401]
        assert all(code != 101 for code in seen["websockets"]), seen  # no websocket either
        runs = [run_id for status, run_id in seen["with_secret"] if status == 201]
        assert len(runs) == 2, seen  # created: the server cannot tell them from a good run
        for run_id in runs:
            refused = api.wait(run_id)
            assert refused["state_type"] == "FAILED", refused["state"]
            message = refused["state"]["message"]
            assert "已拒绝：未读取、未写入任何文件" in message and "work_path" in message
            assert str(target) not in message
        assert not target.exists() and not list(drop.iterdir())  # no file, no lock beside it
        assert _digests(raw, marts.parent, work.parent) == before  # nothing written anywhere
    finally:
        if serve is not None:
            _stop(serve)
        _stop(server)
