"""The data-quality gate (write–audit–publish with Great Expectations).

Every error-level expectation of expectations/*.json is broken once: the working database (or
the candidate file) is tampered with after a clean build, the gate is run on the expectation's
suite, and the test asserts the AuditError, its Chinese message (suite, expectation, count, raw
file and rows), the full report in the working folder, and the published marts unchanged.
Then the whole gate once in process (every suite, grains, Data Docs) and twice end to end:
the flow in process and the command line in a subprocess (exit 1)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from employment_eval import audit, build, publish, quality, warehouse
from employment_eval.ingest.api import ingest
from employment_eval.options import RunOptions

AS_OF = dt.date(2021, 12, 20)
SUITES = {s.name: s for s in quality.load_suites()}
LATEST = "(select file_sha256 from staging.stg_exports order by as_of_date desc limit 1)"
REG = f"update raw.registrations set {{}} where file_sha256 = {LATEST} and source_row = 3"
ROSTER = "update raw.special_groups set {} where source_row = 2"
LEDGER = "update raw.submissions set {} where source_row = 2"
FIRST = "update marts.{} set {} where rowid = 0"

# suite.check_id → (SQL on the working database after the build, SQL on the candidate file,
# a text the message must contain besides the suite and the expectation's description)
CASES: dict[str, tuple[list[str], list[str], str]] = {
    # -- raw / staging ---------------------------------------------------------------------
    "stg_registrations.one_row_per_student": (
        [
            "insert into raw.registrations select * replace (source_row + 100000 as source_row) "
            f"from raw.registrations where file_sha256 = {LATEST} and source_row = 3"
        ],
        [],
        "第 3、100003 行",
    ),
    "stg_registrations.student_id_not_null": ([REG.format("student_id = null")], [], "第 3 行"),
    "stg_registrations.name_not_null": ([REG.format("name = null")], [], "第 3 行"),
    "stg_registrations.graduation_year_not_null": (
        [REG.format("cohort_year = null")],
        [],
        "第 3 行",
    ),
    "stg_registrations.verification_status_not_null": (
        [REG.format("is_verified = null")],
        [],
        "第 3 行",
    ),
    "stg_registrations.verified_has_date": (
        [REG.format("is_verified = true, verified_date = null")],
        [],
        "第 3 行",
    ),
    "stg_registrations.unit_not_null": ([REG.format("unit_code = null")], [], "第 3 行"),
    "stg_registrations.unit_in_reference": ([REG.format("unit_code = 'mars'")], [], "第 3 行"),
    "stg_registrations.degree_not_null": ([REG.format("degree_code = null")], [], "第 3 行"),
    "stg_registrations.degree_in_reference": ([REG.format("degree_code = 'phd'")], [], "第 3 行"),
    "stg_registrations.destination_not_null": (
        [REG.format("destination_family = null")],
        [],
        "第 3 行",
    ),
    "stg_registrations.destination_in_reference": (
        [REG.format("destination_family = '99'")],
        [],
        "第 3 行",
    ),
    "stg_registrations.ethnicity_not_null": ([REG.format("ethnicity_name = null")], [], "第 3 行"),
    "stg_registrations.ethnicity_in_reference": (
        [REG.format("ethnicity_name = '火星族'")],
        [],
        "第 3 行",
    ),
    "stg_registrations.verified_not_after_export": (
        [REG.format("is_verified = true, verified_date = date '2022-01-31'")],
        [],
        "第 3 行",
    ),
    "stg_exports_units.some_export": (
        ["delete from meta.current_files where kind = 'registrations'"],
        [],
        "",
    ),
    "stg_exports_units.every_unit_in_every_export": (
        [f"delete from raw.registrations where file_sha256 = {LATEST} and unit_code = 'chest'"],
        [],
        "2021 chest",
    ),
    "stg_special_groups.student_id_not_null": ([ROSTER.format("student_id = null")], [], "第 2 行"),
    "stg_special_groups.graduation_year_not_null": (
        [ROSTER.format("cohort_year = null")],
        [],
        "第 2 行",
    ),
    "stg_special_groups.group_in_reference": (
        [ROSTER.format("special_group = 'ethnic_minority'")],
        [],
        "第 2 行",
    ),
    "stg_special_groups.student_in_cohort": (
        [ROSTER.format("student_id = '9999999999'")],
        [],
        "第 2 行",
    ),
    "stg_submissions.one_row_per_unit": (
        [
            "insert into raw.submissions select * replace (source_row + 100 as source_row) "
            "from raw.submissions where source_row = 2"
        ],
        [],
        "第 2、102 行",
    ),
    "stg_submissions.unit_not_null": ([LEDGER.format("unit_code = null")], [], "第 2 行"),
    "stg_submissions.unit_in_reference": ([LEDGER.format("unit_code = 'mars'")], [], "第 2 行"),
    "stg_submissions.year_not_null": ([LEDGER.format("ledger_year = null")], [], "第 2 行"),
    "stg_submissions.i1_within_bounds": ([LEDGER.format("i1_score = 6")], [], "第 2 行"),
    "stg_submissions.i4_within_bounds": ([LEDGER.format("i4_score = 21")], [], "第 2 行"),
    "stg_submissions.i1_not_negative": ([LEDGER.format("i1_score = -1")], [], "第 2 行"),
    "stg_submissions.i4_not_negative": ([LEDGER.format("i4_score = -0.5")], [], "第 2 行"),
    "stg_submissions.i2_not_negative": ([LEDGER.format("i2_complaint_count = -1")], [], "第 2 行"),
    "stg_submissions.i5_not_negative": ([LEDGER.format("i5_talk_count = -1")], [], "第 2 行"),
    "stg_submissions.i7_not_negative": ([LEDGER.format("i7_form_count = -1")], [], "第 2 行"),
    "stg_submissions.i8_not_negative": ([LEDGER.format("i8_story_count = -1")], [], "第 2 行"),
    # -- marts (tampered in the working database, then copied into the candidate) ------------
    "marts_milestone_rates.rate_within_0_1": (
        [FIRST.format("milestone_rates", "employment_rate = 1.5")],
        [],
        "例：2021",
    ),
    "marts_milestone_rates.rate_not_null": (
        [FIRST.format("milestone_rates", "employment_rate = null")],
        [],
        "例：2021",
    ),
    "marts_milestone_rates.target_within_0_1": (
        [FIRST.format("milestone_rates", "target_rate = 1.2")],
        [],
        "例：2021",
    ),
    "marts_milestone_rates.employed_le_graduates": (
        [FIRST.format("milestone_rates", "employed = graduates + 1")],
        [],
        "例：2021",
    ),
    "marts_milestone_rates.graduates_positive": (
        [FIRST.format("milestone_rates", "graduates = 0, employed = 0")],
        [],
        "例：2021",
    ),
    "marts_milestone_rates.employed_not_negative": (
        [FIRST.format("milestone_rates", "employed = -1")],
        [],
        "例：2021",
    ),
    "marts_milestone_rates.bonus_not_negative": (
        [FIRST.format("milestone_rates", "bonus = -1")],
        [],
        "例：2021",
    ),
    "marts_milestone_rates.deduction_not_negative": (
        [FIRST.format("milestone_rates", "deduction = -1")],
        [],
        "例：2021",
    ),
    "marts_milestone_rates.degree_in_reference": (
        [FIRST.format("milestone_rates", "degree = 'phd'")],
        [],
        "phd",
    ),
    "marts_milestone_rates.status_in_set": (
        [FIRST.format("milestone_rates", "status = 'draft'")],
        [],
        "例：2021",
    ),
    "marts_special_group_rates.rate_within_0_1": (
        [FIRST.format("special_group_rates", "employment_rate = 2")],
        [],
        "例：2021",
    ),
    "marts_special_group_rates.employed_le_graduates": (
        [FIRST.format("special_group_rates", "employed = graduates + 1")],
        [],
        "例：2021",
    ),
    "marts_special_group_rates.group_in_reference": (
        [FIRST.format("special_group_rates", "special_group = 'rich'")],
        [],
        "rich",
    ),
    "marts_guided_employment.ratio_within_0_1": (
        [FIRST.format("guided_employment", "ratio = 1.5")],
        [],
        "例：2021",
    ),
    "marts_guided_employment.guided_le_denominator": (
        [FIRST.format("guided_employment", "guided = denominator + 1")],
        [],
        "例：2021",
    ),
    "marts_guided_employment.points_not_negative": (
        [FIRST.format("guided_employment", "points = -1")],
        [],
        "例：2021",
    ),
    "marts_guided_employment.points_le_base": (
        [FIRST.format("guided_employment", "points = 16")],
        [],
        "例：2021",
    ),
    "marts_rate_history.rate_within_0_1": (
        [FIRST.format("rate_history", "employment_rate = 1.01")],
        [],
        "例：2021",
    ),
    "marts_rate_history.employed_le_graduates": (
        [FIRST.format("rate_history", "employed = graduates + 1")],
        [],
        "例：2021",
    ),
    "marts_progress.target_within_0_1": (
        [
            "insert into marts.progress by name select 2021 as year, 'ruijin' as unit_code, "
            "'master' as degree, 1.5 as target_rate, 10 as graduates, 5 as employed_now, "
            "0 as gap_persons"
        ],
        [],
        "2021 ruijin master",
    ),
    "marts_progress.employed_le_graduates": (
        [
            "insert into marts.progress by name select 2021 as year, 'ruijin' as unit_code, "
            "'master' as degree, 0.9 as target_rate, 10 as graduates, 11 as employed_now, "
            "0 as gap_persons"
        ],
        [],
        "2021 ruijin master",
    ),
    "marts_progress.gap_not_negative": (
        [
            "insert into marts.progress by name select 2021 as year, 'ruijin' as unit_code, "
            "'master' as degree, 0.9 as target_rate, 10 as graduates, 5 as employed_now, "
            "-1 as gap_persons"
        ],
        [],
        "2021 ruijin master",
    ),
    "marts_indicator_scores.indicator_in_rules": (
        [FIRST.format("indicator_scores", "indicator = 'I10'")],
        [],
        "I10",
    ),
    "marts_indicator_scores.category_in_set": (
        [FIRST.format("indicator_scores", "category = 'misc'")],
        [],
        "例：2021",
    ),
    "marts_indicator_scores.points_not_null": (
        [FIRST.format("indicator_scores", "computed_points = null")],
        [],
        "例：2021",
    ),
    "marts_indicator_scores.points_not_negative": (
        [FIRST.format("indicator_scores", "computed_points = -1")],
        [],
        "例：2021",
    ),
    "marts_indicator_scores.points_within_base": (
        [
            "update marts.indicator_scores set computed_points = base_points + 1 "
            "where unit_code = 'ruijin' and indicator = 'I1'"
        ],
        [],
        "2021 ruijin I1",
    ),
    "marts_scoreboard.nine_indicator_rows": (
        ["delete from marts.indicator_scores where unit_code = 'ruijin' and indicator = 'I5'"],
        [],
        "2021 ruijin",
    ),
    "marts_scoreboard.unit_in_reference": (
        ["update marts.scoreboard set unit_code = 'mars' where unit_code = 'chest'"],
        [],
        "2021 mars",
    ),
    "marts_scoreboard.group_in_reference": (
        ["update marts.scoreboard set unit_group = 'other' where unit_code = 'chest'"],
        [],
        "2021 chest",
    ),
    "marts_scoreboard.rank_positive": (
        ["update marts.scoreboard set rank_in_group = 0 where unit_code = 'chest'"],
        [],
        "2021 chest",
    ),
    "marts_scoreboard.total_not_null": (
        ["update marts.scoreboard set total_points = null where unit_code = 'chest'"],
        [],
        "2021 chest",
    ),
    "marts_scoreboard.status_in_set": (
        ["update marts.scoreboard set status = 'draft' where unit_code = 'chest'"],
        [],
        "2021 chest",
    ),
    "marts_standing.matches_scoreboard": (
        ["update marts.unit_standing set rank_in_group = 9 where unit_code = 'chest'"],
        [],
        "2021 chest",
    ),
    "marts_standing.label_consistent": (
        ["update marts.unit_standing set standing_label = null where unit_code = 'smhc'"],
        [],
        "2021 smhc",
    ),
    "marts_standing.decision_consistent": (
        ["update marts.unit_standing set decision_note = null where unit_code = 'smhc'"],
        [],
        "2021 smhc",
    ),
    "marts_standing.adjustment_consistent": (
        ["update marts.unit_standing set has_adjustment = true where unit_code = 'ninth'"],
        [],
        "2021 ninth",
    ),
    "marts_standing.reason_consistent": (
        ["update marts.year_standing set provisional_reasons = null, status = 'provisional'"],
        [],
        "2021",
    ),
    "marts_standing.status_consistent": (
        ["update marts.unit_standing set status = 'draft' where unit_code = 'chest'"],
        [],
        "2021 chest",
    ),
    "marts_advanced_units.every_unit_on_board": (
        ["delete from marts.scoreboard where unit_code = 'chest'"],
        [],
        "2021 specialty",
    ),
    "marts_advanced_units.quota_known": (
        ["delete from reference.rule_quotas where unit_group = 'school'"],
        [],
        "2021 school",
    ),
    "marts_advanced_units.advanced_le_quota": (
        ["update marts.scoreboard set is_advanced = true where unit_group = 'school'"],
        [],
        "2021 school",
    ),
    "marts_advanced_units.advanced_eq_quota": (
        [
            "update marts.scoreboard set is_advanced = false, tie_at_cutoff = false "
            "where unit_group = 'general'"
        ],
        [],
        "2021 general",
    ),
    "marts_advanced_units.decisions_only_for_ties": (
        [
            "update marts.scoreboard set is_decided_by_committee = true, "
            "tie_at_cutoff = false where unit_code = 'chest'"
        ],
        [],
        "2021 specialty",
    ),
    # -- morning report marts (progress, verification_backlog, rate_changes) ------------------
    "marts_progress.pending_le_not_counted": (
        [
            "insert into marts.progress by name select 2021 as year, 'ruijin' as unit_code, "
            "'master' as degree, 10 as graduates, 8 as employed_now, 3 as pending_verification"
        ],
        [],
        "2021 ruijin master",
    ),
    "marts_progress.gap_after_verification_le_gap": (
        [
            "insert into marts.progress by name select 2021 as year, 'ruijin' as unit_code, "
            "'master' as degree, 2 as gap_persons, 3 as gap_after_verification"
        ],
        [],
        "2021 ruijin master",
    ),
    "marts_progress.behind_rank_positive": (
        [
            "insert into marts.progress by name select 2021 as year, 'ruijin' as unit_code, "
            "'master' as degree, 0 as behind_rank_in_group"
        ],
        [],
        "2021 ruijin master",
    ),
    "marts_verification_backlog.registered_le_graduates": (
        [FIRST.format("verification_backlog", "registered_employed = graduates + 1")],
        [],
        "例：2021",
    ),
    "marts_verification_backlog.employed_le_registered": (
        [FIRST.format("verification_backlog", "employed = registered_employed + 1")],
        [],
        "例：2021",
    ),
    "marts_verification_backlog.pending_is_registered_not_counted": (
        [FIRST.format("verification_backlog", "pending_verification = pending_verification + 1")],
        [],
        "例：2021",
    ),
    "marts_verification_backlog.employed_matches_rate_history": (
        [FIRST.format("verification_backlog", "employed = employed + 1")],
        [],
        "例：2021",
    ),
    "marts_rate_changes.previous_before_export": (
        [
            "update marts.rate_changes set previous_export_date = as_of_date "
            "where previous_export_date is not null"
        ],
        [],
        "例：2021",
    ),
    "marts_unit_sheet.points_at_risk_not_negative": (
        [FIRST.format("unit_sheet", "points_at_risk = -1")],
        [],
        "例：2021",
    ),
    "marts_unit_sheet.points_at_risk_le_base": (
        [FIRST.format("unit_sheet", "node_base_points = 15, points_at_risk = 16")],
        [],
        "例：2021",
    ),
    "marts_unit_sheet.verification_closes_le_gap": (
        [FIRST.format("unit_sheet", "gap_persons = 1, verification_closes = 2")],
        [],
        "例：2021",
    ),
    "marts_unit_sheet.verification_closes_le_pending": (
        [FIRST.format("unit_sheet", "pending_verification = 1, verification_closes = 2")],
        [],
        "例：2021",
    ),
    "marts_season_curves.rate_within_0_1": (
        [FIRST.format("season_curves", "employment_rate = 1.5")],
        [],
        "例：2021",
    ),
    "marts_season_curves.last_year_rate_within_0_1": (
        [FIRST.format("season_curves", "last_year_rate = 1.5")],
        [],
        "例：2021",
    ),
    "marts_season_curves.last_year_export_before_date": (
        [FIRST.format("season_curves", "last_year_export_date = curve_date")],
        [],
        "例：2021",
    ),
    "marts_rate_changes.week_ago_7_to_10_days": (
        [
            "update marts.rate_changes set week_ago_export_date = as_of_date - 6 "
            "where previous_export_date is not null"
        ],
        [],
        "例：2021",
    ),
    "marts_rate_changes.rate_change_within_bounds": (
        [FIRST.format("rate_changes", "rate_change_previous = 1.5")],
        [],
        "例：2021",
    ),
    # -- the published file ------------------------------------------------------------------
    "published_personal_data.has_columns": (
        ["drop schema marts cascade", "drop schema reference cascade"],
        [],
        "",
    ),
    "published_personal_data.only_marts_and_reference": (
        [],
        ["create schema staging", "create table staging.stg_units as select 1 as n"],
        "staging stg_units n",
    ),
    "published_personal_data.no_personal_column_names": (
        [],
        ["create table marts.roster (姓名 varchar)"],
        "marts roster 姓名",
    ),
    "published_personal_data.no_personal_values": (
        [
            "create table marts.graduate_hashes as select student_id as hashed_id "
            "from staging.stg_registrations limit 3",
            "create table reference.contacts as select student_name as contact "
            "from staging.stg_registrations limit 1",
        ],
        [],
        "marts graduate_hashes hashed_id",
    ),
}


def error_expectations() -> set[str]:
    return {
        f"{s.name}.{e['meta']['check_id']}"
        for s in SUITES.values()
        for e in s.expectations
        if e["meta"]["severity"] == "error"
    }


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> dict[str, Path]:
    """A clean build of the sample season (working database) and its published marts."""
    root = tmp_path_factory.mktemp("quality")
    place = {
        "raw": sample_raw,
        "work": root / "work" / "warehouse.duckdb",
        "marts": root / "marts" / "employment.duckdb",
    }
    con = warehouse.open_work(place["work"])
    try:
        ingest(sample_raw, con, as_of=AS_OF, run_id="setup")
        build.build_models(con)
        candidate = publish.export_candidate(con, place["marts"], "setup")
        publish.publish(candidate, place["marts"])
        place["latest"] = Path(
            con.execute(
                "select source_file from staging.stg_exports order by as_of_date desc limit 1"
            ).fetchall()[0][0]
        )
    finally:
        con.close()
    return place


@pytest.fixture()
def gate(season, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh copy of the clean build; returns a function that tampers with it and runs the
    gate (export → audit → discard on failure) on the given suites."""
    work = tmp_path / "work" / "warehouse.duckdb"
    marts = tmp_path / "marts" / "employment.duckdb"
    work.parent.mkdir()
    marts.parent.mkdir()
    shutil.copy(season["work"], work)
    shutil.copy(season["marts"], marts)
    opts = RunOptions(season["raw"], marts, work, 2021, AS_OF)

    def run(
        work_sql: list[str],
        candidate_sql: list[str],
        suites: list[quality.Suite] | None,
        data_docs: bool = True,
    ):
        export = publish.export_candidate

        def tampered_export(con, marts_path, run_id):
            path = export(con, marts_path, run_id)
            if candidate_sql:
                cand = duckdb.connect(str(path))
                for statement in candidate_sql:
                    cand.execute(statement)
                cand.execute("checkpoint")
                cand.close()
            return path

        monkeypatch.setattr(publish, "export_candidate", tampered_export)
        con = duckdb.connect(str(work))
        try:
            for statement in work_sql:
                con.execute(statement)
            return audit.audit_candidate(con, opts, suites, data_docs)
        finally:
            con.close()

    return run, opts


