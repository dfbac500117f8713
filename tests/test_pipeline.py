"""The nightly refresh end to end (in process, against the session's Prefect server):
idempotence, copies of an export, bad input never published, the run log, --as-of."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from ingest_helpers import writable_copy

from employment_eval import failures
from employment_eval.problems import InputError
from flows.nightly_refresh import nightly_refresh

AS_OF = dt.date(2021, 12, 20)
MART_TABLES = (
    "milestone_rates",
    "special_group_rates",
    "guided_employment",
    "indicator_scores",
    "scoreboard",
    "rate_history",
    "progress",
)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def marts_content(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            t: con.execute(f"select * from marts.{t} order by all").fetchall() for t in MART_TABLES
        }
    finally:
        con.close()


@pytest.fixture()
def place(tmp_path: Path, sample_raw: Path) -> dict[str, Path]:
    raw = tmp_path / "raw"
    writable_copy(sample_raw, raw)
    return {
        "raw": raw,
        "marts": tmp_path / "marts" / "employment.duckdb",
        "work": tmp_path / "work" / "warehouse.duckdb",
    }


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> dict[str, Path]:
    """One good run of the sample season, copied by the tests that start from it."""
    root = tmp_path_factory.mktemp("published")
    base = {
        "raw": root / "raw",
        "marts": root / "marts" / "employment.duckdb",
        "work": root / "work" / "warehouse.duckdb",
    }
    writable_copy(sample_raw, base["raw"])
    refresh(base)
    return base


@pytest.fixture()
def published_place(tmp_path: Path, published: dict[str, Path]) -> dict[str, Path]:
    """A copy of the published state: raw, marts and working database."""
    copy = {
        key: tmp_path / path.relative_to(published["raw"].parent) for key, path in published.items()
    }
    shutil.copytree(published["raw"], copy["raw"])
    shutil.copytree(published["marts"].parent, copy["marts"].parent)
    shutil.copytree(published["work"].parent, copy["work"].parent)
    return copy


def refresh(place: dict[str, Path], as_of: dt.date = AS_OF) -> str:
    with failures.unwrapped():  # the failure in full, as the command line shows it
        return nightly_refresh(
            str(place["raw"]), str(place["marts"]), str(place["work"]), 2021, as_of,
            allow_older=True, force=True,  # every refresh rebuilds
        )  # fmt: skip


def test_run_twice_gives_identical_marts_and_a_copy_changes_nothing(place) -> None:
    refresh(place)
    first = marts_content(place["marts"])
    assert len(first["scoreboard"]) == 15
    refresh(place)
    assert marts_content(place["marts"]) == first
    export = sorted((place["raw"] / "registrations").iterdir())[0]
    shutil.copy(export, export.with_name("副本_" + export.name))
    refresh(place)
    assert marts_content(place["marts"]) == first


def test_published_file_holds_marts_and_reference_only(place) -> None:
    refresh(place)
    con = duckdb.connect(str(place["marts"]), read_only=True)
    schemas = {
        r[0] for r in con.execute("select distinct schema_name from duckdb_tables()").fetchall()
    }
    columns = {
        r[0]
        for r in con.execute(
            "select distinct column_name from duckdb_columns() where schema_name = 'marts'"
        ).fetchall()
    }
    con.close()
    assert schemas == {"marts", "reference"}
    assert not columns & {"student_id", "student_name", "name", "ethnicity"}


def test_run_log_records_files_and_outcome(place) -> None:
    run_id = refresh(place)
    con = duckdb.connect(str(place["work"]), read_only=True)
    outcome = con.execute("select outcome from meta.run_log where run_id = ?", [run_id]).fetchone()
    files = con.execute(
        "select count(*) from meta.run_log_files where run_id = ?", [run_id]
    ).fetchone()[0]
    con.close()
    assert outcome == ("published",)
    assert files == sum(1 for p in place["raw"].rglob("*") if p.is_file())


def test_as_of_replays_a_past_night(place) -> None:
    refresh(place, dt.date(2021, 8, 20))
    con = duckdb.connect(str(place["marts"]), read_only=True)
    latest = con.execute("select max(as_of_date) from marts.rate_history").fetchone()[0]
    statuses = dict(
        con.execute(
            "select milestone_date, min(status) from marts.milestone_rates group by 1"
        ).fetchall()
    )
    progress = con.execute("select distinct next_milestone from marts.progress").fetchall()
    con.close()
    assert latest <= dt.date(2021, 8, 20)
    assert statuses[dt.date(2021, 6, 15)] == "final"
    assert statuses[dt.date(2021, 12, 15)] == "provisional"
    assert progress == [(dt.date(2021, 12, 15),)]


def test_removing_a_wrongly_dropped_export_removes_its_effect(tmp_path) -> None:
    import polars as pl

    from employment_eval.generate import generate

    place = {
        "raw": tmp_path / "raw",
        "marts": tmp_path / "m" / "e.duckdb",
        "work": tmp_path / "w" / "w.duckdb",
    }
    generate(place["raw"], year=2021, seed=5, scale=0.2, exports=4, fmt="csv")
    refresh(place)
    before = marts_content(place["marts"])
    last = sorted((place["raw"] / "registrations").iterdir())[-1]
    frame = pl.read_csv(last, infer_schema=False)
    wrong = frame.with_columns(
        pl.lit("2021-12-19").alias("导出日期"),
        pl.lit("70").alias("毕业去向代码"),
        pl.lit("未鉴证").alias("鉴证状态"),
    )
    wrong_path = place["raw"] / "registrations" / "错误导出_2021-12-19.csv"
    wrong.write_csv(wrong_path)
    refresh(place)
    assert marts_content(place["marts"]) != before
    wrong_path.unlink()
    refresh(place)
    assert marts_content(place["marts"]) == before


BAD_INPUTS = {
    "unknown unit": (
        "registrations/坏_2021-12-18.csv",
        "学号,姓名,民族,培养单位,学历层次,毕业年份,毕业去向代码,鉴证状态,鉴证日期\n"
        "0999,张三,汉族,瑞金医,硕士,2021,10,已鉴证,2021-06-01\n",
        "瑞金医",
    ),
    "unknown destination": (
        "registrations/坏_2021-12-18.csv",
        "学号,姓名,民族,培养单位,学历层次,毕业年份,毕业去向代码,鉴证状态,鉴证日期\n"
        "0999,张三,汉族,瑞金,硕士,2021,99,已鉴证,2021-06-01\n",
        "毕业去向代码",
    ),
    "xls file": ("registrations/导出_2021-12-18.xls", "x", ".xlsx"),
    "no as-of date": (
        "registrations/导出.csv",
        "学号,姓名,民族,培养单位,学历层次,毕业年份,毕业去向代码,鉴证状态,鉴证日期\n"
        "0999,张三,汉族,瑞金,硕士,2021,10,已鉴证,2021-06-01\n",
        "导出.csv",
    ),
    "bad roster group": (
        "special_groups/名单2.csv",
        "学号,群体,毕业年份\n0001,低保,2021\n",
        "群体",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_reported_and_nothing_is_published(published_place, case: str) -> None:
    place = published_place
    published = sha(place["marts"])
    name, content, expected = BAD_INPUTS[case]
    (place["raw"] / name).write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        refresh(place)
    assert expected in str(info.value)
    assert sha(place["marts"]) == published
    assert not list(place["marts"].parent.glob(".*building*"))
    con = duckdb.connect(str(place["work"]), read_only=True)
    last = con.execute(
        "select outcome from meta.run_log order by started_at desc limit 1"
    ).fetchone()
    con.close()
    assert last == ("failed",)


def test_raw_files_unchanged_by_runs(published_place) -> None:
    place = published_place
    before = {p: sha(p) for p in place["raw"].rglob("*") if p.is_file()}
    refresh(place)
    (place["raw"] / "submissions" / "坏.csv").write_text("单位,年度\n不存在,2021\n", "utf-8")
    with pytest.raises(InputError):
        refresh(place)
    after = {p: sha(p) for p in place["raw"].rglob("*") if p.is_file() and p.name != "坏.csv"}
    assert after == before


def test_each_run_attaches_artifacts(place) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    refresh(place)
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(
                    any_=["scoreboard-2021", "quality-summary", "furthest-behind-2021"]
                )
            )
        )
    assert {a.key for a in found} == {"scoreboard-2021", "quality-summary", "furthest-behind-2021"}
    board = next(a for a in found if a.key == "scoreboard-2021")
    rows = json.loads(board.data) if isinstance(board.data, str) else board.data
    assert len(rows) == 15 and {"名次", "单位", "总分", "先进单位"} <= set(rows[0])


def test_a_marts_file_named_marts_duckdb_still_reads(place) -> None:
    from employment_eval.render.console import scoreboard_text

    place = {**place, "marts": place["marts"].with_name("marts.duckdb")}
    refresh(place)
    assert "附属专科医院" in scoreboard_text(place["marts"], 2021)


def test_an_export_is_validated_once_per_content(place, monkeypatch) -> None:
    from employment_eval import quality

    refresh(place)
    suite = next(s for s in quality.load_suites() if s.name == "stg_registrations")
    con = duckdb.connect(str(place["work"]))
    try:
        exports = con.execute("select count(*) from staging.stg_exports").fetchall()[0][0]
        validated = con.execute("select count(*) from meta.files_validated").fetchall()[0][0]
        assert validated == exports > 0
        quality.prepare_already_validated(con)
        assert len(quality.suite_frame(suite, con)) == 0  # nothing left to validate tonight
        monkeypatch.setattr(quality, "validation_fingerprint", lambda con, s: "suites-changed")
        quality.prepare_already_validated(con)
        rows = con.execute("select count(*) from staging.stg_registrations").fetchall()[0][0]
        assert len(quality.suite_frame(suite, con)) == rows  # a new suite sees every export
    finally:
        con.close()
