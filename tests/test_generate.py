"""Tests of the synthetic-data generator: determinism, calendar, cohort, formats, realism, the
cases the demo season shows on purpose (read back from the files it writes), several years."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from employment_eval.generate import (
    COHORTS,
    GenerateError,
    export_dates,
    generate,
    load_season,
    parse_years,
)
from employment_eval.generate.cohort import GIVEN, SURNAMES
from employment_eval.ingest.schema import (
    ADJUSTMENT_COLUMNS,
    REGISTRATION_COLUMNS,
    SPECIAL_GROUP_COLUMNS,
    SUBMISSION_COLUMNS,
)
from employment_eval.reference import Reference
from employment_eval.rules import (
    DEGREES,
    RulesSource,
    available_years,
    load_rules,
    load_rules_file,
)

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


def read_exports(out: Path) -> dict[dt.date, pl.DataFrame]:
    """Every export by as-of date (an export delivered twice is read once: same content)."""
    exports = dict(read_export(p) for p in sorted((out / "registrations").iterdir()))
    return {d: resolve(f) for d, f in sorted(exports.items())}


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    out = tmp_path_factory.mktemp("default") / "raw"
    summary = generate(out)
    return out, summary, read_exports(out)


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
    out = tmp_path / "raw"
    generate(out, exports=1, fmt="csv", scale=0.05)
    before = all_bytes(tmp_path)
    with pytest.raises(GenerateError) as info:
        generate(out, exports=2, fmt="csv", scale=0.05, seed=9)
    message = str(info.value)
    assert "不是空目录" in message and str(out / "registrations") in message
    assert "\n" not in message and "Traceback" not in message
    assert all_bytes(tmp_path) == before


@pytest.mark.parametrize(
    "kwargs",
    [{"fmt": "json"}, {"scale": 0}, {"exports": 0}, {"exports": 400}, {"years": "2022-2020"}],
)
def test_bad_arguments_are_one_chinese_paragraph_and_write_nothing(tmp_path, kwargs) -> None:
    with pytest.raises(GenerateError) as info:
        generate(tmp_path / "raw", **kwargs)
    assert isinstance(info.value, ValueError)
    assert re.search(r"[\u4e00-\u9fff]", str(info.value)) and "\n" not in str(info.value)
    assert not list(tmp_path.rglob("*"))


def test_years_are_parsed() -> None:
    assert parse_years("2020-2022") == [2020, 2021, 2022]
    assert parse_years("2021") == [2021]
    assert parse_years("2020,2022") == [2020, 2022]
    for bad in ("20-22", "2021-", "下一年"):
        with pytest.raises(GenerateError):
            parse_years(bad)


# --- calendar -------------------------------------------------------------------------------


def test_default_season_has_node_dates_and_december_first(default_run) -> None:
    out, summary, exports = default_run
    dates = set(exports)
    assert len(dates) == 12 == len(list((out / "registrations").iterdir())) - 1  # one resent
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
    summary = generate(tmp_path / "raw", exports=150, scale=0.02, fmt="csv")
    files = sorted((tmp_path / "raw" / "registrations").iterdir())
    assert len(files) == 151 == len(summary["files"]["registrations"])  # one delivered twice
    dates = {read_export(p)[0] for p in files}
    assert len(dates) == 150 == len(summary["export_dates"]) and dates >= KEY_DATES


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
    generate(tmp_path / "raw", fmt="csv", exports=5, scale=0.2)
    files = [p for p in (tmp_path / "raw").rglob("*") if p.is_file()]
    assert files and all(p.suffix == ".csv" for p in files)
    headers = [c.header for c in REGISTRATION_COLUMNS]
    for path in (tmp_path / "raw" / "registrations").iterdir():
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


def read_roster(out: Path) -> pl.DataFrame:
    frames = [read_table(p) for p in sorted((out / "special_groups").iterdir())]
    for frame in frames:
        assert frame.columns == [c.header for c in SPECIAL_GROUP_COLUMNS]
    return pl.concat(frames)


def test_roster_students_are_in_the_last_export(default_run) -> None:
    out, summary, exports = default_run
    roster = read_roster(out)
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
    _, summary, exports = default_run
    f = summary["features"]
    all_guided = {*f["tie_at_cutoff"]["above"], *f["rate_tiebreak"]["units"]}
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
    by_unit = dict(jobs.group_by("unit_code").agg(pl.col("guided").mean()).iter_rows())
    # the units above the tie and the two whose rank the 15 Dec rate decides: I9 full on purpose
    assert {u for u, share in by_unit.items() if share == 1} == all_guided
    shares = [share for u, share in by_unit.items() if u not in all_guided]
    assert 0.3 <= min(shares) < 0.5 < max(shares) <= 0.75


def test_a_year_without_rules_file_uses_the_usual_calendar(tmp_path: Path) -> None:
    summary = generate(tmp_path / "raw", year=2022, scale=0.05, exports=4, fmt="csv")
    assert summary["export_dates"] == ["2022-06-15", "2022-08-15", "2022-12-01", "2022-12-15"]
    assert summary["files"]["rules"] == [
        "rules/2022.toml",
        "rules/drafts/2022-decimal-targets.toml",
    ]
    assert load_rules(2022, tmp_path / "rules").year == 2022
    for path in (tmp_path / "raw" / "registrations").iterdir():
        _, frame = read_export(path)
        assert set(frame["graduation_year"].str.strip_suffix("届")) == {"2022"}
        assert frame["student_id"].str.starts_with("022").all()


# --- what the demo season shows on purpose ----------------------------------------------------

UNIT_GROUP = {u.code: u.group for u in REF.units}
LAST_NODE = dt.date(2021, 12, 15)
NODES = (dt.date(2021, 6, 15), dt.date(2021, 8, 15), LAST_NODE)


def cell_counts(frame: pl.DataFrame, units: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
    cohort = frame.filter(~pl.col("completion") & pl.col("unit_code").is_in(units))
    rows = cohort.group_by("unit_code", "degree_code").agg(
        pl.len(), pl.col("employed").sum().alias("e")
    )
    return {(u, d): (n, e) for u, d, n, e in rows.iter_rows()}


def by_unit(counts: dict, unit: str) -> dict[str, tuple[int, int]]:
    return {d: v for (u, d), v in counts.items() if u == unit}


def read_adjustments(out: Path) -> pl.DataFrame:
    (path,) = list((out / "adjustments").iterdir())
    frame = read_table(path)
    assert frame.columns == [c.header for c in ADJUSTMENT_COLUMNS]
    return frame


def check_committee_adjustments(out: Path, summary: dict, exports: dict) -> None:
    """1. One point value adjusted and a 先进单位 decision on each unit of the tie (是 / 否),
    with a reason and a role as approver that hold no graduate's name or 学号."""
    f = summary["features"]
    adj = read_adjustments(out).with_columns(
        unit_code=pl.col("单位").replace_strict(REF.unit_by_name)
    )
    points = adj.filter(pl.col("指标") != "先进单位")
    assert points.select("unit_code", "指标", "调整后分值").rows() == [
        (f["adjusted_cell"]["unit"], "I2", "5")
    ]
    decisions = dict(
        adj.filter(pl.col("指标") == "先进单位").select("unit_code", "调整后分值").rows()
    )
    tie = f["tie_at_cutoff"]
    assert set(decisions) == set(tie["units"]) and sorted(decisions.values()) == ["否", "是"]
    assert decisions[tie["advanced"]] == "是"
    assert {UNIT_GROUP[u] for u in decisions} == {tie["group"]}
    names = set().union(*(set(frame["name"]) for frame in exports.values()))
    ids = set().union(*(set(frame["student_id"]) for frame in exports.values()))
    for text in [*adj["理由"], *adj["审批人"]]:
        assert text.strip() and not re.search(r"\d", text)
        assert not any(s + g in text for s in SURNAMES for g in GIVEN)
        assert not any(n in text for n in names) and not any(i in text for i in ids)
    assert set(adj["审批人"]) >= {"学指委主任"}
    assert set(adj["日期"]) == {"2021-12-20"} and set(adj["年度"]) == {"2021"}


