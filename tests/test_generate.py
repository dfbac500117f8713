"""Tests of the synthetic-data generator: determinism, calendar, cohort, formats, realism."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from employment_eval.generate import COHORTS, export_dates, generate, load_season
from employment_eval.ingest.schema import (
    REGISTRATION_COLUMNS,
    SPECIAL_GROUP_COLUMNS,
    SUBMISSION_COLUMNS,
)
from employment_eval.reference import Reference
from employment_eval.rules import DEGREES

REF = Reference()
HEADER_TO_NAME = {c.header: c.name for c in REGISTRATION_COLUMNS} | {
    c.name: c.name for c in REGISTRATION_COLUMNS
}
KEY_DATES = {
    dt.date(2021, 6, 15),
    dt.date(2021, 8, 15),
    dt.date(2021, 12, 1),
    dt.date(2021, 12, 15),
}
EMPLOYED = {c for c, r in REF.destinations.items() if r["is_employed"] == "true"}
DATE_IN_NAME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
BOM = b"\xef\xbb\xbf"


# --- reading the files back -----------------------------------------------------------------


def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding) of a CSV file: UTF-8 with or without BOM, else GB18030."""
    if raw.startswith(BOM):
        return raw[len(BOM) :].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("gb18030"), "gb18030"


def xlsx_rows(path: Path) -> list[list[object]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value)


def read_table(path: Path) -> pl.DataFrame:
    """Any input file as a frame of text columns, headers stripped."""
    if path.suffix == ".xlsx":
        rows = xlsx_rows(path)
        header = [str(h).strip() for h in rows[0]]
        data = [[_text(v) for v in r] for r in rows[1:]]
        return pl.DataFrame(data, schema=header, orient="row")
    text, _ = decode(path.read_bytes())
    frame = pl.read_csv(text.encode(), infer_schema=False)
    return frame.rename({c: c.strip() for c in frame.columns})


def read_export(path: Path) -> tuple[dt.date, pl.DataFrame]:
    """A registration export with canonical column names, and its as-of date."""
    frame = read_table(path)
    frame = frame.rename({c: HEADER_TO_NAME.get(c, c) for c in frame.columns})
    if "export_date" in frame.columns:
        values = frame["export_date"].unique().to_list()
        assert len(values) == 1, path
        as_of = dt.date.fromisoformat(values[0])
    else:
        y, m, d = DATE_IN_NAME.search(path.name).groups()
        as_of = dt.date(int(y), int(m), int(d))
    return as_of, frame


def resolve(frame: pl.DataFrame) -> pl.DataFrame:
    """Unit code, degree, 结业 flag, family and employed flag of every row."""
    degrees = REF.degree_by_label
    return frame.with_columns(
        unit_code=pl.col("unit").str.strip_chars().replace_strict(REF.unit_by_name),
        degree_code=pl.col("degree").replace_strict({k: v[0] for k, v in degrees.items()}),
        completion=pl.col("degree").replace_strict(
            {k: v[1] for k, v in degrees.items()}, return_dtype=pl.Boolean
        ),
        family=pl.col("destination_code").str.slice(0, 2),
    ).with_columns(
        employed=pl.col("family").is_in(EMPLOYED) & (pl.col("verification_status") == "已鉴证")
    )


def iso(value: str | None) -> dt.date | None:
    """Parse the date spellings the generator writes (ISO, slashes, compact)."""
    if value is None:
        return None
    if re.fullmatch(r"\d{8}", value):
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    y, m, d = re.split(r"[-/]", value)
    return dt.date(int(y), int(m), int(d))


def all_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    out = tmp_path_factory.mktemp("default")
    summary = generate(out)
    exports = dict(read_export(p) for p in sorted((out / "registrations").iterdir()))
    return out, summary, {d: resolve(f) for d, f in sorted(exports.items())}


# --- determinism ----------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=11, exports=6)
    generate(tmp_path / "b", seed=11, exports=6)
    generate(tmp_path / "c", seed=12, exports=6)
    a, b, c = (all_bytes(tmp_path / x) for x in "abc")
    assert any(k.endswith(".xlsx") for k in a)
    assert a == b
    assert a != c


def test_refuses_to_write_into_existing_inputs(tmp_path: Path) -> None:
    generate(tmp_path, exports=1, fmt="csv", scale=0.05)
    with pytest.raises(FileExistsError):
        generate(tmp_path, exports=1, fmt="csv", scale=0.05)


