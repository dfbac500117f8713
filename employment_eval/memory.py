"""DuckDB's memory on the working database: a bounded buffer pool that spills to disk.

DuckDB keeps up to 80 % of the machine's memory for itself by default: a season of millions of
rows then holds gigabytes through the whole run. The working database's connection gets a
memory limit (what its operators and cached blocks may use; above it they spill to the
temporary folder beside the database, `<work>.tmp`, in the private working area).

The limit is `EMPLOYMENT_EVAL_DUCKDB_MEMORY` (a DuckDB size such as `3GB`) when set; else it
is set from the machine: a quarter of its memory (or of what a control group lets the process
use), at least 1 GB. Measured on a season of 10 million graduates (docs/BENCHMARKS.md): the
build needs about 5 GB not to spill (the follow-up graduates model; 22 s, against 33 s within
2 GB, which spills 2.5 GB to disk), and the ingest stage already peaks above that (about 7 GB:
the export is read whole), so a quarter of a 24 GB machine gives the build the room it needs
without raising the run's peak. DuckDB takes only what a query needs: a season of the centre's
size uses a fraction of it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

ENV = "EMPLOYMENT_EVAL_DUCKDB_MEMORY"
SHARE = 4  # a quarter of the machine's memory
FLOOR_MB = 1024
_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)
CGROUP_LIMIT = Path("/sys/fs/cgroup/memory.max")


def machine_mb() -> int | None:
    """The memory this process may use: the machine's, or its control group's limit."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    try:
        text = CGROUP_LIMIT.read_text().strip()
        if text.isdigit():
            total = min(total, int(text))
    except OSError:
        pass
    return total // 2**20


def memory_limit() -> str:
    value = os.environ.get(ENV, "").strip()
    if _SIZE.match(value):
        return value
    total = machine_mb()
    mb = FLOOR_MB if total is None else max(FLOOR_MB, total // SHARE)
    return f"{mb}MB"


def limit(con: duckdb.DuckDBPyConnection, database: Path | None = None) -> None:
    """Bound the connection's memory; spill to `<database>.tmp` (DuckDB's own default place
    for a database file, set explicitly so that it never lands in the current folder)."""
    con.execute(f"set memory_limit = '{memory_limit()}'")
    if database is not None:
        con.execute("set temp_directory = ?", [str(database) + ".tmp"])