def test_every_error_expectation_has_a_breaking_case() -> None:
    assert set(CASES) == error_expectations()


def test_suites_load_with_every_expectation_and_a_severity() -> None:
    severities = set()
    for suite in SUITES.values():
        gx_suite = quality.build_expectation_suite(suite)
        assert len(gx_suite.expectations) == len(suite.expectations) > 0
        severities |= {e.meta["severity"] for e in gx_suite.expectations}
        assert {e.severity.value for e in gx_suite.expectations} <= {"critical", "warning"}
    assert severities == {"error", "warning"}
    assert {s.layer for s in SUITES.values()} == {"staging", "marts", "published"}


def test_a_mistyped_expectation_is_refused(tmp_path: Path) -> None:
    data = json.loads(SUITES["marts_rate_history"].path.read_text("utf-8"))
    data["expectations"][0]["type"] = "expect_column_values_to_be_betwen"
    (tmp_path / "bad.json").write_text(json.dumps(data), "utf-8")
    (suite,) = quality.load_suites(tmp_path)
    with pytest.raises(quality.SuiteError, match="expect_column_values_to_be_betwen"):
        quality.build_expectation_suite(suite)


@pytest.mark.parametrize("case", sorted(CASES))
def test_breaking_an_error_expectation_blocks_publishing(gate, season, case: str) -> None:
    run, opts = gate
    suite_name, check_id = case.split(".")
    suite = SUITES[suite_name]
    expectation = suite.expectation(check_id)
    work_sql, candidate_sql, where = CASES[case]
    published = sha(opts.marts_path)
    # the suite with this one expectation (GX costs ~0.1 s per expectation; Data Docs ~2 s):
    # the whole suites run in the tests below and end to end
    alone = dataclasses.replace(suite, expectations=(expectation,))
    with pytest.raises(audit.AuditError) as info:
        run(work_sql, candidate_sql, [alone], data_docs=False)
    message = str(info.value)
    failed = {r.check_id for r in info.value.results if not r.ok and r.severity == "error"}
    assert case in failed
    assert f"[错误] {suite.title_zh}：{expectation['meta']['description_zh']}——" in message
    assert "expect_" not in message and suite_name not in message  # only Chinese for the centre
    assert where in message
    if "source_file" in suite.row_id and where:  # the raw file is named
        assert any(
            f"{kind}/" in message for kind in ("registrations", "special_groups", "submissions")
        )
    # nothing published, no candidate left beside the marts, the report in the working folder
    assert sha(opts.marts_path) == published
    assert [p.name for p in opts.marts_path.parent.iterdir()] == [opts.marts_path.name]
    report = json.loads((audit.report_dir(opts) / "report.json").read_text("utf-8"))
    (check,) = [c for c in report["checks"] if c["check_id"] == case]
    assert report["outcome"] == "failed" and not check["success"] and check["failing"] >= 1
    assert str(audit.report_dir(opts) / "report.json") in message