# --- calendar -------------------------------------------------------------------------------


def test_default_season_has_node_dates_and_december_first(default_run) -> None:
    out, summary, exports = default_run
    dates = set(exports)
    assert len(dates) == 12 == len(list((out / "registrations").iterdir()))
    assert dates >= KEY_DATES
    assert min(dates) >= dt.date(2021, 6, 1)
    assert max(dates) <= dt.date(2021, 12, 20)
    assert summary["export_dates"] == [d.isoformat() for d in sorted(dates)]


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, ["2021-12-15"]),
        (2, ["2021-12-01", "2021-12-15"]),
        (3, ["2021-08-15", "2021-12-01", "2021-12-15"]),
        (4, ["2021-06-15", "2021-08-15", "2021-12-01", "2021-12-15"]),
    ],
)
def test_few_exports_take_the_latest_key_dates(n: int, expected: list[str]) -> None:
    assert [d.isoformat() for d in export_dates(load_season(2021), n)] == expected


@pytest.mark.parametrize("n", [5, 12, 40, 150, 203])
def test_export_dates_cover_the_season(n: int) -> None:
    dates = export_dates(load_season(2021), n)
    assert len(dates) == len(set(dates)) == n
    assert set(dates) >= KEY_DATES
    assert dates[0] >= dt.date(2021, 6, 1) and dates[-1] <= dt.date(2021, 12, 20)
    if n >= 150:
        assert max((b - a).days for a, b in itertools.pairwise(dates)) <= 2


def test_invalid_export_counts() -> None:
    with pytest.raises(ValueError):
        export_dates(load_season(2021), 0)
    with pytest.raises(ValueError):
        export_dates(load_season(2021), 400)


def test_exports_n_writes_n_registration_files(tmp_path: Path) -> None:
    summary = generate(tmp_path, exports=150, scale=0.02, fmt="csv")
    files = sorted((tmp_path / "registrations").iterdir())
    assert len(files) == 150 == len(summary["files"]["registrations"])
    dates = {read_export(p)[0] for p in files}
    assert len(dates) == 150 and dates >= KEY_DATES


# --- cohort ---------------------------------------------------------------------------------


def test_every_unit_in_every_export(default_run) -> None:
    _, _, exports = default_run
    for as_of, frame in exports.items():
        assert set(frame["unit_code"]) == set(REF.unit_codes), as_of


def test_cohort_sizes_at_scale_one(default_run) -> None:
    _, summary, exports = default_run
    last = exports[dt.date(2021, 12, 15)]
    cohort = last.filter(~pl.col("completion"))
    sizes = dict(cohort.group_by("unit_code").len().iter_rows())
    assert sizes == summary["graduates"]
    assert sum(1 for n in sizes.values() if n == 20) == 1
    assert sum(1 for n in sizes.values() if n < 20) >= 2
    assert 2500 <= sum(sizes.values()) <= 3500
    assert sizes["ug_branch"] >= 350
    assert 0 < last["completion"].sum() == summary["completion_rows"] < 20
    years = last["graduation_year"].str.strip_suffix("届").unique().to_list()
    assert years == ["2021"]
    spellings = {v for f in exports.values() for v in f["graduation_year"].unique()}
    assert spellings == {"2021", "2021届"}
    assert last["student_id"].n_unique() == last.height
    assert last["student_id"].str.starts_with("0").all()


def test_scale_multiplies_cohorts(tmp_path: Path) -> None:
    summary = generate(tmp_path / "x3", scale=3, exports=1, fmt="csv")
    for code, sizes in COHORTS.items():
        got = summary["graduates_by_degree"][code]
        want = {d: max(1, round(n * 3)) for d, n in zip(DEGREES, sizes, strict=True) if n}
        assert got == want
    _, frame = read_export(next((tmp_path / "x3" / "registrations").iterdir()))
    cohort = resolve(frame).filter(~pl.col("completion"))
    assert cohort.height == summary["total_graduates"]
    tiny = generate(tmp_path / "tiny", scale=0.001, exports=1, fmt="csv")
    assert all(n == 1 for d in tiny["graduates_by_degree"].values() for n in d.values())
    assert set(tiny["graduates"]) == set(REF.unit_codes)


# --- formats --------------------------------------------------------------------------------