def check_tie_by_construction(out: Path, summary: dict, exports: dict) -> None:
    """1./D10. The two units of the tie are copies: equal cohorts and employed counts in every
    export, equal ledger rows; the units above are all employed from the first export."""
    tie = summary["features"]["tie_at_cutoff"]
    a, b = tie["units"]
    for frame in exports.values():
        counts = cell_counts(frame, [a, b, *tie["above"]])
        assert by_unit(counts, a) == by_unit(counts, b)
        for unit in tie["above"]:
            assert all(n == e for n, e in by_unit(counts, unit).values()), unit
    (path,) = list((out / "submissions").iterdir())
    ledger = read_table(path).with_columns(pl.col("单位").replace_strict(REF.unit_by_name))
    rows = {r[0]: r[1:] for r in ledger.rows()}
    assert rows[a] == rows[b]


def check_rate_tiebreak(summary: dict, exports: dict) -> None:
    """2. Two units with equal cohorts: one graduate more employed by the first node in one,
    by the last node in the other (I3 equal, 15 Dec rates one graduate apart)."""
    f = summary["features"]["rate_tiebreak"]
    x, y = f["units"]
    assert f["first"] == y and UNIT_GROUP[x] == UNIT_GROUP[y]
    diffs = []
    for node in NODES:
        counts = cell_counts(exports[node], [x, y])
        cx, cy = by_unit(counts, x), by_unit(counts, y)
        assert {d: n for d, (n, _) in cx.items()} == {d: n for d, (n, _) in cy.items()}
        diffs.append(sum(e for _, e in cy.values()) - sum(e for _, e in cx.values()))
    assert diffs == [-1, 0, 1]


