"""The quality gate in chunks: a frame validated chunk by chunk gives exactly the results of the
whole frame (messages, failing counts, failing rows, sample values), uniqueness included.

A season with planted failures (duplicates across exports, nulls, a value wrong in 701 rows:
more than the ROW_LIMIT rows kept) is audited whole and in small chunks; the frames the gate
validates are those DuckDB's own pandas conversion gives."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from employment_eval import audit, build, publish, quality, warehouse
from employment_eval.ingest.api import ingest
from employment_eval.options import RunOptions

AS_OF = dt.date(2021, 12, 20)
SUITES = {s.name: s for s in quality.load_suites()}
LATEST = "(select file_sha256 from staging.stg_exports order by as_of_date desc limit 1)"
PLANTED = [
    # 699 + 2 rows of the latest export with an unknown degree: more than ROW_LIMIT
    f"update raw.registrations set degree_code = 'phd' where file_sha256 = {LATEST} "
    "and source_row between 2 and 700",
    # a null student number in every export, and two students listed twice in every export
    "update raw.registrations set student_id = null where source_row = 5",
    "insert into raw.registrations select * replace (source_row + 100000 as source_row) "
    "from raw.registrations where source_row in (7, 9)",
    # nulls in a boolean and an integer column (masked pandas dtypes)
    f"update raw.registrations set is_verified = null where file_sha256 = {LATEST} "
    "and source_row = 11",
    "update raw.registrations set cohort_year = null where source_row = 13",
    # a ledger row twice, a marts value out of range in every 7th row
    "insert into raw.submissions select * replace (source_row + 100 as source_row) "
    "from raw.submissions where source_row = 2",
    "update marts.rate_history set employment_rate = 1.5 where rowid % 7 = 0",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> Path:
    work = tmp_path_factory.mktemp("chunks") / "warehouse.duckdb"
    con = warehouse.open_work(work)
    try:
        ingest(sample_raw, con, as_of=AS_OF, run_id="setup")
        build.build_models(con)
    finally:
        con.close()
    return work


@pytest.fixture()
def planted(built: Path, tmp_path: Path, sample_raw: Path):
    """A copy of the built season with the planted failures, open; and its run options."""
    work = tmp_path / "work" / "warehouse.duckdb"
    work.parent.mkdir()
    shutil.copy(built, work)
    con = duckdb.connect(str(work))
    for statement in PLANTED:
        con.execute(statement)
    opts = RunOptions(sample_raw, tmp_path / "marts" / "employment.duckdb", work, 2021, AS_OF)
    yield con, opts
    con.close()


def gate(con, opts, chunk_rows: int) -> tuple[list[audit.CheckResult], str]:
    with pytest.raises(audit.AuditError) as info:
        audit.audit_candidate(con, opts, None, data_docs=False, chunk_rows=chunk_rows)
    return info.value.results, str(info.value).rsplit("\n", 1)[0]  # without the report path


def test_chunked_gate_equals_the_whole_frame_gate(planted) -> None:
    con, opts = planted
    whole, whole_message = gate(con, opts, 10**9)
    quality.prepare_already_validated(con)
    registrations = SUITES["stg_registrations"]
    chunks = [len(f) for f in quality.suite_frames(registrations, con, 1000)]
    assert len(chunks) > 10 and max(chunks) <= 1000  # really in chunks
    chunked, chunked_message = gate(con, opts, 1000)
    assert chunked == whole  # every field: counts, rows, sample values, details
    assert chunked_message == whole_message
    results = {r.check_id: r for r in chunked}
    # the counts are those of the data, not of a chunk
    degree = results["stg_registrations.degree_in_reference"]
    expected = con.execute(
        "select source_file, source_row from staging.stg_registrations "
        "where degree not in (select degree from reference.degrees) order by all"
    ).fetchall()
    assert degree.failing == len(expected) > quality.ROW_LIMIT
    assert [(r["source_file"], r["source_row"]) for r in degree.failing_rows] == expected[
        : quality.ROW_LIMIT
    ]
    assert degree.detail["sample_values"] == ["phd"] * quality.SAMPLE_LIMIT
    assert f"列出前 {quality.ROW_LIMIT} 行，共 {len(expected)} 行不符合" in chunked_message
    duplicates = con.execute(
        "select count(*) from staging.stg_registrations where (file_sha256, graduation_year, "
        "student_id) in (select (file_sha256, graduation_year, student_id) "
        "from staging.stg_registrations group by all having count(*) > 1)"
    ).fetchall()[0][0]
    unique = results["stg_registrations.one_row_per_student"]
    assert unique.failing == duplicates > 0
    assert {r["source_row"] for r in unique.failing_rows} == {7, 9, 100007, 100009}
    for check_id, sql in [
        ("stg_registrations.student_id_not_null", "student_id is null"),
        ("stg_registrations.verification_status_not_null", "is_verified is null"),
        ("stg_registrations.graduation_year_not_null", "graduation_year is null"),
    ]:
        count = con.execute(f"select count(*) from staging.stg_registrations where {sql}")
        assert results[check_id].failing == count.fetchall()[0][0] > 0, check_id
    assert results["stg_submissions.one_row_per_unit"].failing == 2
    rates = con.execute("select count(*) from marts.rate_history where employment_rate > 1")
    assert results["marts_rate_history.rate_within_0_1"].failing == rates.fetchall()[0][0] > 0


def test_a_uniqueness_key_never_spans_two_chunks(planted) -> None:
    con, _ = planted
    quality.prepare_already_validated(con)
    suite = SUITES["stg_registrations"]
    key = ["file_sha256", "graduation_year", "student_id"]
    whole = quality.suite_frame(suite, con)
    frames = list(quality.suite_frames(suite, con, 500))
    assert len(frames) > 20 and max(len(f) for f in frames) <= 500
    seen: dict[tuple, int] = {}
    for i, frame in enumerate(frames):
        for k in frame[key].astype(str).itertuples(index=False):
            assert seen.setdefault(tuple(k), i) == i, k
    together = quality.sort_frame(pd.concat(frames), suite.row_id)
    pd.testing.assert_frame_equal(together, whole[list(together.columns)])
    # only the columns the expectations and row_id use are read
    used = set(suite.row_id) | {e["kwargs"].get("column") for e in suite.expectations}
    used |= {c for e in suite.expectations for c in e["kwargs"].get("column_list", [])}
    used |= {e["kwargs"][k] for e in suite.expectations for k in ("column_A", "column_B")
             if k in e["kwargs"]}  # fmt: skip
    assert set(frames[0].columns) == used - {None}
    assert set(frames[0].columns) < set(whole.columns)


def test_many_small_chunks_of_a_marts_suite(planted, tmp_path: Path) -> None:
    con, opts = planted
    candidate = publish.export_candidate(con, opts.marts_path, "chunks")
    suite = SUITES["marts_rate_history"]
    cand = publish.open_published(candidate)
    try:
        outcomes = {}
        for chunk_rows in (10**9, 7):
            validator = quality.Validator(tmp_path / f"docs-{chunk_rows}")
            frames = quality.suite_frames(suite, cand, chunk_rows)
            outcomes[chunk_rows] = validator.validate(suite, frames, {})
            validator.build_docs()
            # Data Docs: one result for the suite, with the counts of the whole frame
            store = validator.context.validation_results_store
            (key,) = store.list_keys()
            stored = {
                r.expectation_config.meta["check_id"]: r.result for r in store.get(key).results
            }
            for o in outcomes[chunk_rows]:
                assert stored[o.check_id]["unexpected_count"] == o.failing
                assert stored[o.check_id]["element_count"] == o.rows_checked
            pages = list((tmp_path / f"docs-{chunk_rows}" / "validations").rglob("*.html"))
            assert len(pages) == 1
        rows = cand.execute("select count(*) from marts.rate_history").fetchall()[0][0]
        assert len(list(quality.suite_frames(suite, cand, 7))) == -(-rows // 7)
    finally:
        cand.close()
        publish.discard(candidate)
    assert outcomes[7] == outcomes[10**9]
    assert outcomes[7][0].check_id == "rate_within_0_1" and outcomes[7][0].failing > 0


def test_frames_are_those_duckdb_converts_itself(planted) -> None:
    """Arrow → pandas gives the dtypes and values of DuckDB's `.df()` (what GX always saw)."""
    con, opts = planted
    quality.prepare_already_validated(con)
    candidate = publish.export_candidate(con, opts.marts_path, "frames")
    cand = publish.open_published(candidate)
    compared = []
    try:
        for suite in SUITES.values():
            if suite.frame is not None:
                continue
            on = con if suite.layer == "staging" else cand
            ours = quality.suite_frame(suite, on)
            theirs = quality.sort_frame(on.sql(suite.query).df(), suite.row_id)
            # (an empty result has no dtypes to speak of: DuckDB gives object columns)
            pd.testing.assert_frame_equal(ours, theirs, check_dtype=len(ours) > 0, obj=suite.name)
            compared += [suite.name] if len(ours) else []
    finally:
        cand.close()
        publish.discard(candidate)
    assert len(compared) >= len(SUITES) - 2


def test_a_suite_that_cannot_be_chunked_is_one_frame(planted) -> None:
    con, _ = planted
    suite = SUITES["stg_exports_units"]  # a table-level expectation: whole frame only
    assert not quality.frame_plan(suite, con.sql(suite.query).columns).chunked
    assert len(list(quality.suite_frames(suite, con, 3))) == 1
    mostly = dataclasses.replace(
        SUITES["stg_ledger_coverage"],
        expectations=tuple(
            {**e, "kwargs": {**e["kwargs"], "mostly": 0.5}}
            for e in SUITES["stg_ledger_coverage"].expectations
        ),
    )
    assert not quality.frame_plan(mostly, con.sql(mostly.query).columns).chunked
