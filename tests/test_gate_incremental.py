"""The gate validates what is new: an export whose rows passed the per-file suite (every
expectation, warnings too) under the same suites, rules and code is not validated again, and a
season validated night by night gives exactly the results of the same season validated in one
full run — counts, failing rows, samples, rows checked, messages and the published marts.

A warning planted in the first export keeps that export validated every night (its warning is
reported every night); an error planted in an old export that passed is caught as soon as
the suites or the rules change."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from employment_eval import adjustments, audit, build, publish, quality, warehouse
from employment_eval.ingest.api import ingest
from employment_eval.ingest.discover import sha256_of
from employment_eval.options import RunOptions
from employment_eval.problems import raise_if_errors

AS_OF = dt.date(2021, 12, 20)


def _exports(raw: Path) -> list[Path]:
    return sorted((raw / "registrations").iterdir())


def _link_season(raw: Path, dst: Path, exports: list[Path]) -> Path:
    """A raw folder with the given exports and the season's other inputs (hard links); the
    special-groups roster lists the students of the newest export: only with every export."""
    every = len(exports) == len(_exports(raw))
    for path in raw.rglob("*"):
        if not path.is_file() or ("special_groups" in path.parts and not every):
            continue
        if "registrations" not in path.parts or path in exports:
            target = dst / path.relative_to(raw)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
    for kind in ("registrations", "special_groups"):
        (dst / kind).mkdir(parents=True, exist_ok=True)
    return dst


def _first(raw: Path) -> str:
    """The content hash of the first export (by name): it arrives on the first night."""
    return sha256_of(_exports(raw)[0])


def _plant_warning(con: duckdb.DuckDBPyConnection, raw: Path) -> None:
    """An unknown employer type in row 3 of the first export (a warning of the gate)."""
    con.execute(
        "update raw.registrations set employer_type = '外星企业', employer_type_code = null "
        "where file_sha256 = ? and source_row = 3",
        [_first(raw)],
    )


def _night(place: Path, raw: Path, suites=None, plant: bool = False):
    """One night as the flow runs its stages; returns (results, message or None)."""
    work, marts = place / "work" / "warehouse.duckdb", place / "marts" / "employment.duckdb"
    work.parent.mkdir(parents=True, exist_ok=True)
    marts.parent.mkdir(parents=True, exist_ok=True)
    opts = RunOptions.resolve(raw, marts, work, 2021, AS_OF)
    con = warehouse.open_work(work)
    try:
        ingest(raw, con, as_of=AS_OF, run_id=opts.run_id)
        build.build_models(con)
        if plant:
            _plant_warning(con, raw)
            build.build_models(con)
        raise_if_errors(adjustments.decision_problems(con))
        try:
            candidate, results = audit.audit_candidate(con, opts, suites, data_docs=False)
        except audit.AuditError as exc:
            return exc.results, str(exc).rsplit("\n", 1)[0]
        publish.publish(candidate, marts)
        quality.mark_validated(con)
        return results, None
    finally:
        con.close()


def _marts(place: Path) -> dict[str, list]:
    """Every published table's rows, but the run's own record (marts.run_info, the run id)."""
    con = publish.open_published(place / "marts" / "employment.duckdb")
    try:
        tables = con.execute(
            "select schema_name, table_name, list(column_name) from duckdb_columns() "
            "where not internal and not (schema_name = 'marts' and table_name = 'run_info') "
            "group by all "
            "order by all"
        ).fetchall()
        out = {}
        for schema, table, columns in tables:
            rest = "exclude (run_id)" if "run_id" in columns else ""
            query = f'select * {rest} from "{schema}"."{table}" order by all'
            out[f"{schema}.{table}"] = con.execute(query).fetchall()
        return out
    finally:
        con.close()


def _frame_files(place: Path) -> set[str]:
    """The exports the per-file suite would validate tonight in this working database."""
    con = duckdb.connect(str(place / "work" / "warehouse.duckdb"))
    try:
        quality.prepare_already_validated(con)
        suite = next(s for s in quality.load_suites() if s.per_file is not None)
        frame = quality.suite_frame(suite, con)
        return set(frame["file_sha256"])
    finally:
        con.close()


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path):
    """The sample season night by night (half of the exports, then all), and the
    same season in one full run; the first export carries a planted warning."""
    exports = _exports(sample_raw)
    root = tmp_path_factory.mktemp("incremental")
    nightly = root / "nightly"
    results = []
    for i, k in enumerate((len(exports) // 2, len(exports))):
        raw = _link_season(sample_raw, root / f"raw-{i}", exports[:k])
        results.append(_night(nightly, raw, plant=i == 0))
    full = root / "full"
    whole = _night(full, _link_season(sample_raw, root / "raw-full", exports), plant=True)
    return {"root": root, "nightly": nightly, "full": full, "results": results, "whole": whole}


def test_a_season_night_by_night_equals_one_full_run(nights) -> None:
    last, message = nights["results"][-1]
    whole, whole_message = nights["whole"]
    assert message is None and whole_message is None  # both published
    assert last == whole  # every field: counts, rows, samples, rows checked, exceptions
    warning = {r.check_id: r for r in last}["stg_registrations.employer_type_in_reference"]
    assert warning.failing == 1 and warning.failing_rows[0]["source_row"] == 3
    checked = {r.check_id: r.detail.get("rows_checked") for r in last}
    con = duckdb.connect(str(nights["full"] / "work" / "warehouse.duckdb"), read_only=True)
    rows = con.execute("select count(*) from staging.stg_registrations").fetchone()[0]
    con.close()
    assert checked["stg_registrations.one_row_per_student"] == rows
    assert _marts(nights["nightly"]) == _marts(nights["full"])


def test_only_new_exports_and_those_with_warnings_are_validated_again(nights, sample_raw) -> None:
    first = _first(sample_raw)
    con = duckdb.connect(str(nights["nightly"] / "work" / "warehouse.duckdb"), read_only=True)
    try:
        exports = {
            r[0] for r in con.execute("select file_sha256 from staging.stg_exports").fetchall()
        }
        validated = {r[0] for r in con.execute("select value from meta.files_validated").fetchall()}
    finally:
        con.close()
    assert validated == exports - {first}  # the export with a warning is never marked
    # every night the warning is reported again
    for results, _ in nights["results"]:
        found = {r.check_id: r for r in results}["stg_registrations.employer_type_in_reference"]
        assert found.failing == 1
    assert _frame_files(nights["nightly"]) == {first}  # tonight: only that export again


def _failing_suites(tmp: Path, student: str) -> list[quality.Suite]:
    """The suites with one more error-level rule in the per-file suite: the student number
    `student` must not occur (as a changed rule would catch a row that passed before)."""
    folder = tmp / "expectations"
    folder.mkdir()
    for suite in quality.load_suites():
        data = json.loads(suite.path.read_text(encoding="utf-8"))
        if suite.per_file is not None:
            data["expectations"].append(
                {
                    "type": "expect_column_values_to_not_be_in_set",
                    "kwargs": {"column": "student_id", "value_set": [student]},
                    "meta": {
                        "check_id": "planted",
                        "severity": "error",
                        "description_zh": "学号不是被撤销的学号",
                    },
                }
            )
        (folder / suite.path.name).write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return quality.load_suites(folder)


def test_a_failure_in_an_old_export_is_caught_when_the_suites_change(nights, tmp_path) -> None:
    place = tmp_path / "place"
    shutil.copytree(nights["nightly"], place)
    con = duckdb.connect(str(place / "work" / "warehouse.duckdb"), read_only=True)
    second = con.execute(
        "select source_file, file_sha256 from staging.stg_exports "
        "order by as_of_date, source_file limit 1 offset 1"
    ).fetchone()
    student = con.execute(
        "select student_id from staging.stg_registrations where file_sha256 = ? and source_row = 4",
        [second[1]],
    ).fetchone()[0]
    validated = {r[0] for r in con.execute("select value from meta.files_validated").fetchall()}
    con.close()
    assert second[1] in validated  # it passed on an earlier night
    raw = nights["root"] / "raw-1"
    results, message = _night(place, raw, suites=_failing_suites(tmp_path, student))
    planted = {r.check_id: r for r in results}["stg_registrations.planted"]
    assert planted.failing >= 1 and {"source_file": second[0], "source_row": 4} in (
        planted.failing_rows
    )
    assert message is not None and "学号不是被撤销的学号" in message


def test_a_rules_change_validates_every_export_again(nights, tmp_path) -> None:
    place = tmp_path / "place"
    shutil.copytree(nights["nightly"], place)
    con = duckdb.connect(str(place / "work" / "warehouse.duckdb"))
    try:
        exports = {
            r[0] for r in con.execute("select file_sha256 from staging.stg_exports").fetchall()
        }
        # the rules as loaded into the working database (meta.build_inputs) are others
        con.execute("update meta.build_inputs set fingerprint = 'other rules:' || fingerprint")
    finally:
        con.close()
    assert _frame_files(place) == exports


def test_a_per_file_suite_must_hold_per_file(tmp_path) -> None:
    suite = next(s for s in quality.load_suites() if s.per_file is not None)
    data = json.loads(suite.path.read_text(encoding="utf-8"))
    unique = next(e for e in data["expectations"] if "column_list" in e["kwargs"])
    unique["kwargs"]["column_list"].remove(data["per_file"]["column"])
    (tmp_path / "s.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    with pytest.raises(quality.SuiteError, match="唯一性跨越文件"):
        quality.load_suites(tmp_path)


def test_the_same_without_narrowing(nights, tmp_path, monkeypatch) -> None:
    """GX on every new row (gate_rows narrows nothing): the night's results are the same,
    and the files that passed are told apart from the file with the warning alike."""
    from employment_eval import gate_rows

    monkeypatch.setattr(gate_rows, "predicates", lambda *a: None)
    place = tmp_path / "place"
    shutil.copytree(nights["nightly"], place)
    con = duckdb.connect(str(place / "work" / "warehouse.duckdb"))
    con.execute("delete from meta.files_validated")  # every export is new again tonight
    con.close()
    results, message = _night(place, nights["root"] / "raw-1")
    assert message is None and results == nights["whole"][0]
    con = duckdb.connect(str(place / "work" / "warehouse.duckdb"), read_only=True)
    validated = {r[0] for r in con.execute("select value from meta.files_validated").fetchall()}
    exports = {r[0] for r in con.execute("select file_sha256 from staging.stg_exports").fetchall()}
    con.close()
    assert validated == exports - {_first(nights["root"] / "raw-1")}
