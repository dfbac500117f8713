"""Wrong paths never destroy data; one writer per marts file; every failure is one Chinese
paragraph with the README's exit code, never a traceback. Each case starts from a published
state and checks the sha256 of the marts and of every raw file before and after."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from employment_eval import locks
from tests.cli_helpers import cli

pytestmark = pytest.mark.cli


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_paragraph(result, code: int, *fragments: str) -> None:
    """The exit code, the message, and no Python traceback on either stream."""
    assert result.returncode == code, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr[-2000:])


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from employment_eval.generate import generate

    raw = tmp_path_factory.mktemp("season") / "raw"
    generate(raw, year=2021, seed=7, scale=0.2, exports=4, fmt="csv")
    return raw


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, season: Path) -> dict[str, Path]:
    """One good run: raw, marts and work, copied by each test."""
    root = tmp_path_factory.mktemp("published")
    place = {"raw": root / "raw", "marts": root / "marts" / "m.duckdb", "work": root / "work"}
    shutil.copytree(season, place["raw"])
    result = cli(*run_args(place), cwd=root)
    assert result.returncode == 0, result.stderr
    return place


def run_args(place: dict[str, Path], *extra: str, as_of: str = "2021-12-20") -> list[str]:
    work = place.get("work_file") or place["work"] / "w.duckdb"
    return [
        "run", "--raw", str(place["raw"]), "--marts", str(place["marts"]),
        "--work", str(work), "--as-of", as_of, *extra,
    ]  # fmt: skip


@pytest.fixture()
def place(tmp_path: Path, published: dict[str, Path]) -> dict[str, Path]:
    copy = {"raw": tmp_path / "raw", "marts": tmp_path / "marts" / "m.duckdb"}
    copy["work"] = tmp_path / "work"
    shutil.copytree(published["raw"], copy["raw"])
    shutil.copytree(published["marts"].parent, copy["marts"].parent)
    shutil.copytree(published["work"], copy["work"])
    return copy


@contextlib.contextmanager
def unchanged(place: dict[str, Path]):
    """The published marts and every raw file are byte-identical after the block."""
    marts_before = sha(place["marts"])
    raw_before = tree_hashes(place["raw"])
    yield
    assert sha(place["marts"]) == marts_before
    assert tree_hashes(place["raw"]) == raw_before


# --- paths are checked before anything runs (exit 2) ---------------------------------------


def _export(place: dict[str, Path]) -> Path:
    return sorted((place["raw"] / "registrations").iterdir())[-1]


def test_marts_naming_a_raw_export_is_refused(place, tmp_path) -> None:
    export = _export(place)
    with unchanged(place):
        result = cli(*run_args({**place, "marts": export}), cwd=tmp_path)
    assert_paragraph(result, 2, "原始数据文件夹", "只读")


def test_marts_equal_to_work_is_refused(place, tmp_path) -> None:
    work = place["work"] / "w.duckdb"
    before = sha(work)
    with unchanged(place):
        result = cli(*run_args({**place, "marts": work, "work_file": work}), cwd=tmp_path)
    assert_paragraph(result, 2, "同一个文件")
    assert sha(work) == before


def test_work_naming_a_csv_is_refused(place, tmp_path) -> None:
    csv = tmp_path / "elsewhere" / "名单.csv"
    csv.parent.mkdir()
    shutil.copy(_export(place), csv)
    before = sha(csv)
    with unchanged(place):
        result = cli(*run_args({**place, "work_file": csv}), cwd=tmp_path)
    assert_paragraph(result, 2, "不是 DuckDB 数据库文件")
    assert sha(csv) == before
    assert not (place["raw"] / "registrations" / "reports").exists()


@pytest.mark.parametrize("target", ["marts", "out"])
def test_outputs_inside_the_raw_folder_are_refused(place, tmp_path, target) -> None:
    inside = place["raw"] / "registrations"
    with unchanged(place):
        if target == "marts":
            result = cli(*run_args({**place, "marts": inside / "m.duckdb"}), cwd=tmp_path)
        else:
            args = run_args(place)
            args[0] = "scoreboard"
            result = cli(*args, "--out", str(inside), cwd=tmp_path)
    assert_paragraph(result, 2, "位于原始数据文件夹")
    assert sorted(p.name for p in inside.iterdir()) == sorted(
        p.name for p in (place["raw"] / "registrations").iterdir()
    )


def test_marts_an_existing_directory_is_refused(place, tmp_path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with unchanged(place):
        result = cli(*run_args({**place, "marts": folder}), cwd=tmp_path)
    assert_paragraph(result, 2, "是一个文件夹")


def test_work_in_the_published_folder_is_refused(place, tmp_path) -> None:
    with unchanged(place):
        result = cli(
            *run_args({**place, "work_file": place["marts"].parent / "w.duckdb"}), cwd=tmp_path
        )
    assert_paragraph(result, 2, "发布给分析人员的文件夹")


def test_an_unwritable_marts_folder_is_refused_before_anything_runs(place, tmp_path) -> None:
    result = cli(
        *run_args({**place, "marts": Path("/proc/employment-eval/m.duckdb")}), cwd=tmp_path
    )
    assert_paragraph(result, 2, "不可写")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["run", "--as-of", "2021-02-30"], "2021 年 2 月没有 30 日"),
        (["run", "--as-of", "2021-W50-1"], "YYYY-MM-DD"),
        (["run", "--year", "二〇二一"], "四位数的年度"),
        (["frobnicate"], "无效的选项"),
        (["run", "--no-such-option"], "不认识的参数"),
    ],
)
def test_bad_usage_is_one_chinese_paragraph_exit_2(tmp_path, args, fragment) -> None:
    result = cli(*args, cwd=tmp_path)
    assert_paragraph(result, 2, fragment, "用法有误")


def test_generate_into_a_non_empty_folder_is_refused(tmp_path) -> None:
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "x.csv").write_text("a\n", encoding="utf-8")
    result = cli("generate", "--out", "raw", cwd=tmp_path)
    assert_paragraph(result, 2, "不是空文件夹")
    assert [p.name for p in (tmp_path / "raw").iterdir()] == ["x.csv"]


def test_a_missing_rules_year_is_reported_before_prefect_starts(place, tmp_path) -> None:
    started = time.monotonic()
    result = cli(*run_args(place, "--year", "2019"), cwd=tmp_path, env={"PREFECT_API_URL": ""})
    assert_paragraph(result, 2, "2019.toml")
    assert time.monotonic() - started < 30  # no temporary Prefect server was started
    assert not (place["work"] / "prefect").exists()


def test_help_is_chinese_with_defaults_for_every_option(tmp_path) -> None:
    commands = ["run", "scoreboard", "check", "generate", "template", "server", "serve"]
    for command in [*map(str.split, commands), ["whatif"], ["rules", "new"]]:
        result = cli(*command, "--help", cwd=tmp_path)
        assert result.returncode == 0
        options = [line for line in result.stdout.splitlines() if line.strip().startswith("--")]
        assert options, command
        text = result.stdout
        assert "默认" in text and "show this help" not in text and "usage:" not in text
        for line in options:  # every option has a Chinese help line
            assert any("\u4e00" <= ch <= "\u9fff" for ch in line) or line.strip().startswith(
                "--allow"
            ), line


# --- paths reach SQL as parameters ------------------------------------------------------------


def test_paths_with_quotes_semicolons_spaces_and_chinese_work(place, tmp_path) -> None:
    odd = tmp_path / 'it\'s; "odd" 路径'
    marts = odd / "marts" / "m'; drop table x; --.duckdb"
    work = odd / "work" / 'w"1.duckdb'
    result = cli(*run_args({**place, "marts": marts, "work_file": work}), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    con = duckdb.connect(str(marts), read_only=True)
    assert con.execute("select count(*) from marts.scoreboard").fetchone() == (15,)
    con.close()
    stray = [p for p in tmp_path.rglob("*.csv") if not p.is_relative_to(place["raw"])]
    assert stray == []


# --- one writer per marts file ----------------------------------------------------------------


def test_a_second_run_waits_then_exits_1_while_the_lock_is_held(place, tmp_path) -> None:
    with locks.hold(place["marts"]), unchanged(place):
        started = time.monotonic()
        result = cli(*run_args(place, "--wait", "2"), cwd=tmp_path)
        assert time.monotonic() - started >= 2
    assert_paragraph(result, 1, "另一次运行正在使用", "--wait")


def test_two_writers_on_one_marts_file_publish_one_after_the_other(place, tmp_path) -> None:
    """Different working databases, the same marts: the second waits for the first; the
    newer as-of wins whatever the order; the older is refused (exit 1) unless asked."""
    second_work = tmp_path / "work2" / "w.duckdb"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "employment_eval",
                *run_args({**place, "work_file": work}, "--wait", "300", as_of=as_of),
            ],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for work, as_of in ((place["work"] / "w.duckdb", "2021-12-21"), (second_work, "2021-12-20"))
    ]
    outcomes = [(p.wait(timeout=600), p.communicate()[1]) for p in procs]
    for _, stderr in outcomes:
        assert "Traceback" not in stderr
    assert [code for code, _ in outcomes] in ([0, 0], [0, 1])
    if outcomes[1][0] == 1:
        assert "--allow-older" in outcomes[1][1]
    con = duckdb.connect(str(place["marts"]), read_only=True)
    as_of = con.execute("select as_of_date from marts.run_info").fetchone()[0]
    con.close()
    assert str(as_of) == "2021-12-21"
    assert not list(place["marts"].parent.glob(".*building*"))


def test_an_older_as_of_is_not_published_unless_asked(place, tmp_path) -> None:
    with unchanged(place):
        result = cli(*run_args(place, as_of="2021-08-01"), cwd=tmp_path)
    assert_paragraph(result, 1, "--allow-older", "2021-12-20")
    result = cli(*run_args(place, "--allow-older", as_of="2021-08-01"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]


# --- failures of the environment ------------------------------------------------------------


@pytest.fixture()
def tiny_disk(tmp_path: Path):
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_a_chinese_paragraph_and_the_marts_stay(place, tmp_path, tiny_disk) -> None:
    marts = tiny_disk / "m.duckdb"
    shutil.copy(place["marts"], tmp_path / "good.duckdb")
    result = cli(*run_args({**place, "marts": marts}), cwd=tmp_path)
    assert_paragraph(result, 1, "磁盘空间不足")
    assert not list(tiny_disk.glob(".*building*"))


def test_an_unreachable_prefect_server_is_a_chinese_paragraph(place, tmp_path) -> None:
    with unchanged(place):
        result = cli(
            *run_args(place), cwd=tmp_path, env={"PREFECT_API_URL": "http://127.0.0.1:9/api"}
        )
    assert_paragraph(result, 1, "无法连接调度服务器", "employment-eval server")


# --- private by default ------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_working_area_is_private_and_the_marts_public(published) -> None:
    work = published["work"]
    assert _mode(work) == 0o700
    for path in work.rglob("*"):
        if path.is_symlink():
            continue
        assert _mode(path) & 0o077 == 0, path
    assert _mode(published["marts"]) == 0o644
