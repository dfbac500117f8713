"""What a run says and how it ends, as a scheduler sees it (the command line in a subprocess):

- the year: with no --year, the latest year that has an export under --raw (a new year's rules
  file changes nothing until its first export arrives), said on the console; a --year without
  data is exit 1 with the fix, nothing published, no follow-up list of another year replaced;
- exit code 3: the marts were published but a file that follows them could not be written,
  named with where the previous one is;
- a refused run is in the run log too."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import pytest
from ingest_helpers import writable_copy

from tests.cli_helpers import cli

pytestmark = pytest.mark.cli


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def place(tmp_path: Path, sample_raw: Path) -> dict[str, Path]:
    raw = tmp_path / "data" / "raw"
    writable_copy(sample_raw, raw)
    return {
        "raw": raw,
        "rules": tmp_path / "data" / "rules",
        "marts": tmp_path / "data" / "marts" / "employment.duckdb",
        "work": tmp_path / "data" / "work" / "warehouse.duckdb",
    }


def run(place: dict[str, Path], *extra: str):
    result = cli(
        "run", "--raw", str(place["raw"]), "--marts", str(place["marts"]),
        "--work", str(place["work"]), *extra,
    )  # fmt: skip
    assert "Traceback" not in result.stdout + result.stderr
    return result


def test_the_year_is_the_latest_with_data_and_a_year_without_data_is_refused(place) -> None:
    place["rules"].mkdir()
    made = cli("rules", "new", "--year", "2022", "--from", "2021", "--rules", str(place["rules"]))
    assert made.returncode == 0, made.stderr
    assert (place["rules"] / "2022.toml").exists()
    assert "2022 年度自动成为默认的评估年度" in made.stdout  # said when the file is made

    first = run(place, "--as-of", "2021-12-20")
    assert first.returncode == 0, first.stderr
    assert "评估年度：2021（未指定 --year：原始数据中有导出的最新年度" in first.stdout
    assert "2021 年度毕业生就业工作评估记分板（最终）" in first.stdout
    lists = place["work"].parent / "followup" / "2021" / "2021-12-20"
    assert len(list(lists.glob("*/*_跟进名单_*.xlsx"))) == 15  # a folder per unit
    assert len(list(lists.glob("*/*_进度单_*.html"))) == 15
    before = {p: sha(p) for p in [place["marts"], *lists.glob("*/*")]}

    refused = run(place, "--year", "2022", "--as-of", "2021-12-20", "--force")
    assert refused.returncode == 1
    assert "2022 年没有可评估的数据" in refused.stderr
    assert "原始数据中有导出的年度：2021。请用 --year 指定" in refused.stderr
    assert {p: sha(p) for p in before} == before  # nothing published, the 2021 lists as they were
    assert not (place["work"].parent / "followup" / "2022").exists()


def test_published_but_the_morning_report_not_written_is_exit_3(place) -> None:
    first = run(place, "--as-of", "2021-12-01")
    assert first.returncode == 0, first.stderr
    earlier = place["marts"].parent / "progress_2021_2021-12-01.html"
    assert earlier.exists()
    # tonight's report cannot be written: its name is taken by a folder
    (place["marts"].parent / "progress_2021_2021-12-20.html").mkdir()
    second = run(place, "--as-of", "2021-12-20")
    assert second.returncode == 3, second.stderr
    assert "数据已发布，但晨报未能生成" in second.stderr
    assert f"上一份晨报仍在 {earlier}" in second.stderr
    assert "退出码 3" in second.stderr
    assert "2021 年度毕业生就业工作评估记分板（最终）" in second.stdout  # the marts are new
    assert "晨报：" not in second.stdout  # no path of a report that was not written

    # an older night without --allow-older is refused, and the run log says so
    older = run(place, "--as-of", "2021-12-01")
    assert older.returncode == 1 and "--allow-older" in older.stderr
    con = duckdb.connect(str(place["work"]), read_only=True)
    try:
        outcomes = con.execute(
            "select outcome, as_of_date::varchar from meta.run_log order by started_at"
        ).fetchall()
    finally:
        con.close()
    assert outcomes == [
        ("published", "2021-12-01"),
        ("published", "2021-12-20"),
        ("refused", "2021-12-01"),
    ]


# a GX expectation, a staging or intermediate model, Prefect's console prefixes
DEVELOPER_WORDS = (r"expect_[a-z]", r"\bstg_[a-z]", r"\bint_[a-z]", "Task run", "Flow run", "集市",
                   "Traceback")  # fmt: skip


def _readable_text(path: Path) -> str:
    """What a person can read in a file the run wrote: an html or csv as text, the text of a
    workbook's XML parts (cells, comments, properties; not its markup)."""
    import zipfile

    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            xml = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        return re.sub(r"<[^>]*>", " ", xml)
    return path.read_text("utf-8-sig")


def test_nothing_the_centre_reads_names_a_check_a_model_or_prefect(place) -> None:
    """Every file beside the marts (morning report, year-end files) and the console of a
    scoreboard run: Chinese only, no developer vocabulary."""
    result = cli(
        "scoreboard", "--raw", str(place["raw"]), "--marts", str(place["marts"]),
        "--work", str(place["work"]), "--as-of", "2021-12-20",
        env={"PREFECT_LOGGING_LEVEL": "INFO"},  # the console as the centre sees it
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    console = result.stdout + result.stderr
    assert "读取输入" in console  # the flow's own lines are there …
    files = [p for p in place["marts"].parent.iterdir() if p.suffix in (".html", ".xlsx", ".csv")]
    assert len(files) == 5  # morning html + xlsx, year-end xlsx, csv, html
    texts = {path.name: _readable_text(path) for path in files}
    for word in DEVELOPER_WORDS:  # … and none of Prefect's or the developers' words
        assert not re.search(word, console), word
        for name, text in texts.items():
            assert not re.search(word, text), (word, name)
