"""Each unit's follow-up list (personal data, restricted): <work>/followup/<as-of>/*.xlsx.

A mid-season night runs through the real nightly flow; the test opens every unit's file and
checks each row against what it computes itself from the raw rows of the working database
(not the intermediate model): the graduate belongs to that unit on the latest export, is not
counted as employed (D2), sits in the group the definitions give, and every such graduate is
listed exactly once; the export on which the record last changed is checked too. Then the
file modes, that nothing under the published folder holds a student number or a name, and
that only the last N nights are kept."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from ingest_helpers import writable_copy
from raw_layer import included_registrations

from employment_eval import failures, followup
from flows.nightly_refresh import nightly_refresh

pytestmark = pytest.mark.xdist_group("followup")

YEAR = 2021
MID = dt.date(2021, 8, 10)  # exports …, 15 Jun, 7 Aug, 15 Aug …: the last node is 15 Jun
NODE = dt.date(2021, 6, 15)
LATER = dt.date(2021, 8, 20)
DEGREES = {"本科": "bachelor", "硕士": "master", "博士": "doctor"}
GROUP_OF_HEADING = {name: code for code, name, _ in followup.GROUPS}
CHANGE_FIELDS = ["unit_code", "degree_code", "destination_code", "employer", "is_verified",
                 "verified_date"]  # fmt: skip


def _counted(by: pl.Expr) -> pl.Expr:
    return (
        pl.col("destination_counts")
        & pl.col("is_verified").fill_null(False)
        & (pl.col("verified_date") <= by).fill_null(False)
    )


def _expected(rows: pl.DataFrame) -> dict[str, dict]:
    """student_id → unit, group, name, last change, for everyone not counted on the latest
    export: counted at the last node (on its snapshot, verified by the node date) → cancelled;
    else destination counts → pending verification; else not employed."""
    latest = rows["as_of_date"].max()
    now = rows.filter(pl.col("as_of_date") == latest).with_columns(
        counted=_counted(pl.col("as_of_date"))
    )
    node_export = rows.filter(pl.col("as_of_date") <= NODE)["as_of_date"].max()
    node = rows.filter(pl.col("as_of_date") == node_export).with_columns(
        counted=_counted(pl.lit(NODE))
    )
    at_node = set(node.filter(pl.col("counted"))["student_id"])
    ordered = rows.sort(["student_id", "as_of_date"])
    last_change: dict[str, dt.date] = {}
    previous: dict[str, tuple] = {}
    for rec in ordered.iter_rows(named=True):
        values = tuple(rec[f] for f in CHANGE_FIELDS)
        if previous.get(rec["student_id"]) != values:
            last_change[rec["student_id"]] = rec["as_of_date"]
        previous[rec["student_id"]] = values
    out = {}
    for rec in now.filter(~pl.col("counted")).iter_rows(named=True):
        sid = rec["student_id"]
        if sid in at_node:
            group = "cancelled_since_node"
        elif rec["destination_counts"]:
            group = "pending_verification"
        else:
            group = "not_employed"
        out[sid] = {
            "unit": rec["unit_code"],
            "group": group,
            "name": rec["name"],
            "degree": rec["degree_code"],
            "code": rec["destination_code"],
            "last_change": last_change[sid],
        }
    return out


def _read_file(path: Path) -> list[dict]:
    """The data rows of a unit's list, each with the group of the section it is in."""
    ws = openpyxl.load_workbook(path)[followup.SHEET]
    rows, group = [], None
    for row in ws.iter_rows(min_row=4, values_only=True):
        first = row[0]
        if isinstance(first, str):
            found = re.match(r"^[一二三]、(.+?)（(\d+) 人）", first)
            if found:
                group = GROUP_OF_HEADING[found[1]]
            continue
        if isinstance(first, int):
            rows.append(
                {
                    "group": group,
                    "student_id": row[1],
                    "name": row[2],
                    "degree": DEGREES[row[3]],
                    "code": row[4],
                    "last_change": row[9].date() if row[9] else None,
                }
            )
    return rows


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> dict[str, object]:
    base = tmp_path_factory.mktemp("followup")
    raw = base / "raw"
    writable_copy(sample_raw, raw)
    marts = base / "marts" / "employment.duckdb"
    work = base / "work" / "warehouse.duckdb"
    with failures.unwrapped():
        run_id = nightly_refresh(str(raw), str(marts), str(work), YEAR, MID)
    rows = included_registrations(work, YEAR)
    con = duckdb.connect(str(work), read_only=True)
    units = con.execute("select unit_code, short_name from reference.units").fetchall()
    con.close()
    return {
        "raw": raw,
        "marts": marts,
        "work": work,
        "run_id": run_id,
        "rows": rows,
        "expected": _expected(rows),
        "units": dict(units),
        "folder": followup.night_dir(work.parent, 2021, MID),
    }


