"""The tests' own reading of the working database's raw layer: the registration rows of the
exports a run included, as parsed from the files, for the tests that recompute a report's
figures independently of the SQL models (morning report, follow-up lists)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl


def included_registrations(work: Path, year: int) -> pl.DataFrame:
    """One row per registration of the cohort `year` on each export the run's manifest
    includes, with the export's as-of date and whether its destination counts as employed."""
    con = duckdb.connect(str(work), read_only=True)
    try:
        return con.sql(
            """select r.student_id, r.name, r.unit_code, r.degree_code, r.destination_code,
                      r.destination_family, r.employer, r.is_verified, r.verified_date,
                      f.as_of_date, d.is_employed as destination_counts
               from raw.registrations as r
               inner join (select distinct file_sha256, as_of_date from meta.current_files
                           where kind = 'registrations' and is_included) as f
                   on r.file_sha256 = f.file_sha256
               inner join reference.destination_codes as d
                   on r.destination_family = d.destination_code
               where r.cohort_year = ? and not r.is_completion""",
            params=[year],
        ).pl()
    finally:
        con.close()
