"""File modes: private by default, public only for what is published.

The product sets the process umask to 0o077 (`private_by_default`), so every file and folder it
creates — the working database, reports, follow-up lists, the Prefect home it starts — is
readable by its owner only. What is published for analysts (the marts file, the year-end files,
the morning report) is opened up explicitly with `make_public`."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
PUBLIC_DIR = 0o755
PUBLIC_FILE = 0o644


def private_by_default() -> None:
    """Every file and folder created from now on by this process (and its children) is private."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) as a private folder; an existing one is made private."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)
    return path


def make_private(path: Path) -> Path:
    os.chmod(path, PRIVATE_DIR if path.is_dir() else PRIVATE_FILE)
    return path


def private_file(path: Path) -> Path:
    """An existing file made private if others could read it (a working database left 0644 by
    an older version); a missing one is left missing."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return path
    if mode & 0o077:
        os.chmod(path, PRIVATE_FILE)
    return path


def public_dir(path: Path) -> Path:
    """Create the published folder (readable by analysts) if it is missing. An existing folder's
    mode is the centre's choice and is left as it is."""
    if not path.exists():
        path.mkdir(mode=PUBLIC_DIR, parents=True, exist_ok=True)
        os.chmod(path, PUBLIC_DIR)
    return path


def make_public(path: Path) -> Path:
    """A published file: readable by everyone, writable by its owner."""
    os.chmod(path, PUBLIC_FILE)
    return path
