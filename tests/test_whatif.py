"""What-if against real runs: a generated season published by the nightly flow, then scored
under drafts in a scratch database. The official rules as the draft change nothing; a draft
raising the 15 Dec doctor target changes exactly the units whose I3 changes, and its figures
equal, cell for cell, a full run under that draft. The working database and the published
marts are never touched; the command never imports Prefect or Great Expectations."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pytest

from employment_eval import failures, locks
from employment_eval.generate import generate
from employment_eval.paths import RULES_DIR
from employment_eval.rules import load_rules_file
from employment_eval.whatif import run_whatif
from flows.nightly_refresh import nightly_refresh
from tests.cli_helpers import cli
from tests.ingest_helpers import file_hashes, reference

AS_OF = dt.date(2021, 12, 20)
OFFICIAL = RULES_DIR / "2021.toml"
TABLES = ("indicator_scores", "scoreboard")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def published(marts: Path, year: int = 2021) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(marts), read_only=True)
    try:
        return {
            t: con.execute(
                f"select * from marts.{t} where year = ? order by all", [year]
            ).fetchall()
            for t in TABLES
        }
    finally:
        con.close()


def refresh(root: Path, name: str, rules_dir: Path | None = None) -> dict[str, Path]:
    place = {
        "raw": root / "raw",
        "marts": root / name / "marts" / "employment.duckdb",
        "work": root / name / "work" / "warehouse.duckdb",
    }
    with failures.unwrapped():
        nightly_refresh(
            str(place["raw"]), str(place["marts"]), str(place["work"]), 2021, AS_OF,
            rules_dir=str(rules_dir) if rules_dir else None,
        )  # fmt: skip
    return place


def draft_text(old: str, new: str) -> str:
    text = OFFICIAL.read_text(encoding="utf-8")
    assert text.count(old) == 1
    return text.replace(old, new)


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A season published by the nightly flow under the official (bundled) 2021 rules."""
    root = tmp_path_factory.mktemp("whatif")
    summary = generate(root / "raw", year=2021, seed=5, scale=0.4, exports=6)
    return {"root": root, "tie": summary["features"]["tie_at_cutoff"], **refresh(root, "official")}


def test_the_official_rules_as_the_draft_change_nothing(season) -> None:
    result = run_whatif(season["work"], [load_rules_file(OFFICIAL)], year=2021)
    cmp = result.comparison
    official, draft = cmp.official, cmp.drafts[0]
    assert draft.tables == official.tables  # every cell of both tables
    assert not cmp.any_change and cmp.changed_units() == set()
    assert cmp.rule_changes == ((),)
    # and the official figures are the published ones, cell for cell
    assert official.tables == published(season["marts"])


def test_a_raised_doctor_target_changes_exactly_the_units_whose_i3_changes(
    season, tmp_path
) -> None:
    text = draft_text("doctor = 98 }", "doctor = 99 }")  # 15 Dec, one point higher
    draft_path = tmp_path / "drafts" / "doctor-99.toml"
    draft_path.parent.mkdir()
    draft_path.write_text(text, encoding="utf-8")
    cmp = run_whatif(season["work"], [load_rules_file(draft_path)], year=2021).comparison
    assert cmp.rule_changes == (("12月15日节点博士目标：98% → 99%",),)

    # a full run of the same files with the draft as the year's official rules
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "2021.toml").write_text(text, encoding="utf-8")
    full = published(refresh(season["root"], f"full-{tmp_path.name}", rules_dir)["marts"])
    assert cmp.drafts[0].tables == full  # every cell of indicator_scores and scoreboard

    points = 7  # column of marts.indicator_scores: points (after adjustments)
    i3 = {
        row[1]: row[points]
        for row in published(season["marts"])["indicator_scores"]
        if row[2] == "I3"
    }
    i3_after = {row[1]: row[points] for row in full["indicator_scores"] if row[2] == "I3"}
    moved = {unit for unit in i3 if i3[unit] != i3_after[unit]}
    assert moved, "the draft must change some unit's I3 for this test to mean anything"
    assert moved != set(i3), "and leave some unit's I3 as it is"
    assert cmp.changed_units() == moved
    for group in cmp.groups:
        for row in group.rows:
            assert {c.code for c in row.drafts[0].changes} <= {"I3"}
            for change in row.drafts[0].changes:
                assert change.model == "intermediate.int_points_i3_milestones"
                assert "99%目标" in change.draft.detail and "98%目标" in change.official.detail


