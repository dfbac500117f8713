"""Prefect's environment for the product's commands, set before Prefect is imported.

- No telemetry, ever (`DO_NOT_TRACK`, server analytics off): the machine has no internet, and a
  failed telemetry call would print an error.
- Prefect's home (its database, logs and any result storage) defaults to `prefect/` in the
  private working folder rather than `~/.prefect`.
- With `PREFECT_API_URL` set, the client authenticates with the secret the product's server
  keeps in the working folder (prefect_auth.py), and the server must answer, to the secret
  too, before a run starts (`check_server`).
  Without it, a run starts a temporary server; its start-up timeout is raised from Prefect's
  20 s to `EPHEMERAL_STARTUP_SECONDS`, which a loaded two-core machine needs (measured in
  docs/BENCHMARKS.md), and a start that still fails becomes `PrefectUnavailable`."""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from employment_eval import fsmodes, prefect_auth

EPHEMERAL_STARTUP_SECONDS = 180
QUIET = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


class PrefectUnavailable(Exception):
    """The Prefect server cannot be reached or started (one Chinese paragraph)."""


def configure(work_dir: Path | None = None) -> None:
    """Set the environment Prefect reads (values the user set win, telemetry excepted)."""
    os.environ.update(QUIET)
    if work_dir is not None and "PREFECT_HOME" not in os.environ:
        os.environ["PREFECT_HOME"] = str(fsmodes.private_dir(work_dir / "prefect"))
    os.environ.setdefault(
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(EPHEMERAL_STARTUP_SECONDS)
    )
    if work_dir is not None and api_url() is not None:
        prefect_auth.use_secret(work_dir)


@contextlib.contextmanager
def one_off_run() -> Iterator[None]:
    """Settings for a run started from the command line (after Prefect is imported): no flow
    heartbeats. A heartbeat thread wakes once a second and each flow waits for it to stop
    (up to 1 s per flow, measured in docs/BENCHMARKS.md); heartbeats serve crash detection of
    long-lived served runs, and the command line reports its own outcome."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def api_url() -> str | None:
    return os.environ.get("PREFECT_API_URL") or None


def _authorised(url: str, timeout: float) -> bool:
    """The server accepts this process's secret (a server without authentication accepts any
    request): a GET of its version, which needs authentication when it is on."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{url.rstrip('/')}/admin/version")
    secret = os.environ.get(prefect_auth.CLIENT_VARIABLE)
    if secret:
        token = base64.b64encode(secret.encode("utf-8")).decode("ascii")
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return True
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            return False
        raise


def check_server(timeout: float = 10, attempts: int = 3) -> None:
    """With PREFECT_API_URL set, the server must answer its health check, and accept this
    process's secret. A server that is slow to answer (a loaded machine) is asked again, up to
    `attempts` times of `timeout` seconds; one that refuses the connection is not."""
    url = api_url()
    if url is None:
        return
    import urllib.error  # ~0.1 s: not before a command's first line
    import urllib.request

    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=timeout) as resp:
                if resp.status != 200:
                    raise urllib.error.URLError(f"HTTP {resp.status}")
            if _authorised(url, timeout):
                return
            raise PrefectUnavailable(
                f"调度服务器 {url} 要求口令，而本次运行没有正确的口令：工作文件夹中没有口令文件"
                f"（{prefect_auth.SECRET_FILE}），或与服务器的不符。请使用与 employment-eval "
                "server 相同的 --work，或把环境变量 PREFECT_API_AUTH_STRING 设为服务器工作文件夹中"
                f"{prefect_auth.SECRET_FILE} 文件的内容。本次未运行，未发布任何结果。"
            )
        except (urllib.error.URLError, OSError, ValueError) as exc:
            cause = getattr(exc, "reason", exc)
            slow = isinstance(cause, TimeoutError) or "timed out" in str(cause)
            if slow and attempt < attempts:
                continue
            reason = _reason(cause)
            break
    raise PrefectUnavailable(
        f"无法连接调度服务器 {url}（{reason}）。请先启动服务器"
        "（employment-eval server，或检查其 systemd 服务），"
        "或取消环境变量 PREFECT_API_URL 以使用临时服务器。本次未运行，未发布任何结果。"
    )


def _reason(exc: object) -> str:
    """Why the server did not answer, in Chinese for the usual cases."""
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝：该地址上没有服务器在运行"
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return "连接超时"
    if isinstance(exc, OSError) and "Name or service not known" in str(exc):
        return "无法解析该主机名"
    if isinstance(exc, ValueError):
        return "地址格式不正确"
    return f"连接失败：{exc}"


def explain_start_failure(exc: BaseException) -> PrefectUnavailable | None:
    """Prefect's English error for a temporary server that did not start, in Chinese."""
    text = str(exc)
    if "ephemeral Prefect API server" not in text and "Prefect API" not in text:
        return None
    seconds = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "20")
    return PrefectUnavailable(
        f"临时调度服务器未能在 {seconds} 秒内启动（机器负载过高或端口被占用）。"
        "本次未运行，未发布任何结果。建议启动常驻服务器（employment-eval server，"
        "并设置 PREFECT_API_URL=http://127.0.0.1:4200/api），"
        "或把环境变量 PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS 设得更大后重试。"
    )
