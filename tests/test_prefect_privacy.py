"""Nothing that reaches Prefect holds personal data: after failed runs whose errors quote
student numbers and names (and a successful run with its artifacts), no student number or name
of the season appears in any file under the Prefect server's home — its database (state
messages, events, logs, artifacts), result storage, logs."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from employment_eval import prefect_server

pytestmark = pytest.mark.cli


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A Prefect server of its own, so that its home holds this module's runs only."""
    home = tmp_path_factory.mktemp("prefect-home")
    proc, url = prefect_server.start(home, timeout=180)
    try:
        yield home, url
    finally:
        prefect_server.stop(proc)


def cli(*args: str, cwd: Path, url: str):
    return subprocess.run(
        [sys.executable, "-m", "employment_eval", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PREFECT_API_URL": url},
    )


def personal_values(raw: Path) -> tuple[set[str], set[str]]:
    ids: set[str] = set()
    names: set[str] = set()
    for path in (raw / "registrations").iterdir():
        frame = pl.read_csv(path, infer_schema=False)
        ids |= set(frame["学号"].drop_nulls().to_list())
        names |= set(frame["姓名"].drop_nulls().to_list())
    return ids, names


def leaks(home: Path, ids: set[str], names: set[str]) -> list[tuple[str, str]]:
    """Every (file, value) where a student number or a name of the season occurs."""
    found: list[tuple[str, str]] = []
    lengths = {len(n) for n in names}
    for path in home.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for number in set(re.findall(r"\d{6,}", text)) & ids:
            found.append((str(path), number))
        for run in re.findall(r"[\u4e00-\u9fff]+", text):
            for k in lengths:
                for i in range(len(run) - k + 1):
                    if run[i : i + k] in names:
                        found.append((str(path), run[i : i + k]))
    return found


def test_failed_runs_leave_no_personal_data_in_prefect(tmp_path, server) -> None:
    from employment_eval.generate import generate

    home, url = server
    raw = tmp_path / "raw"
    generate(raw, year=2021, seed=11, scale=0.2, exports=3, fmt="csv")
    ids, names = personal_values(raw)
    marts, work = tmp_path / "marts" / "m.duckdb", tmp_path / "work" / "w.duckdb"
    args = ["run", "--raw", str(raw), "--marts", str(marts), "--work", str(work)]
    args += ["--as-of", "2021-12-20"]
    assert cli(*args, cwd=tmp_path, url=url).returncode == 0  # artifacts of a good run too

    export = sorted((raw / "registrations").iterdir())[-1]
    header, first, *_ = export.read_text(encoding="utf-8").splitlines()
    student, name = first.split(",")[0], first.split(",")[1]
    cases = {
        # an unparseable line (one field too many) quoting 学号, 姓名 and 民族
        "registrations/坏行_2021-12-19.csv": f"{header}\n{first},多出的一列\n",
        # a roster naming a student who is not in the cohort, and one with a bad group
        "special_groups/名单_补充.csv": f"学号,群体,毕业年份\n9{student},经济困难,2021\n"
        f"{student},低保户,2021\n",
        # a registrations row whose unit is unknown (the row holds a real student)
        "registrations/未知单位_2021-12-19.csv": f"{header}\n"
        + first.replace(first.split(",")[3], "不存在的医院"),
        # a committee adjustment whose reason quotes a graduate
        "adjustments/调整.csv": "单位,年度,指标,调整后分值,理由,审批人,日期\n"
        f"瑞金,2021,I2,5,学生{name}（学号{student}）投诉属实,学指委主任,2021-12-28\n",
    }
    for rel, content in cases.items():
        path = raw / rel
        path.write_text(content, encoding="utf-8")
        result = cli(*args, cwd=tmp_path, url=url)
        assert result.returncode == 1, (rel, result.stderr[-2000:])
        assert "Traceback" not in result.stderr
        path.unlink()

    assert leaks(home, ids, names) == []
    # the run's full reports (which may quote values) are in the private working area
    reports = work.parent / "reports"
    assert stat.S_IMODE(reports.stat().st_mode) == 0o700
    for path in reports.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_the_leak_scanner_finds_a_planted_value(tmp_path) -> None:
    planted = tmp_path / "home"
    planted.mkdir()
    (planted / "x.db").write_bytes("…学号 0210110023，姓名薛萍宇…".encode())
    assert sorted(v for _, v in leaks(planted, {"0210110023"}, {"薛萍宇"})) == [
        "0210110023",
        "薛萍宇",
    ]
    shutil.rmtree(planted)