def test_the_command_writes_its_files_and_touches_nothing(season, tmp_path) -> None:
    draft = tmp_path / "2021-decimal.toml"
    draft.write_text(draft_text("master = 97,", 'master = "97.5",'), encoding="utf-8")
    marts_before, work_before = sha(season["marts"]), sha(season["work"])
    probe = (
        "import sys; from employment_eval.cli import main; rc = main(sys.argv[1:]); "
        "top = {m.split('.')[0] for m in sys.modules}; "
        "heavy = sorted(top & {'prefect', 'great_expectations'}); "
        "print('IMPORTED', heavy); sys.exit(rc)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "whatif", "--rules", str(draft), "--rules", str(OFFICIAL),
         "--work", str(season["work"]), "--out", "out"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**os.environ},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "IMPORTED []" in result.stdout
    assert "草案1总分" in result.stdout and "草案2总分" in result.stdout  # one column per draft
    assert "草案2：得分、名次、先进单位与正式规则完全相同" in result.stdout
    assert sha(season["marts"]) == marts_before and sha(season["work"]) == work_before
    xlsx, page = tmp_path / "out" / "whatif_2021.xlsx", tmp_path / "out" / "whatif_2021.html"
    assert oct(xlsx.stat().st_mode & 0o777) == "0o644" and page.stat().st_mode & 0o044
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["对比", "变化明细", "规则差异"]
    details = list(book["变化明细"].iter_rows(min_row=2, values_only=True))
    cmp = run_whatif(
        season["work"], [load_rules_file(draft), load_rules_file(OFFICIAL)], year=2021
    ).comparison
    expected = [
        (cmp.drafts[0].label, row.official.short_name, ch.code)
        for g in cmp.groups
        for row in g.rows
        for ch in row.drafts[0].changes
    ]
    assert expected and [r[:3] for r in details] == expected
    html = page.read_text(encoding="utf-8")
    assert "97.5%" in html and 'chg"' in html
    for text in (result.stdout, html):
        assert "某某" not in text  # no graduate's name, no student number
    con = duckdb.connect(str(season["work"]), read_only=True)
    ids = [
        r[0] for r in con.execute("select student_id from raw.registrations limit 50").fetchall()
    ]
    con.close()
    assert not any(sid in html or sid in result.stdout for sid in ids)


def test_the_command_waits_for_a_run_holding_the_working_database(season, tmp_path) -> None:
    with locks.hold(season["work"]):
        result = cli(
            "whatif", "--rules", str(OFFICIAL), "--work", str(season["work"]), "--wait", "0",
            cwd=tmp_path,
        )  # fmt: skip
    assert result.returncode == 1
    assert "另一次运行正在使用" in result.stderr


def test_bad_usage(season, tmp_path) -> None:
    missing = cli("whatif", "--rules", str(OFFICIAL), "--work", "nowhere.duckdb", cwd=tmp_path)
    assert missing.returncode == 2 and "不存在" in missing.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text(
        draft_text('partial_credit = "proportional"', 'partial_credit = "most"').replace(
            "general = 4", 'general = "four"'
        ),
        encoding="utf-8",
    )
    result = cli("whatif", "--rules", str(broken), "--work", str(season["work"]), cwd=tmp_path)
    assert result.returncode == 2
    assert "knobs.partial_credit" in result.stderr and "quotas.general" in result.stderr
    other_year = cli(
        "whatif", "--rules", str(OFFICIAL), "--year", "2022", "--work", str(season["work"]),
        cwd=tmp_path,
    )  # fmt: skip
    assert other_year.returncode == 2 and "2022" in other_year.stderr
    too_early = cli(
        "whatif", "--rules", str(OFFICIAL), "--as-of", "2021-01-01", "--work",
        str(season["work"]), cwd=tmp_path,
    )  # fmt: skip
    assert too_early.returncode == 2 and "--as-of" in too_early.stderr


def test_as_of_scores_an_earlier_night(season) -> None:
    early = run_whatif(
        season["work"], [load_rules_file(OFFICIAL)], year=2021, as_of=dt.date(2021, 9, 1)
    )
    assert early.comparison.as_of == dt.date(2021, 9, 1)
    assert early.comparison.official.status == "provisional"  # the Dec nodes are ahead
    assert early.comparison.official.tables != published(season["marts"])


def test_a_draft_that_unties_a_decided_tie_says_the_decision_no_longer_holds(season, tmp_path):
    tie = season["tie"]
    assert tie is not None, "the generated season has a tie at a quota line, decided"
    group = tie["group"]
    quota = load_rules_file(OFFICIAL).quotas[group]
    text = draft_text(f"{group} = {quota}", f"{group} = {quota + 1}")
    draft = tmp_path / "more-places.toml"
    draft.write_text(text, encoding="utf-8")
    cmp = run_whatif(season["work"], [load_rules_file(draft)], year=2021).comparison
    notes = cmp.drafts[0].decision_notes
    assert len(notes) == len(tie["units"]) and all("不是名额线上的并列单位" in n for n in notes)
    rows = {r.official.unit_code: r for g in cmp.groups for r in g.rows}
    for unit in tie["units"]:
        official, cell = rows[unit].official, rows[unit].drafts[0]
        assert official.tie_at_cutoff and official.decided_by_committee
        assert cell.advanced_changed and cell.score.advanced and not cell.score.tie_at_cutoff
        assert not cell.changes  # no indicator moved: only the places did
    assert cmp.changed_units() == set() and cmp.moved_units() == set(tie["units"])


# --- what is scored: the last successful run ----------------------------------------------------


