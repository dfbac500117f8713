"""The command line in a subprocess, as the centre runs it (sharing the session's Prefect
server through PREFECT_API_URL): exit codes, Chinese messages, paths outside the repo."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from ingest_helpers import writable_copy

from tests.cli_helpers import cli

pytestmark = pytest.mark.cli


@pytest.fixture()
def raw(tmp_path: Path, sample_raw: Path) -> Path:
    target = tmp_path / "in" / "raw"
    writable_copy(sample_raw, target)
    return target


def test_run_publishes_and_prints_the_scoreboard_from_any_directory(tmp_path, raw) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = cli(
        "run",
        "--raw",
        str(raw),
        "--marts",
        "out/m.duckdb",
        "--work",
        "w/w.duckdb",
        "--as-of",
        "2021-12-20",
        cwd=elsewhere,
    )
    assert result.returncode == 0, result.stderr
    assert "2021 年度毕业生就业工作评估记分板" in result.stdout
    assert "附属专科医院" in result.stdout
    con = duckdb.connect(str(elsewhere / "out" / "m.duckdb"), read_only=True)
    assert con.execute("select count(*) from marts.scoreboard").fetchone() == (15,)
    con.close()


def test_bad_input_exits_1_with_a_chinese_paragraph_and_publishes_nothing(tmp_path, raw) -> None:
    marts = tmp_path / "marts" / "m.duckdb"
    args = (
        "run",
        "--raw",
        str(raw),
        "--marts",
        str(marts),
        "--work",
        str(tmp_path / "work" / "w.db"),
        "--as-of",
        "2021-12-20",
    )
    assert cli(*args, cwd=tmp_path).returncode == 0
    before = hashlib.sha256(marts.read_bytes()).hexdigest()
    (raw / "special_groups" / "名单_补充.csv").write_text(
        "学号,群体,毕业年份\n0000000,经济困难,2021\n0000001,低保户,2021\n", encoding="utf-8"
    )
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 1
    assert "名单_补充.csv" in result.stderr and "第 3 行" in result.stderr
    assert "群体" in result.stderr and "Traceback" not in result.stderr
    assert hashlib.sha256(marts.read_bytes()).hexdigest() == before


def test_check_reads_and_writes_nothing(tmp_path, raw) -> None:
    before = sorted(p for p in tmp_path.rglob("*"))
    result = cli("check", "--raw", str(raw), "--as-of", "2021-12-20", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "输入检查通过" in result.stdout
    assert sorted(p for p in tmp_path.rglob("*")) == before
    (raw / "registrations" / "旧格式_2021-12-18.xls").write_bytes(b"\xd0\xcf")
    result = cli("check", "--raw", str(raw), "--as-of", "2021-12-20", cwd=tmp_path)
    assert result.returncode == 1 and ".xlsx" in result.stderr


@pytest.mark.parametrize(
    "args", [["run", "--as-of", "2021-13-01"], ["frobnicate"], ["generate", "--scale", "0"]]
)
def test_bad_usage_exits_2(tmp_path, args) -> None:
    assert cli(*args, cwd=tmp_path).returncode == 2


def test_a_year_without_rules_is_an_error_naming_the_file(tmp_path, raw) -> None:
    result = cli(
        "run",
        "--raw",
        str(raw),
        "--year",
        "2019",
        "--marts",
        str(tmp_path / "marts" / "m.db"),
        "--work",
        str(tmp_path / "work" / "w.db"),
        cwd=tmp_path,
    )
    # found before anything runs (before Prefect starts): a configuration error, exit 2
    assert result.returncode == 2 and "2019.toml" in result.stderr
    assert "Traceback" not in result.stderr


def test_as_of_before_every_export_is_an_error(tmp_path, raw) -> None:
    result = cli("check", "--raw", str(raw), "--as-of", "2021-01-01", cwd=tmp_path)
    assert result.returncode == 1 and "早于" in result.stderr
