"""DuckDB's memory on the working database: a bounded buffer pool that spills to disk.

DuckDB keeps up to 80 % of the machine's memory for itself by default: a season of millions of
rows then holds gigabytes through the whole run. The working database's connection gets a
memory limit (what its operators and cached blocks may use; above it they spill to the
temporary folder beside the database, `<work>.tmp`, in the private working area).

The limit is `EMPLOYMENT_EVAL_DUCKDB_MEMORY` (a DuckDB size such as `3GB`) when set, else
1 GB: the centre's seasons need far less, and a national-size season of 10 million graduates
runs within it (spilling), see docs/BENCHMARKS.md."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

ENV = "EMPLOYMENT_EVAL_DUCKDB_MEMORY"
DEFAULT = "1GB"
_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


def memory_limit() -> str:
    value = os.environ.get(ENV, "").strip()
    return value if _SIZE.match(value) else DEFAULT


def limit(con: duckdb.DuckDBPyConnection, database: Path | None = None) -> None:
    """Bound the connection's memory; spill to `<database>.tmp` (DuckDB's own default place
    for a database file, set explicitly so that it never lands in the current folder)."""
    con.execute(f"set memory_limit = '{memory_limit()}'")
    if database is not None:
        con.execute("set temp_directory = ?", [str(database) + ".tmp"])