def copy_of(season: dict[str, Path], root: Path) -> dict[str, Path]:
    """The season's raw folder, marts and working database, copied (a run may change them)."""
    place = {
        "raw": root / "raw",
        "marts": root / "marts" / "e.duckdb",
        "work": root / "work" / "w.duckdb",
    }
    shutil.copytree(season["root"] / "raw", place["raw"])
    for key in ("marts", "work"):
        place[key].parent.mkdir(parents=True)
        shutil.copy(season[key], place[key])
    return place


def refuse_a_decision(raw: Path, tie: dict) -> None:
    """A committee decision on a unit not tied at a quota line: ingested, refused only on the
    built scoreboard (D12), so the failed run has replaced the working database's manifest."""
    unit = next(u for u in reference().units if u.code not in tie["units"])
    path = next((raw / "adjustments").iterdir())
    reason = "经学指委审议评为先进单位"
    line = f"{unit.short_name},2021,先进单位,是,{reason},学生工作指导委员会,2021-12-24\n"
    path.write_text(path.read_text(encoding="utf-8") + line, encoding="utf-8")


def published_run(work: Path) -> tuple[str, dt.date]:
    con = duckdb.connect(str(work), read_only=True)
    try:
        return con.execute(
            "select run_id, as_of_date from meta.run_log where outcome = 'published'"
        ).fetchone()
    finally:
        con.close()


def test_after_a_failed_run_whatif_scores_the_last_successful_run(season, tmp_path) -> None:
    place = copy_of(season, tmp_path)
    run_id, as_of = published_run(place["work"])
    refuse_a_decision(place["raw"], season["tie"])
    marts_before, raw_before = sha(place["marts"]), file_hashes(place["raw"])
    with pytest.raises(Exception):  # noqa: B017 - the run fails (D12), in whatever wrapping
        nightly_refresh(
            str(place["raw"]), str(place["marts"]), str(place["work"]), 2021, dt.date(2021, 12, 25)
        )
    assert sha(place["marts"]) == marts_before and file_hashes(place["raw"]) == raw_before
    con = duckdb.connect(str(place["work"]), read_only=True)
    failed = con.execute("select run_id, as_of_date from meta.run_context").fetchone()
    con.close()
    assert failed[0] != run_id and failed[1] == dt.date(2021, 12, 25)  # the failed run's inputs

    result = cli("whatif", "--rules", str(OFFICIAL), "--work", str(place["work"]), "--out", "out",
                 cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert f"评估日期 {as_of}（最终）" in result.stdout.splitlines()[0]
    assert (
        f"上次成功发布的运行读入的文件（运行编号 {run_id}，评估日期 {as_of}，运行于 "
        in result.stdout
    )
    assert "（北京时间）" in result.stdout
    assert "学指委的这项决定将不再成立" not in result.stdout  # the refused decision is not scored
    scored = run_whatif(place["work"], [load_rules_file(OFFICIAL)], year=2021)
    assert scored.run_id == run_id and scored.comparison.as_of == as_of
    assert scored.comparison.official.tables == published(place["marts"])
    assert sha(place["marts"]) == marts_before and file_hashes(place["raw"]) == raw_before


def test_whatif_refuses_when_no_run_succeeded(season, tmp_path) -> None:
    place = copy_of(season, tmp_path)
    refuse_a_decision(place["raw"], season["tie"])
    work = tmp_path / "fresh" / "w.duckdb"
    with pytest.raises(Exception):  # noqa: B017
        nightly_refresh(
            str(place["raw"]), str(tmp_path / "fresh-marts" / "e.duckdb"), str(work), 2021, AS_OF
        )
    assert work.is_file() and not (tmp_path / "fresh-marts" / "e.duckdb").exists()
    result = cli("whatif", "--rules", str(OFFICIAL), "--work", str(work), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "没有成功发布过的运行" in result.stderr
    assert not list(tmp_path.glob("whatif_*"))


def test_the_official_rules_are_compared_with_the_ones_the_year_was_published_with(
    season, tmp_path
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "2021.toml").write_text(
        draft_text("doctor = 98 }", "doctor = 99 }").replace("general = 4", "general = 5"),
        encoding="utf-8",
    )
    draft = [load_rules_file(OFFICIAL)]
    notes = run_whatif(season["work"], draft, year=2021, rules_dir=rules).published_notes
    assert len(notes) == 3, notes  # the file, then one line per difference
    assert "2021 年度现在的正式规则文件" in notes[0] and "有 2 处不同" in notes[0]
    assert notes[1:] == (
        "  2021 年度 12月15日节点博士目标：98% → 99%",
        "  2021 年度 附属综合性医院先进名额：4 → 5",
    )
    (rules / "2021.toml").write_text(
        OFFICIAL.read_text(encoding="utf-8") + "# 注释\n", encoding="utf-8"
    )
    [same] = run_whatif(season["work"], draft, year=2021, rules_dir=rules).published_notes
    assert "各项设置相同" in same
    assert run_whatif(season["work"], draft, year=2021).published_notes == ()