def test_one_file_per_unit_named_by_code_and_short_name(night) -> None:
    names = sorted(p.name for p in night["folder"].iterdir())
    assert names == sorted(f"{code}_{short}.xlsx" for code, short in night["units"].items())


def test_every_graduate_not_counted_is_listed_once_in_the_right_group(night) -> None:
    expected = night["expected"]
    groups = {e["group"] for e in expected.values()}
    assert groups == {"pending_verification", "not_employed", "cancelled_since_node"}, (
        "the sample season has all three kinds at 10 Aug"
    )
    seen: dict[str, int] = {}
    for code, short in night["units"].items():
        rows = _read_file(night["folder"] / followup.file_name(code, short))
        for row in rows:
            sid = row["student_id"]
            seen[sid] = seen.get(sid, 0) + 1
            want = expected.get(sid)
            assert want is not None, f"{code}: a listed graduate is counted as employed"
            assert want["unit"] == code, f"{code}: a graduate of {want['unit']}"
            assert row["group"] == want["group"], (code, row["group"], want["group"])
            assert row["name"] == want["name"] and row["degree"] == want["degree"]
            assert row["code"] == want["code"]
            assert row["last_change"] == want["last_change"]
    assert set(seen) == set(expected)
    assert set(seen.values()) == {1}


def test_heading_counts_match_the_rows(night) -> None:
    for code, short in night["units"].items():
        ws = openpyxl.load_workbook(night["folder"] / followup.file_name(code, short))[
            followup.SHEET
        ]
        rows = _read_file(night["folder"] / followup.file_name(code, short))
        headings = [
            re.match(r"^[一二三]、(.+?)（(\d+) 人）", r[0])
            for r in ws.iter_rows(min_row=4, values_only=True)
            if isinstance(r[0], str)
        ]
        counts = {GROUP_OF_HEADING[m[1]]: int(m[2]) for m in headings if m}
        assert len(counts) == 3
        for group, n in counts.items():
            assert n == sum(1 for r in rows if r["group"] == group)
        assert night["run_id"] in str(ws.cell(3, 1).value)


def test_lists_are_private(night) -> None:
    root = followup.root(night["work"].parent)
    assert root.stat().st_mode & 0o777 == 0o700
    assert night["folder"].stat().st_mode & 0o777 == 0o700
    files = list(night["folder"].iterdir())
    assert files and all(p.stat().st_mode & 0o777 == 0o600 for p in files)
    assert not night["folder"].is_relative_to(night["marts"].parent)


def _contents(path: Path) -> list[bytes]:
    """A file's bytes, and for a zip (xlsx) each member's bytes decompressed."""
    data = path.read_bytes()
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return [data, *(z.read(n) for n in z.namelist())]
    return [data]


def test_nothing_published_holds_a_student_number_or_a_name(night) -> None:
    ids = {s.encode() for s in night["rows"]["student_id"].unique() if s}
    names = {s.encode() for s in night["rows"]["name"].unique() if s}
    files = [p for p in night["marts"].parent.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".duckdb", ".html", ".xlsx"}
    for path in files:
        for blob in _contents(path):
            leaked = [v for v in ids | names if v in blob]
            assert not leaked, (path.name, leaked[:3])
    # the scan would see one: the unit lists do hold them
    sample = night["folder"] / followup.file_name(*next(iter(night["units"].items())))
    assert any(v in blob for blob in _contents(sample) for v in ids)


def test_only_the_last_n_nights_are_kept(night) -> None:
    with failures.unwrapped():
        nightly_refresh(
            str(night["raw"]), str(night["marts"]), str(night["work"]), YEAR, LATER,
            keep_followup=1,
        )  # fmt: skip
    root = followup.root(night["work"].parent)
    assert [p.name for p in root.iterdir()] == [str(YEAR)]  # one folder per year …
    year = followup.year_dir(night["work"].parent, YEAR)
    assert [p.name for p in year.iterdir()] == [LATER.isoformat()]  # … the last night in it


def test_prune_keeps_the_most_recent_nights_and_clears_leftovers(tmp_path) -> None:
    for name in ("2021-08-01", "2021-08-02", "2021-08-03", "2021-08-04", ".2021-08-05.x.writing"):
        (tmp_path / name).mkdir()
    (tmp_path / "notes.txt").write_text("kept")
    followup.prune(tmp_path, keep=2, current=tmp_path / "2021-08-01")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["2021-08-01", "2021-08-03", "2021-08-04", "notes.txt"]


def test_file_names_hold_no_character_a_file_system_refuses() -> None:
    assert followup.file_name("ruijin", "瑞金") == "ruijin_瑞金.xlsx"
    assert followup.file_name("x", 'a/b:c*?"<>|\u202e') == "x_a_b_c______.xlsx"
    assert followup.file_name("x", "..") == "x_x.xlsx"