def test_mixed_mode_mixes_encodings_and_formats(default_run) -> None:
    out, _, _ = default_run
    kinds = set()
    for path in (out / "registrations").iterdir():
        if path.suffix == ".xlsx":
            kinds.add("xlsx")
        else:
            kinds.add(decode(path.read_bytes())[1])
    assert kinds == {"xlsx", "gb18030", "utf-8", "utf-8-sig"}
    names = [p.name for p in (out / "registrations").iterdir()]
    with_date = [n for n in names if DATE_IN_NAME.search(n)]
    assert with_date and len(with_date) <= len(names)


def test_csv_mode_is_plain_utf8(tmp_path: Path) -> None:
    generate(tmp_path, fmt="csv", exports=5, scale=0.2)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and all(p.suffix == ".csv" for p in files)
    headers = [c.header for c in REGISTRATION_COLUMNS]
    for path in (tmp_path / "registrations").iterdir():
        raw = path.read_bytes()
        assert not raw.startswith(BOM)
        text = raw.decode("utf-8")
        assert text.splitlines()[0].split(",") == headers
        frame = pl.read_csv(raw, infer_schema=False)
        dates = frame["鉴证日期"].drop_nulls()
        assert dates.str.contains(r"^\d{4}-\d{2}-\d{2}$").all()
        assert frame["导出日期"].unique().to_list() == [DATE_IN_NAME.search(path.name).group(0)]


def test_xlsx_student_numbers_are_text_cells(default_run) -> None:
    out, _, _ = default_run
    books = list((out / "registrations").glob("*.xlsx")) + list(out.glob("special_groups/*.xlsx"))
    assert len(books) >= 2
    for path in books:
        wb = openpyxl.load_workbook(path, read_only=True)
        rows = wb.worksheets[0].iter_rows(max_row=600)
        header = [str(c.value).strip() for c in next(rows)]
        sid = header.index("学号") if "学号" in header else header.index("student_id")
        vdate = header.index("鉴证日期") if "鉴证日期" in header else None
        for row in rows:
            assert row[sid].data_type == "s" and row[sid].value.startswith("0")
            if vdate is not None and row[vdate].value is not None:
                assert isinstance(row[vdate].value, dt.datetime)
        wb.close()


def test_xlsx_workbook_dates_are_fixed(default_run) -> None:
    out, _, _ = default_run
    for path in out.rglob("*.xlsx"):
        wb = openpyxl.load_workbook(path, read_only=True)
        assert wb.properties.created.year == 2021
        wb.close()


# --- roster, ledger, adjustments ------------------------------------------------------------


def test_roster_students_are_in_the_last_export(default_run) -> None:
    out, summary, exports = default_run
    (path,) = list((out / "special_groups").iterdir())
    roster = read_table(path)
    assert roster.columns == [c.header for c in SPECIAL_GROUP_COLUMNS]
    last = exports[max(exports)].filter(~pl.col("completion"))
    assert set(roster["学号"]) <= set(last["student_id"])
    assert set(roster["群体"]) == {"经济困难", "学业困难"}
    assert roster.filter(pl.col("学号").is_duplicated()).height > 0  # some in both groups
    share = roster["学号"].n_unique() / summary["total_graduates"]
    assert 0.03 <= share <= 0.08


def test_ledger_is_complete_and_within_bounds(default_run) -> None:
    out, _, _ = default_run
    (path,) = list((out / "submissions").iterdir())
    assert path.name == "submissions_2021.xlsx"
    ledger = read_table(path)
    assert ledger.columns == [c.header for c in SUBMISSION_COLUMNS]
    units = ledger["单位"].replace_strict(REF.unit_by_name)
    assert sorted(units) == sorted(REF.unit_codes)
    num = {
        c: ledger[c].cast(pl.Float64)
        for c in ledger.columns
        if c not in ("单位",) and not c.endswith("日期")
    }
    assert all(s.null_count() == 0 for s in num.values())
    assert num["就业工作组织得分"].is_between(0, 5).all()
    assert num["未就业学生排摸得分"].is_between(0, 20).all()
    assert num["优秀毕业生评选合理投诉次数"].sum() == 1
    assert (num["年度"] == 2021).all()
    reports = ledger["未就业学生调研报告提交日期"]
    assert reports.null_count() == 1
    months = sorted(iso(v).month for v in reports.drop_nulls())
    assert months.count(4) == 1 and months.count(3) == 13
    meetings = sorted(iso(v).month for v in ledger["就业动员会日期"])
    assert meetings.count(9) == 1 and meetings.count(10) == 14


