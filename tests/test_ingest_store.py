"""The raw layer: cache by content hash, idempotence, the run manifest, check_inputs."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from employment_eval.ingest.api import check_inputs, ingest
from employment_eval.paths import REFERENCE_DIR
from employment_eval.problems import InputError
from employment_eval.reference import Reference
from tests.ingest_helpers import (
    REG_HEADERS,
    cohort_rows,
    make_raw,
    reference,
    without_name_dates,
    write_csv,
)

AS_OF = date(2021, 12, 31)
KINDS = ("registrations", "special_groups", "submissions", "adjustments")


def run(
    raw: Path,
    con: duckdb.DuckDBPyConnection,
    run_id: str = "r",
    as_of: date = AS_OF,
    ref: Reference | None = None,
    progress=None,
):
    return ingest(
        raw, con, as_of=as_of, run_id=run_id, reference=ref or reference(), progress=progress
    )


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = [f"raw.{k}" for k in KINDS] + ["raw.files", "raw.file_warnings"]
    return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def current(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select run_id, kind, source_file, as_of_date, is_included from meta.current_files "
        "order by kind, source_file"
    ).fetchall()


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "work.duckdb"))
    yield c
    c.close()


def test_ingest_stores_rows_with_provenance_and_resolved_values(tmp_path, con):
    raw = make_raw(tmp_path)
    messages: list[str] = []
    result = run(raw, con, progress=messages.append)
    assert without_name_dates(result.problems) == []
    assert all(f.parsed_now and f.included for f in result.files)
    assert "读取 registrations/export_2021-06-15.csv（30 行）" in messages
    row = con.execute(
        "select source_file, source_row, student_id, unit_code, degree_code, cohort_year, "
        "as_of_date, is_verified, verified_date, province, ethnicity_name "
        "from raw.registrations order by source_row limit 1"
    ).fetchone()
    assert row == (
        "registrations/export_2021-06-15.csv", 2, "00021000", "ug_branch", "master", 2021,
        date(2021, 6, 15), True, date(2021, 6, 1), "上海", "汉族",
    )  # fmt: skip
    ledger = con.execute(
        "select i1_score, i4_score, i2_complaint_count, i5_meeting_on from raw.submissions "
        "order by source_row limit 1"
    ).fetchone()
    assert ledger == (Decimal("5.00"), Decimal("18.50"), 0, date(2021, 10, 10))
    adj = con.execute(
        "select unit_code, indicator_code, new_points, decided_on from raw.adjustments"
    ).fetchall()
    assert adj == [("ruijin", "I1", Decimal("4.50"), date(2021, 12, 25))]
    assert current(con) == [
        ("r", "adjustments", "adjustments/adjustments.csv", None, True),
        ("r", "registrations", "registrations/export_2021-06-15.csv", date(2021, 6, 15), True),
        ("r", "special_groups", "special_groups/roster.csv", None, True),
        ("r", "submissions", "submissions/submissions_2021.csv", None, True),
    ]
    assert con.execute("select * from meta.run_context").fetchall() == [("r", AS_OF)]


def test_second_ingest_parses_nothing_and_changes_nothing(tmp_path, con):
    raw = make_raw(tmp_path)
    run(raw, con, "r1")
    before = counts(con)
    messages: list[str] = []
    result = run(raw, con, "r2", progress=messages.append)
    assert not any(f.parsed_now for f in result.files)
    assert counts(con) == before
    assert not any(m.startswith("读取") for m in messages)
    assert [r[0] for r in current(con)] == ["r2"] * 4


def test_warnings_are_replayed_from_the_cache(tmp_path, con):
    raw = make_raw(tmp_path)
    rows = cohort_rows()
    rows[0]["单位性质"] = "外星企业"
    write_csv(raw / "registrations" / "export_2021-06-15.csv", REG_HEADERS, rows)
    first = without_name_dates(run(raw, con, "r1").problems)
    second = without_name_dates(run(raw, con, "r2").problems)
    assert first == second and len(first) == 1 and first[0].severity == "warning"


def test_duplicate_content_adds_no_rows_and_is_listed_under_both_names(tmp_path, con):
    raw = make_raw(tmp_path)
    run(raw, con, "r1")
    before = counts(con)
    src = raw / "registrations" / "export_2021-06-15.csv"
    shutil.copy(src, raw / "registrations" / "export_2021-06-15 (1).csv")
    result = run(raw, con, "r2")
    assert without_name_dates(result.problems) == []
    assert counts(con) == before
    regs = [r for r in current(con) if r[1] == "registrations"]
    assert [(r[2], r[4]) for r in regs] == [
        ("registrations/export_2021-06-15 (1).csv", False),
        ("registrations/export_2021-06-15.csv", True),
    ]


def test_removing_a_file_drops_it_from_the_manifest(tmp_path, con):
    raw = make_raw(tmp_path)
    write_csv(raw / "registrations" / "export_2021-08-15.csv", REG_HEADERS, cohort_rows(3))
    run(raw, con, "r1")
    assert len([r for r in current(con) if r[1] == "registrations"]) == 2
    (raw / "registrations" / "export_2021-08-15.csv").unlink()
    result = run(raw, con, "r2")
    assert [r[2] for r in current(con) if r[1] == "registrations"] == [
        "registrations/export_2021-06-15.csv"
    ]
    assert not any(f.parsed_now for f in result.files)


def test_two_raw_folders_sharing_one_database_never_mix(tmp_path, con):
    raw_a = make_raw(tmp_path / "a")
    raw_b = make_raw(tmp_path / "b")
    rows = cohort_rows()
    rows[0]["单位名称"] = "不同的内容"
    write_csv(raw_b / "registrations" / "export_2021-06-15.csv", REG_HEADERS, rows)
    run(raw_a, con, "a")
    result = run(raw_b, con, "b")  # same as-of, different content: no conflict across folders
    assert without_name_dates(result.problems) == []
    shas = {f.sha256 for f in result.files}
    assert {
        r[0] for r in con.execute("select file_sha256 from meta.current_files").fetchall()
    } == shas
    assert {r[0] for r in current(con)} == {"b"}


def test_files_with_errors_are_not_cached_and_nothing_is_published(tmp_path, con):
    raw = make_raw(tmp_path)
    run(raw, con, "r1")
    rows = cohort_rows()
    rows[0]["民族"] = "X族"
    bad = write_csv(raw / "registrations" / "export_2021-07-15.csv", REG_HEADERS, rows)
    before = counts(con)
    with pytest.raises(InputError) as info:
        run(raw, con, "r2")
    assert [(p.file, p.row, p.column) for p in info.value.errors] == [
        ("registrations/export_2021-07-15.csv", 2, "民族")
    ]
    assert counts(con) == before  # the bad file is not in raw.* nor in the cache
    assert {r[0] for r in current(con)} == {"r1"}  # the manifest of the failed run is not written
    rows[0]["民族"] = "汉族"
    rows[0]["单位名称"] = "七月的新内容"
    write_csv(bad.parent / bad.name, REG_HEADERS, rows)
    result = run(raw, con, "r3")
    assert [f.path for f in result.files if f.parsed_now] == ["registrations/export_2021-07-15.csv"]


def test_renamed_export_dated_by_its_name_is_reparsed_with_the_new_date(tmp_path, con):
    raw = make_raw(tmp_path)
    run(raw, con, "r1")
    before = counts(con)
    src = raw / "registrations" / "export_2021-06-15.csv"
    src.rename(raw / "registrations" / "export_2021-06-20.csv")
    result = run(raw, con, "r2")
    [reg] = [f for f in result.files if f.kind == "registrations"]
    assert reg.parsed_now and reg.as_of_date == date(2021, 6, 20)
    assert counts(con) == before
    dates = con.execute("select distinct as_of_date from raw.registrations").fetchall()
    assert dates == [(date(2021, 6, 20),)]


def test_changed_reference_data_invalidates_the_cache(tmp_path, con):
    raw = make_raw(tmp_path)
    run(raw, con, "r1")
    before = counts(con)
    ref_dir = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, ref_dir)
    with open(ref_dir / "unit_aliases.csv", "a", encoding="utf-8") as fh:
        fh.write("瑞金总院,ruijin\n")
    result = run(raw, con, "r2", ref=Reference(directory=ref_dir))
    assert all(f.parsed_now for f in result.files)
    assert counts(con) == before


def test_check_inputs_writes_nothing(tmp_path, monkeypatch):
    raw = make_raw(tmp_path)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)

    def snapshot() -> dict[str, float]:
        return {str(p): p.stat().st_mtime for p in tmp_path.rglob("*")}

    before = snapshot()
    result = check_inputs(raw, as_of=AS_OF, reference=reference())
    assert without_name_dates(result.problems) == [] and len(result.files) == 4
    assert snapshot() == before
    assert not any(work.iterdir())


def test_check_inputs_raises_like_ingest(tmp_path):
    raw = make_raw(tmp_path)
    (raw / "registrations" / "export_2021-06-15.csv").unlink()
    with pytest.raises(InputError) as info:
        check_inputs(raw, as_of=AS_OF)
    assert "没有任何就业登记鉴证导出" in str(info.value)


def test_a_generated_data_set_ingests_without_errors(tmp_path, request):
    pytest.importorskip("employment_eval.generate")
    try:
        sample_raw = request.getfixturevalue("sample_raw")
    except Exception as exc:  # the generator is being written concurrently
        pytest.skip(f"generator unavailable: {exc}")
    con = duckdb.connect(str(tmp_path / "gen.duckdb"))
    result = run(sample_raw, con, as_of=date(2022, 1, 31))
    assert all(p.severity == "warning" for p in without_name_dates(result.problems))
    assert con.execute("select count(*) from raw.registrations").fetchone()[0] > 0
    again = run(sample_raw, con, "again", as_of=date(2022, 1, 31))
    assert not any(f.parsed_now for f in again.files)
    con.close()