def check_cohort_changes(summary: dict, exports: dict) -> None:
    """3. Graduates added, removed, moved to another unit or degree between exports."""
    frames = [f.filter(~pl.col("completion")) for f in exports.values()]
    ids = [set(f["student_id"]) for f in frames]
    first, last = frames[0], frames[-1]
    added = ids[-1] - ids[0]
    removed = ids[0] - ids[-1]
    assert added and removed
    place = first.select("student_id", "unit_code", "degree_code").join(
        last.select("student_id", "unit_code", "degree_code"), on="student_id", suffix="_last"
    )
    moved_unit = place.filter(pl.col("unit_code") != pl.col("unit_code_last"))
    moved_degree = place.filter(pl.col("degree_code") != pl.col("degree_code_last"))
    assert moved_unit.height and moved_degree.height
    changes = summary["features"]["cohort_changes"]
    assert changes["moved_unit"] == moved_unit.height
    assert changes["moved_degree"] == moved_degree.height


def check_roster(out: Path, summary: dict, exports: dict) -> None:
    """4./8. Several roster files; one roster student missing from the 15 Dec export only."""
    assert len(list((out / "special_groups").iterdir())) == summary["features"]["roster_files"] >= 2
    roster = set(read_roster(out)["学号"])
    missing = {d: roster - set(f["student_id"]) for d, f in exports.items()}
    assert len(missing[LAST_NODE]) == 1
    assert all(not m for d, m in missing.items() if d != LAST_NODE)
    assert summary["features"]["roster_missing_on_last_node"]


