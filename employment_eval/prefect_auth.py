"""The Prefect API's password: `employment-eval server` always turns on Prefect's basic
authentication, and every command of the product that talks to that server sends it.

- The secret (`employment-eval:<43 random URL-safe characters>`, as Prefect's auth string
  `user:password`) is generated once, by the first `server`, into `prefect-api-auth` in the
  working folder (the folder of `--work`), mode 0600; later starts reuse it. A secret file that
  others could read is refused: its secret may have leaked (delete it and start again).
- The server gets it as `PREFECT_SERVER_API_AUTH_STRING`; every client (`serve`, `run`,
  `scoreboard` with `PREFECT_API_URL` set) as `PREFECT_API_AUTH_STRING`, read from the file
  beside its own `--work` unless the variable is already set. Other clients (the `prefect`
  command, a script) need `PREFECT_API_AUTH_STRING` set to the file's content.
- Prefect 3.8.8 checks it on every HTTP request except GET /api/health and /api/ready, and on
  its websockets (events in and out, logs out, task-run subscriptions): a websocket must
  speak the `prefect` subprotocol and authenticate with the same string in its first message
  (prefect/server/utilities/subscriptions.py); without it the connection is closed.
- Loopback only by default. Listening on another address needs `--allow-remote`, and the
  traffic is plain HTTP: the secret travels base64-encoded in every request."""

from __future__ import annotations

import ipaddress
import os
import secrets
import stat
from pathlib import Path

from employment_eval.failures import UsageError

SECRET_FILE = "prefect-api-auth"
USER = "employment-eval"
CLIENT_VARIABLE = "PREFECT_API_AUTH_STRING"
SERVER_VARIABLE = "PREFECT_SERVER_API_AUTH_STRING"


def secret_path(work_dir: Path) -> Path:
    return work_dir / SECRET_FILE


def _check_private(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UsageError(
            f"Prefect 服务器的口令文件 {path} 的权限为 {mode:04o}，其他账户也能读取，口令可能已经"
            "泄露。请删除该文件后重新启动 employment-eval server（会生成新口令），"
            "再重新启动 employment-eval serve。"
        )


def ensure_secret(work_dir: Path) -> str:
    """The server's secret: read from the working folder, or generated there (0600) once."""
    path = secret_path(work_dir)
    value = f"{USER}:{secrets.token_urlsafe(32)}"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _check_private(path)
        return read_secret(work_dir) or _empty(path)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def _empty(path: Path) -> str:
    raise UsageError(f"Prefect 服务器的口令文件 {path} 是空的。请删除该文件后重新启动服务器。")


def read_secret(work_dir: Path) -> str | None:
    """The secret kept in the working folder, if there is one."""
    try:
        text = secret_path(work_dir).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return text or None


def use_secret(work_dir: Path) -> Path | None:
    """Let this process's Prefect client authenticate with the working folder's secret (unless
    PREFECT_API_AUTH_STRING is set already). Returns the file used, if any."""
    if os.environ.get(CLIENT_VARIABLE):
        return None
    value = read_secret(work_dir)
    if value is None:
        return None
    os.environ[CLIENT_VARIABLE] = value
    return secret_path(work_dir)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def check_host(host: str, allow_remote: bool) -> str | None:
    """Refuse a non-loopback address unless allowed; with it, the warning to print."""
    if is_loopback(host):
        return None
    if not allow_remote:
        raise UsageError(
            f"监听地址 {host} 不是本机回环地址：其他计算机也能访问 Prefect 服务器。"
            "如确需从其他计算机访问，请加 --allow-remote；否则请用默认的 127.0.0.1。"
        )
    return (
        f"注意：Prefect 服务器在 {host} 上监听，其他计算机也能访问。访问需要口令，"
        "但通信没有加密（明文 HTTP）：同一网络中的人可以截获口令和运行记录。"
        "请只在可信的内部网络中这样使用，或改用 SSH 隧道、带 HTTPS 的反向代理。"
    )