def test_clean_build_passes_every_check_and_writes_report_and_data_docs(gate) -> None:
    run, opts = gate
    candidate, results = run([], [], None)
    try:
        assert candidate.exists()
        assert not [r.render() for r in results if not r.ok and r.severity == "error"]
        suites = {r.suite for r in results}
        assert set(SUITES) <= suites and "marts" in suites  # the suites and the grains
        out = audit.report_dir(opts)
        report = json.loads((out / "report.json").read_text("utf-8"))
        assert report["outcome"] == "passed"
        assert len(report["checks"]) == len(results)
        assert {s["name"]: s["expectations"] for s in report["suites"]} == {
            name: len(s.expectations) for name, s in SUITES.items()
        }
        assert (out / "data_docs" / "index.html").exists()
        pages = list((out / "data_docs" / "validations").rglob("*.html"))
        assert len(pages) == len(SUITES)
        assert out.is_relative_to(opts.work_dir)
        assert not out.is_relative_to(opts.marts_path.parent)
    finally:
        publish.discard(candidate)


def test_failure_report_quotes_sample_values_and_rows(gate, season) -> None:
    run, opts = gate
    with pytest.raises(audit.AuditError) as info:
        run(
            [REG.format("degree_code = 'phd'"), FIRST.format("scoreboard", "status = 'draft'")],
            [],
            [SUITES["stg_registrations"], SUITES["marts_scoreboard"]],
        )
    message = str(info.value)
    assert f"{season['latest']} 第 3 行" in message
    assert "phd" not in message  # the console names rows, the report quotes values
    report = json.loads((audit.report_dir(opts) / "report.json").read_text("utf-8"))
    checks = {c["check_id"]: c for c in report["checks"]}
    degree = checks["stg_registrations.degree_in_reference"]
    assert degree["sample_values"] == ["phd"]
    assert degree["failing_rows"] == [{"source_file": str(season["latest"]), "source_row": 3}]
    assert checks["marts_scoreboard.status_in_set"]["sample_values"] == ["draft"]
    html = "".join(
        p.read_text("utf-8") for p in (audit.report_dir(opts) / "data_docs").rglob("*.html")
    )
    assert "phd" in html and "stg_registrations" in html and "draft" in html