def check_exact_cell(out: Path, summary: dict, exports: dict) -> None:
    """5. A special-group cell exactly at its 15 Dec target (rate = target)."""
    cell = summary["features"]["exact_target_cell"]
    roster = read_roster(out).filter(pl.col("群体") == "经济困难")
    members = exports[LAST_NODE].filter(
        pl.col("student_id").is_in(roster["学号"].implode())
        & (pl.col("unit_code") == cell["unit"])
        & (pl.col("degree_code") == cell["degree"])
        & ~pl.col("completion")
    )
    n, e = members.height, int(members["employed"].sum())
    assert (n, e) == (cell["graduates"], cell["employed"])
    assert e * 10000 == cell["target_bp"] * n


def check_zero_forms(out: Path, summary: dict) -> None:
    """6. A unit handed in no counselling form."""
    (path,) = list((out / "submissions").iterdir())
    ledger = read_table(path).with_columns(
        unit_code=pl.col("单位").replace_strict(REF.unit_by_name)
    )
    zero = ledger.filter(pl.col("职业咨询登记表份数").cast(pl.Int64) == 0)["unit_code"].to_list()
    assert zero == summary["features"]["zero_forms"] != []


def check_draft(out: Path, year: int = 2021) -> None:
    """7. Decimal targets in a draft rules file beside the raw folder, never official."""
    rules_dir = out.parent / "rules"
    draft = rules_dir / "drafts" / f"{year}-decimal-targets.toml"
    rules = load_rules_file(draft)
    assert rules.year == year
    last = rules.milestones[-1].target_bp
    assert all(bp % 100 for bp in last.values())
    assert '"98.5"' in draft.read_text(encoding="utf-8") or year != 2021
    assert year not in available_years(rules_dir / "drafts")


def check_resent(out: Path, summary: dict) -> None:
    """9. One export delivered twice under two names: same bytes, same date."""
    folder = out / "registrations"
    resent = summary["features"]["resent_export"]
    twins = [p for p in folder.iterdir() if p.read_bytes() == (folder / resent).read_bytes()]
    assert len(twins) == 2
    assert len({read_export(p)[0] for p in twins}) == 1


def check_all_features(out: Path, summary: dict, exports: dict) -> None:
    check_committee_adjustments(out, summary, exports)
    check_tie_by_construction(out, summary, exports)
    check_rate_tiebreak(summary, exports)
    check_cohort_changes(summary, exports)
    check_roster(out, summary, exports)
    check_exact_cell(out, summary, exports)
    check_zero_forms(out, summary)
    check_draft(out)
    check_resent(out, summary)


def test_the_default_season_shows_every_case(default_run) -> None:
    out, summary, exports = default_run
    check_all_features(out, summary, exports)
    f = summary["features"]
    assert f["tie_at_cutoff"] == {
        "group": "specialty",
        "units": ["chest", "smhc"],
        "above": ["scmc", "childrens"],
        "below": ["ipmch"],
        "advanced": f["tie_at_cutoff"]["advanced"],
    }
    assert f["zero_forms"] == ["ipmch"]
    assert summary["graduates"]["ipmch"] == 20  # D5: exactly 20 is small


@pytest.mark.parametrize(("seed", "scale"), [(1, 0.2), (2, 0.2), (3, 0.25), (4, 0.5)])
def test_every_case_by_construction_for_any_seed_at_scale_from_0_2(tmp_path, seed, scale) -> None:
    out = tmp_path / "raw"
    summary = generate(out, seed=seed, scale=scale, exports=6, fmt="csv")
    check_all_features(out, summary, read_exports(out))


def test_without_an_export_after_the_last_node_no_roster_student_is_missing(tmp_path) -> None:
    out = tmp_path / "raw"
    summary = generate(out, scale=0.2, exports=4, fmt="csv")
    assert not summary["features"]["roster_missing_on_last_node"]
    exports = read_exports(out)
    assert set(read_roster(out)["学号"]) <= set(exports[LAST_NODE]["student_id"])


