"""The signatures in the working database (schema `signed`), read by the SQL models
`staging.stg_signatures`, `stg_signature_events`, `stg_signed_files` (published as
`marts.signatures`, `marts.signature_events`, `marts.signed_files`).

- `signed.signatures`: one row per year signed now (an unsign removes it);
- `signed.signed_files`: the input files of each signed year as they were signed;
- `signed.events`: every sign and unsign, kept for good (who, when, the reason of an unsign);
- `signed.snapshot_tables`: for each signed year, each published table with a `year` column and
  the table of this schema that holds its signed rows (`<schema>__<table>__<year>`)."""

from __future__ import annotations

import duckdb

SCHEMA = "signed"
DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {SCHEMA}.signatures (
        year integer primary key,
        signature_id varchar not null,
        signed_by varchar not null,
        signed_date date not null,
        signed_at timestamp not null,
        run_id varchar not null,
        as_of_date date not null,
        rules_file varchar not null,
        rules_sha256 varchar not null,
        policy_number varchar,
        code_version varchar,
        marts_sha256 varchar not null,
        signed_rows bigint not null,
        rows_sha256 varchar not null
    )""",
    f"""create table if not exists {SCHEMA}.signed_files (
        year integer not null,
        kind varchar not null,
        source_file varchar not null,
        file_sha256 varchar not null
    )""",
    f"""create table if not exists {SCHEMA}.events (
        event_id varchar primary key,
        year integer not null,
        action varchar not null,
        by_name varchar not null,
        event_date date not null,
        recorded_at timestamp not null,
        reason varchar,
        signature_id varchar not null,
        run_id varchar,
        marts_sha256 varchar
    )""",
    f"""create table if not exists {SCHEMA}.snapshot_tables (
        year integer not null,
        schema_name varchar not null,
        table_name varchar not null,
        snapshot varchar not null,
        row_count bigint not null
    )""",
)

# Published tables with a `year` column that are not results of the year: the run that
# published the file, and the signature record itself.
NOT_PINNED = frozenset(
    {
        ("marts", "run_info"),
        ("marts", "signatures"),
        ("marts", "signature_events"),
        ("marts", "signed_files"),
    }
)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL:
        con.execute(ddl)


def _has_schema(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where database_name = current_database() "
            "and schema_name = ? and table_name = 'signatures'",
            [SCHEMA],
        ).fetchone()[0]
    )


def signatures(con: duckdb.DuckDBPyConnection) -> dict[int, dict]:
    """year → its signature (the row of signed.signatures as a dict); {} when none."""
    if not _has_schema(con):
        return {}
    cur = con.execute(f"select * from {SCHEMA}.signatures order by year")
    names = [d[0] for d in cur.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def state(con: duckdb.DuckDBPyConnection) -> str:
    """What a run's fingerprint must cover of the signatures (employment_eval.nochange)."""
    return ";".join(f"{y}:{s['signature_id']}" for y, s in signatures(con).items())


def snapshots(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """(schema, table) → [(year, snapshot table)] of every signed year."""
    if not _has_schema(con):
        return {}
    out: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for year, schema, table, snapshot in con.execute(
        f"select s.year, s.schema_name, s.table_name, s.snapshot from {SCHEMA}.snapshot_tables s "
        f"inner join {SCHEMA}.signatures g on s.year = g.year order by 2, 3, 1"
    ).fetchall():
        out.setdefault((schema, table), []).append((year, snapshot))
    return out


def signed_files(con: duckdb.DuckDBPyConnection, year: int) -> list[tuple[str, str, str]]:
    """(kind, source_file, sha256) of the year's signed input files."""
    return con.execute(
        f"select kind, source_file, file_sha256 from {SCHEMA}.signed_files where year = ? "
        "order by 1, 2",
        [year],
    ).fetchall()