def test_warnings_are_reported_but_do_not_block(gate) -> None:
    run, _ = gate
    unknown = (
        "update raw.registrations set employer_type_code = null, employer_type = '外星企业' "
        f"where file_sha256 = {LATEST} and source_row = 3"
    )
    candidate, results = run(
        [unknown, LEDGER.format("i4_report_on = date '2021-05-01', i7_form_count = null")],
        [],
        [SUITES["stg_registrations"], SUITES["stg_submissions"]],
    )
    publish.discard(candidate)
    warned = {r.check_id: r for r in results if not r.ok}
    assert {
        "stg_registrations.employer_type_in_reference",
        "stg_submissions.i4_report_on_time",
        "stg_submissions.i7_filled",
    } <= set(warned)
    assert all(r.severity == "warning" for r in warned.values())
    assert "[警告]" in warned["stg_registrations.employer_type_in_reference"].render()


def test_a_missing_ledger_is_a_warning(gate) -> None:
    run, _ = gate
    candidate, results = run(
        ["delete from meta.current_files where kind = 'submissions'"],
        [],
        [SUITES["stg_submissions"], SUITES["stg_ledger_coverage"]],
    )
    publish.discard(candidate)
    (coverage,) = [r for r in results if r.check_id == "stg_ledger_coverage.every_unit_in_ledger"]
    assert coverage.severity == "warning" and coverage.failing == 15