def test_several_years(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    summary = generate(out, years="2020-2022", scale=0.2, exports=5, fmt="csv")
    assert sorted(summary["years"]) == [2020, 2021, 2022]
    assert summary["files"]["rules"] == [
        "rules/2020.toml",
        "rules/2022.toml",
        "rules/drafts/2020-decimal-targets.toml",
        "rules/drafts/2021-decimal-targets.toml",
        "rules/drafts/2022-decimal-targets.toml",
    ]
    rules = {y: load_rules(y, tmp_path / "rules") for y in (2020, 2022)} | {2021: load_rules(2021)}
    targets = {y: [m.target_bp for m in r.milestones] for y, r in rules.items()}
    quotas = {y: r.quotas for y, r in rules.items()}
    assert len({repr(t) for t in targets.values()}) == 3
    assert len({repr(q) for q in quotas.values()}) == 3
    sizes = {y: s["total_graduates"] for y, s in summary["years"].items()}
    assert sizes[2020] < sizes[2021] < sizes[2022]
    assert summary["total_graduates"] == sum(sizes.values())
    files = list((out / "registrations").iterdir())
    assert len(files) == 3 * 6
    by_year: dict[int, set[dt.date]] = {}
    for path in files:
        as_of, frame = read_export(path)
        assert set(frame["graduation_year"].str.strip_suffix("届")) == {str(as_of.year)}
        assert frame["student_id"].str.starts_with(f"0{as_of.year % 100}").all()
        by_year.setdefault(as_of.year, set()).add(as_of)
    assert {y: len(d) for y, d in by_year.items()} == {2020: 5, 2021: 5, 2022: 5}
    for year, s in summary["years"].items():
        f = s["features"]
        assert f["tie_at_cutoff"] and f["rate_tiebreak"] and f["exact_target_cell"], year
        assert len(f["tie_at_cutoff"]["above"]) == rules[year].quotas["specialty"] - 1
        check_draft(out, year)
    for kind in ("special_groups", "submissions", "adjustments"):
        names = [p.name for p in (out / kind).iterdir()]
        assert all(any(str(y) in n for y in (2020, 2021, 2022)) for n in names)
        assert len(names) == 3 * len(summary["years"][2021]["files"][kind])
    rates = {}
    for year in (2020, 2021, 2022):
        frame = resolve(read_export(out / "registrations" / f"就业登记导出_{year}-12-15.csv")[1])
        rates[year] = frame.filter(~pl.col("completion"))["employed"].mean()
    assert len(set(rates.values())) == 3


def test_the_draft_is_never_an_official_rules_file(default_run) -> None:
    out, _, _ = default_run
    source = RulesSource(out.parent / "rules")
    assert source.years() == available_years()  # the bundled years only
    assert source.load(2021).path == load_rules(2021).path


def test_rules_files_already_there_are_used_and_never_overwritten(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    text = (Path(load_rules(2021).path)).read_text(encoding="utf-8")
    own = text.replace("year = 2021", "year = 2022").replace("2021-", "2022-")
    own = own.replace("specialty = 3", "specialty = 2")
    (rules_dir / "2022.toml").write_text(own, encoding="utf-8")
    summary = generate(tmp_path / "raw", year=2022, scale=0.2, exports=5, fmt="csv")
    assert (rules_dir / "2022.toml").read_text(encoding="utf-8") == own
    assert summary["files"]["rules"] == ["rules/drafts/2022-decimal-targets.toml"]
    assert summary["features"]["tie_at_cutoff"]["above"] == ["scmc"]  # quota 2: one above

    draft = rules_dir / "drafts" / "2021-decimal-targets.toml"
    draft.write_text("# someone's own draft\n", encoding="utf-8")
    with pytest.raises(GenerateError) as info:
        generate(tmp_path / "raw2", scale=0.2, exports=5, fmt="csv")
    assert str(draft) in str(info.value) and "不会覆盖" in str(info.value)
    assert not (tmp_path / "raw2").exists()
    assert draft.read_text(encoding="utf-8") == "# someone's own draft\n"
