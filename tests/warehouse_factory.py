"""Builds a working database from hand-written graduates, bypassing file parsing, so the SQL
models can be tested on the exact cases of docs/评估规则.md. Every unit gets a default cohort unless
the test gives its own rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa

from employment_eval import build, warehouse
from employment_eval.ingest.schema import COLUMNS, RESOLVED, raw_table_ddl
from employment_eval.reference import Reference
from employment_eval.rules import Rules, load_rules

D = dt.date


@dataclass
class Grad:
    """One graduate in one export (resolved values only)."""

    student_id: str
    unit_code: str
    degree: str = "master"
    destination_family: str = "10"
    is_verified: bool = True
    verified_date: dt.date | None = D(2021, 6, 1)
    ethnicity_name: str = "汉族"
    employer_type_code: str | None = "23"
    province: str | None = "上海"
    employer: str | None = "某医院"
    is_grassroots_flag: bool = False
    is_completion: bool = False
    cohort_year: int = 2021


def unemployed(student_id: str, unit_code: str, degree: str = "master") -> Grad:
    return Grad(
        student_id,
        unit_code,
        degree,
        "70",
        False,
        None,
        employer_type_code=None,
        province=None,
        employer=None,
    )


@dataclass
class Ledger:
    unit_code: str
    i1_score: Decimal | None = Decimal("5")
    i2_complaint_count: int | None = 0
    i4_score: Decimal | None = Decimal("20")
    i4_report_on: dt.date | None = D(2021, 3, 20)
    i5_meeting_on: dt.date | None = D(2021, 10, 12)
    i5_talk_count: int | None = 1
    i7_form_count: int | None = 3
    i8_story_count: int | None = 3
    ledger_year: int = 2021


@dataclass
class Scenario:
    exports: dict[dt.date, list[Grad]] = field(default_factory=dict)
    roster: list[tuple[str, str]] = field(default_factory=list)  # (student_id, group)
    ledger: list[Ledger] | None = None  # None: a complete default row per unit
    adjustments: list[dict] = field(default_factory=list)
    as_of: dt.date = D(2021, 12, 20)


def default_cohort(unit_code: str, size: int = 30) -> list[Grad]:
    """A unit that meets every target comfortably: all employed, verified early."""
    return [Grad(f"{unit_code}-{i:03d}", unit_code) for i in range(size)]


def fill_units(grads: Iterable[Grad], identical: bool = False) -> list[Grad]:
    """Add a default cohort for every unit the test did not give; the defaults differ in size
    (so totals differ and no tie straddles a cutoff) unless `identical`."""
    grads = list(grads)
    present = {g.unit_code for g in grads}
    for i, code in enumerate(Reference().unit_codes):
        if code not in present:
            grads.extend(default_cohort(code, 30 if identical else 30 + 10 * i))
    return grads


def _insert(con: duckdb.DuckDBPyConnection, kind: str, rows: list[dict]) -> None:
    if not rows:
        return
    frame = pa.Table.from_pylist(rows)  # noqa: F841 - read by the query below
    con.execute(f"insert into raw.{kind} by name select * from frame")


def build_scenario(s: Scenario, rules: Rules | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory working database with the scenario's raw rows, built through every model."""
    con = duckdb.connect()
    con.execute("create schema raw; create schema meta")
    for kind in COLUMNS:
        con.execute(raw_table_ddl(kind))
    con.execute(
        "create table meta.current_files (run_id varchar, kind varchar, source_file varchar, "
        "file_sha256 varchar, as_of_date date, is_included boolean)"
    )
    con.execute("create table meta.run_context (run_id varchar, as_of_date date)")
    con.execute("insert into meta.run_context values ('test', ?)", [s.as_of])
    warehouse.ensure_meta(con)
    warehouse.record_run_facts(
        con,
        run_id="test",
        year=2021,
        as_of=s.as_of,
        rules_file=Path("rules/2021.toml"),
        rules_sha256="0" * 64,
        policy_number="沪交医学〔2021〕1号",
        code_version="test",
        generated_at=dt.datetime(2021, 12, 20, 2, 0),
        input_files=len(s.exports),
    )
    for as_of, grads in sorted(s.exports.items()):
        sha = f"export-{as_of}"
        included = as_of <= s.as_of
        con.execute(
            "insert into meta.current_files values ('test', 'registrations', ?, ?, ?, ?)",
            [f"registrations/{as_of}.csv", sha, as_of, included],
        )
        _insert(
            con,
            "registrations",
            [
                {
                    "file_sha256": sha,
                    "source_file": f"registrations/{as_of}.csv",
                    "source_row": i + 2,
                    "student_id": g.student_id,
                    "name": "某某",
                    "as_of_date": as_of,
                    "unit_code": g.unit_code,
                    "degree_code": g.degree,
                    "is_completion": g.is_completion,
                    "cohort_year": g.cohort_year,
                    "destination_code": g.destination_family,
                    "destination_family": g.destination_family,
                    "employer": g.employer,
                    "employer_type_code": g.employer_type_code,
                    "province": g.province,
                    "is_grassroots_flag": g.is_grassroots_flag,
                    "is_verified": g.is_verified,
                    "verified_date": g.verified_date,
                    "ethnicity_name": g.ethnicity_name,
                }
                for i, g in enumerate(grads)
            ],
        )
    con.execute(
        "insert into meta.current_files values "
        "('test', 'special_groups', 'special_groups/r.csv', 'roster', null, true)"
    )
    _insert(
        con,
        "special_groups",
        [
            {
                "file_sha256": "roster",
                "source_file": "special_groups/r.csv",
                "source_row": i + 2,
                "student_id": sid,
                "special_group": group,
                "cohort_year": 2021,
            }
            for i, (sid, group) in enumerate(s.roster)
        ],
    )
    ledger = s.ledger if s.ledger is not None else [Ledger(c) for c in Reference().unit_codes]
    con.execute(
        "insert into meta.current_files values "
        "('test', 'submissions', 'submissions/s.xlsx', 'ledger', null, true)"
    )
    _insert(
        con,
        "submissions",
        [
            {
                "file_sha256": "ledger",
                "source_file": "submissions/s.xlsx",
                "source_row": i + 2,
                **{k: getattr(row, k) for k in RESOLVED["submissions"]},
                "unit_code": row.unit_code,
            }
            for i, row in enumerate(ledger)
        ],
    )
    con.execute(
        "insert into meta.current_files values "
        "('test', 'adjustments', 'adjustments/a.xlsx', 'adj', null, true)"
    )
    _insert(
        con,
        "adjustments",
        [
            {
                "file_sha256": "adj",
                "source_file": "adjustments/a.xlsx",
                "source_row": i + 2,
                "reason": "复核",
                "approved_by": "学指委",
                "adjustment_year": 2021,
                "decided_on": s.as_of,  # in effect on the scenario's night
                "new_points": None,
                "advanced_decision": None,
                **a,
            }
            for i, a in enumerate(s.adjustments)
        ],
    )
    build.build_models(con, [rules or load_rules(2021)])
    return con


def one_export(grads: Iterable[Grad], as_of: dt.date = D(2021, 12, 20)) -> Scenario:
    """All nodes computed on one export (later nodes provisional when it is early)."""
    return Scenario(exports={as_of: fill_units(grads)}, as_of=max(as_of, D(2021, 12, 20)))


def season(grads: Iterable[Grad], identical: bool = False) -> Scenario:
    """The same graduates in an export on every evaluation date: nothing provisional."""
    grads = fill_units(grads, identical)
    dates = [D(2021, 6, 15), D(2021, 8, 15), D(2021, 12, 1), D(2021, 12, 15)]
    return Scenario(exports={d: list(grads) for d in dates})