def test_adjustments_folder_is_empty(default_run) -> None:
    out, summary, _ = default_run
    assert (out / "adjustments").is_dir()
    assert list((out / "adjustments").iterdir()) == []
    assert summary["files"]["adjustments"] == []


# --- realism --------------------------------------------------------------------------------


def test_records_are_consistent(default_run) -> None:
    _, _, exports = default_run
    for as_of, frame in exports.items():
        assert frame["family"].is_in(list(REF.destinations)).all()
        verified = frame.filter(pl.col("verification_status") == "已鉴证")
        dates = [iso(v) for v in verified["verification_date"]]
        assert all(d is not None and d <= as_of for d in dates), as_of
        unverified = frame.filter(pl.col("verification_status") == "未鉴证")
        assert unverified["verification_date"].null_count() == unverified.height
        idle = frame.filter(pl.col("family").is_in(["70", "71", "72"]))
        assert idle["employer"].null_count() == idle.height
        assert (frame["ethnicity"].is_in(list(REF.ethnicity_by_name))).all()


def test_rates_move_through_the_season(default_run) -> None:
    _, _, exports = default_run
    rates = {}
    for node in (dt.date(2021, 6, 15), dt.date(2021, 8, 15), dt.date(2021, 12, 15)):
        cohort = exports[node].filter(~pl.col("completion"))
        rates[node] = cohort["employed"].mean()
    r1, r2, r3 = rates.values()
    assert 0.70 <= r1 <= 0.90 and 0.85 <= r2 <= 0.97 and 0.90 <= r3 <= 1.0
    assert r1 < r2 < r3
    last = exports[dt.date(2021, 12, 15)].filter(~pl.col("completion"))
    by_cell = last.group_by("unit_code", "degree_code").agg(pl.col("employed").mean())
    targets = {"bachelor": 0.94, "master": 0.97, "doctor": 0.98}
    short = by_cell.filter(pl.col("employed") < pl.col("degree_code").replace_strict(targets))
    assert 0 < short.height < by_cell.height


def test_stories_change_and_cancel(default_run) -> None:
    _, _, exports = default_run
    frames = [f.select("student_id", "destination_code", "employed") for f in exports.values()]
    first, mid, last = frames[1], frames[len(frames) // 2], frames[-1]
    joined = first.join(last, on="student_id", suffix="_last").join(
        mid, on="student_id", suffix="_mid"
    )
    changed = joined.filter(
        pl.col("employed")
        & pl.col("employed_last")
        & (pl.col("destination_code") != pl.col("destination_code_last"))
    )
    assert changed.height > 0
    cancelled = joined.filter(pl.col("employed") & (pl.col("destination_code_mid") == "70"))
    assert cancelled.height > 0


def test_guided_share_varies_around_half(default_run) -> None:
    _, _, exports = default_run
    frame = exports[dt.date(2021, 12, 1)].filter(~pl.col("completion") & pl.col("employed"))
    guided_types = {
        v
        for r in REF.seeds["employer_types"]
        if r["is_guided"] == "true"
        for v in (r["employer_type_code"], r["employer_type_label"])
    }
    cw = "|".join(r["province"] for r in REF.provinces if r["is_central_western"] == "true")
    jobs = frame.filter(~pl.col("family").is_in(["80", "85"])).with_columns(
        guided=pl.col("employer_type").is_in(list(guided_types))
        | pl.col("family").is_in(["50", "51"])
        | (pl.col("grassroots") == "是")
        | pl.col("employer_province").fill_null("").str.contains(cw)
    )
    shares = jobs.group_by("unit_code").agg(pl.col("guided").mean())["guided"]
    assert 0.3 <= shares.min() < 0.5 < shares.max() <= 0.75


def test_a_year_without_rules_file_uses_the_usual_calendar(tmp_path: Path) -> None:
    summary = generate(tmp_path, year=2022, scale=0.05, exports=4, fmt="csv")
    assert summary["export_dates"] == ["2022-06-15", "2022-08-15", "2022-12-01", "2022-12-15"]
    for path in (tmp_path / "registrations").iterdir():
        _, frame = read_export(path)
        assert set(frame["graduation_year"].str.strip_suffix("届")) == {"2022"}
        assert frame["student_id"].str.starts_with("022").all()
