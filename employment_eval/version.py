"""The code version recorded with every published file: the package version and, in a git
checkout, the commit (with `-dirty` when the working tree differs from it)."""

from __future__ import annotations

import functools
import subprocess

from employment_eval import __version__
from employment_eval.paths import PROJECT_ROOT


@functools.cache
def code_version() -> str:
    if not (PROJECT_ROOT / ".git").exists():
        return __version__
    try:
        done = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return __version__
    commit = done.stdout.strip()
    return f"{__version__}+{commit}" if done.returncode == 0 and commit else __version__