# -- end to end --------------------------------------------------------------------------------


@pytest.fixture()
def place(tmp_path: Path, sample_raw: Path) -> dict[str, Path]:
    raw = tmp_path / "raw"
    shutil.copytree(sample_raw, raw)  # the copies stay read-only (0444): the run never writes
    return {
        "raw": raw,
        "marts": tmp_path / "marts" / "employment.duckdb",
        "work": tmp_path / "work" / "warehouse.duckdb",
    }


def raw_hashes(raw: Path) -> dict[str, str]:
    return {str(p.relative_to(raw)): sha(p) for p in sorted(raw.rglob("*")) if p.is_file()}


@pytest.mark.cli
def test_a_failing_build_exits_1_and_changes_neither_marts_nor_raw(place) -> None:
    """The command line, whose build drops one unit from the scoreboard, exits 1 with the
    summary; marts, raw files and the run log as they must be."""
    hashes = raw_hashes(place["raw"])
    con = warehouse.open_work(place["work"])  # the last good night, published
    ingest(place["raw"], con, as_of=AS_OF, run_id="last-good")
    build.build_models(con)
    publish.publish(publish.export_candidate(con, place["marts"], "last-good"), place["marts"])
    con.close()
    published = sha(place["marts"])
    script = (
        "import sys, employment_eval.build as b\n"
        "orig = b.build_models\n"
        "def tampered(con, *a, **k):\n"
        "    r = orig(con, *a, **k)\n"
        "    con.execute(\"delete from marts.scoreboard where unit_code = 'chest'\")\n"
        "    return r\n"
        "b.build_models = tampered\n"
        "from employment_eval.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    args = ["--raw", str(place["raw"]), "--marts", str(place["marts"]), "--work"]
    args += [str(place["work"]), "--year", "2021", "--as-of", AS_OF.isoformat()]
    proc = subprocess.run(
        [sys.executable, "-c", script, "run", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"},
        timeout=180,
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "质量检查未通过，未发布任何结果，原有数据保持不变" in proc.stderr
    assert "[错误] 先进单位（D10、D12）：记分板包含该组全部单位——1 行不符合" in proc.stderr
    assert "例：2021 specialty" in proc.stderr
    assert "report.json" in proc.stderr and "Traceback" not in proc.stderr
    assert sha(place["marts"]) == published
    left = sorted(p.name for p in place["marts"].parent.iterdir())
    assert left == [place["marts"].name, place["marts"].name + ".lock"]  # the run lock stays
    assert raw_hashes(place["raw"]) == hashes

    con = duckdb.connect(str(place["work"]), read_only=True)
    runs = con.execute(
        "select run_id, outcome, published_sha256, report_dir, message from meta.run_log "
        "order by started_at"
    ).fetchall()
    outputs = con.execute("select run_id, kind, file_sha256 from meta.run_log_outputs").fetchall()
    files = con.execute(
        "select run_id, count(*) from meta.run_log_files group by 1 order by 1"
    ).fetchall()
    con.close()
    ((run_id, outcome, published_sha, report, message),) = runs
    assert outcome == "failed" and published_sha is None and outputs == []
    assert files == [(run_id, len(hashes))]  # what it read is recorded all the same
    assert "记分板包含该组全部单位" in message
    failed_report = Path(report)
    assert failed_report.is_relative_to(place["work"].parent)
    assert (failed_report / "report.json").exists()
    assert (failed_report / "data_docs" / "index.html").exists()
