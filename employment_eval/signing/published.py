"""What the published file says about a signed year (marts.signatures), for every reader: the
console summary, the year-end files, the notice and the certificates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from employment_eval.publish import fetch_dicts, open_published


@dataclass(frozen=True)
class Signature:
    year: int
    signature_id: str
    signed_by: str
    signed_date: dt.date
    run_id: str
    as_of: dt.date
    rules_file: str
    rules_sha256: str
    input_files: int

    @property
    def line(self) -> str:
        """The line every report of a signed year shows."""
        return f"已审定签发（签发人 {self.signed_by}，日期 {self.signed_date.isoformat()}）"

    @property
    def source(self) -> str:
        """Where a document of the year comes from (notice footer, certificate line)."""
        return (
            f"{self.year} 年度评估结果 · 签发编号 {self.signature_id} · 签发人 {self.signed_by} · "
            f"签发日期 {self.signed_date.isoformat()} · 运行编号 {self.run_id}"
        )


def signature(con: duckdb.DuckDBPyConnection, year: int) -> Signature | None:
    """The year's signature in an open published file (None: not signed, or a file published
    before signatures existed)."""
    has = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'marts' and table_name = 'signatures'"
    ).fetchone()[0]
    if not has:
        return None
    rows = fetch_dicts(con, "select * from marts.signatures where year = ?", [year])
    if not rows:
        return None
    r = rows[0]
    return Signature(
        year=int(r["year"]),
        signature_id=r["signature_id"],
        signed_by=r["signed_by"],
        signed_date=r["signed_date"],
        run_id=r["run_id"],
        as_of=r["as_of_date"],
        rules_file=r["rules_file"],
        rules_sha256=r["rules_sha256"],
        input_files=int(r["input_files"]),
    )


def read_signature(marts_path: Path, year: int) -> Signature | None:
    con = open_published(marts_path)
    try:
        return signature(con, year)
    finally:
        con.close()
