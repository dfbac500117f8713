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


# --- whatif and rules new are guarded like run -------------------------------------------------


def _draft(tmp_path: Path) -> Path:
    from employment_eval.paths import RULES_DIR

    draft = tmp_path / "drafts" / "2021-draft.toml"
    draft.parent.mkdir(exist_ok=True)
    shutil.copy(RULES_DIR / "2021.toml", draft)
    return draft


@pytest.mark.parametrize("inside", ["", "registrations"])
def test_whatif_never_writes_into_the_raw_folder(place, tmp_path, inside) -> None:
    out = place["raw"] / inside if inside else place["raw"]
    args = ["--rules", str(_draft(tmp_path)), "--work", str(place["work"] / "w.duckdb")]
    with unchanged(place):
        result = cli("whatif", *args, "--out", str(out), cwd=tmp_path)
        assert_paragraph(result, 2, f"--out {out} 位于原始数据文件夹")
    assert not (tmp_path / "whatif_2021.xlsx").exists()


def test_whatif_work_naming_a_raw_export_leaves_no_lock_beside_it(place, tmp_path) -> None:
    export = _export(place)
    with unchanged(place):
        result = cli(
            "whatif", "--rules", str(_draft(tmp_path)), "--work", str(export), cwd=tmp_path
        )
        assert_paragraph(result, 2, "不是 DuckDB 数据库文件")
    assert not list(place["raw"].rglob("*.lock"))


@pytest.mark.parametrize("option", ["--out", "--rules"])
def test_rules_new_never_writes_into_the_raw_folder(place, tmp_path, option) -> None:
    raw = place["raw"]
    target = str(raw / "registrations" / "2022.toml") if option == "--out" else str(raw)
    with unchanged(place):
        result = cli("rules", "new", "--year", "2022", "--raw", str(raw), option, target)
        assert_paragraph(result, 2, "位于原始数据文件夹")
    assert not list(raw.rglob("*.toml"))


def test_a_rules_file_too_deep_or_too_large_is_a_rules_error_with_its_line(place, tmp_path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("year = 2021\nx = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    big = tmp_path / "big.toml"
    big.write_text("year = 2021\n" + ("# " + "x" * 100 + "\n") * 25_000, encoding="utf-8")
    work = str(place["work"] / "w.duckdb")
    with unchanged(place):
        for draft, fragment in ((deep, "第 2 行 嵌套层数"), (big, "文件大小")):
            result = cli("whatif", "--rules", str(draft), "--work", work, cwd=tmp_path)
            assert_paragraph(result, 2, "评估规则有误", fragment)
            assert "RecursionError" not in result.stderr + result.stdout
    checked = cli("rules", "check", str(deep), str(big), cwd=tmp_path)
    assert checked.returncode == 1, checked.stdout
    assert "Traceback" not in checked.stdout + checked.stderr
    assert f"[错误] 规则文件 {deep} 第 2 行 嵌套层数：值嵌套超过 16 层" in checked.stdout
    assert f"[错误] 规则文件 {big} 第 10182 行 文件大小：文件有 2.5 MB" in checked.stdout


def test_an_old_readable_working_database_is_made_private_when_opened(place, tmp_path) -> None:
    from employment_eval import warehouse

    db = place["work"] / "w.duckdb"
    for opener in ("whatif", "run"):
        db.chmod(0o644)
        place["work"].chmod(0o755)
        if opener == "whatif":
            args = ["--rules", str(_draft(tmp_path)), "--work", str(db), "--out", str(tmp_path)]
            assert cli("whatif", *args, cwd=tmp_path).returncode == 0
        else:
            warehouse.open_work(db).close()  # what a run opens it with
        assert _mode(db) == 0o600 and _mode(place["work"]) == 0o700, opener


def test_every_spelling_of_a_graduate_in_a_reason_is_refused(place, tmp_path) -> None:
    """The committee's reasons are published: a graduate's name or 学号 in any spelling (spaced,
    dashed, full-width, zero-width) is refused with its row; an unrelated reason passes."""
    import polars as pl

    from tests.ingest_helpers import reference

    first = pl.read_csv(_export(place), infer_schema=False).row(0, named=True)
    sid, name = first["学号"], first["姓名"]
    spaced = " ".join(name)
    dashed = f"{sid[:4]}-{sid[4:]}"
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in sid)
    zero_width = "\u200b".join(name)
    reasons = [
        f"学生{spaced}投诉属实",
        f"学号{dashed}的投诉属实",
        f"学号{full_width}投诉属实",
        f"学生{zero_width}投诉属实",
        "经学指委复核，该投诉不属于合理投诉，恢复该项得分",
    ]
    adjustments = place["raw"] / "adjustments"
    header = next(adjustments.iterdir()).read_text(encoding="utf-8").splitlines()[0]
    units = [u.short_name for u in reference().units]  # one unit each: no adjustment twice
    lines = [
        f"{u},2021,I1,4,{r},学指委主任,2021-12-20" for u, r in zip(units, reasons, strict=False)
    ]
    (adjustments / "补充调整.csv").write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    raw_after = tree_hashes(place["raw"])
    marts_before = sha(place["marts"])
    result = cli(*run_args(place), cwd=tmp_path)
    assert_paragraph(result, 1, "输入有问题，未发布任何结果")
    for row, what in ((2, "姓名"), (3, "学号"), (4, "学号"), (5, "姓名")):
        assert f"补充调整.csv，第 {row} 行，列「理由」：含有一名毕业生的{what}" in result.stderr
    assert "第 6 行" not in result.stderr  # the unrelated reason
    for value in (sid, name, spaced, dashed, full_width, zero_width):
        assert value not in result.stderr + result.stdout
    assert sha(place["marts"]) == marts_before and tree_hashes(place["raw"]) == raw_after
