"""Each unit's folder of the night: followup/<year>/<as-of>/<unit>/ with its one-page sheet (no
personal data) and its follow-up list (personal data), and the lists the units hand back.

A two-year season (2020 and 2021, so that 2021 has last year to compare with) runs through the
real nightly flow twice: mid-season (10 Aug: the latest export is 7 Aug, the next node 15 Aug)
and ten days later (20 Aug: a new export of 15 Aug, the next node 15 Dec, an export 8 days
before the latest). Between the two nights three lists come back: one with notes, one naming
another unit's graduate, one with several bad rows. The test computes every figure itself from
the raw rows of the working database (raw.registrations and the run's manifest, in polars; the
scoreboard and the node's points by the independent implementation tests/reference_impl) and
compares it with what the sheets, the lists and the morning report show."""

from __future__ import annotations

import datetime as dt
import html.parser
import io
import os
import re
import shutil
import zipfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from differential_helpers import staged_inputs
from raw_layer import included_registrations

from employment_eval import failures, followup
from employment_eval.followup import data as followup_data
from employment_eval.followup.workbook import HEADERS, NOTE_HEADER, SHEET
from employment_eval.generate import generate
from employment_eval.render import formats, morning
from employment_eval.rules import RulesSource
from flows.nightly_refresh import nightly_refresh
from tests.reference_impl import read_adjustments, score

pytestmark = pytest.mark.xdist_group("followup")

YEAR = 2021
MID = dt.date(2021, 8, 10)  # exports …, 15 Jun, 7 Aug | 15 Aug, …: next node 15 Aug
LATER = dt.date(2021, 8, 20)  # latest export 15 Aug, 7 Aug is 8 days before: next node 15 Dec
DEGREES = ("bachelor", "master", "doctor")
DEGREE_NAMES = {"bachelor": "本科", "master": "硕士", "doctor": "博士"}
MISSING_LABELS = {k: v[0] for k, v in followup_data.MISSING.items()}
MARKER = "跟进标记ZQ"  # in every note the test writes: searched for where notes must not be


# --- the test's own computations from the raw layer ----------------------------------------------


def _ratio(e: int, n: int) -> Decimal:
    """e / n rounded half-up to 6 decimals, exactly."""
    return Decimal((2_000_000 * e + n) // (2 * n)).scaleb(-6)


def _counted(by: pl.Expr) -> pl.Expr:
    return (
        pl.col("destination_counts")
        & pl.col("is_verified").fill_null(False)
        & (pl.col("verified_date") <= by).fill_null(False)
    )


def _snapshot(rows: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    return rows.filter(pl.col("as_of_date") == day).with_columns(
        counted=_counted(pl.col("as_of_date"))
    )


def _cells(rows: pl.DataFrame, day: dt.date | None) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(unit, degree) → (N, E, pending) on the export `day`."""
    if day is None:
        return {}
    snap = _snapshot(rows, day)
    return {
        (u, d): (part.height, int(part["counted"].sum()),
                 int((part["destination_counts"] & ~part["counted"]).sum()))
        for (u, d), part in snap.group_by(["unit_code", "degree_code"])
    }  # fmt: skip


def _exports(rows: pl.DataFrame) -> list[dt.date]:
    return sorted(rows["as_of_date"].unique().to_list())


def _last_year_at(rows: pl.DataFrame, day: dt.date) -> dt.date | None:
    """Last year's latest export on or before `day` a year earlier."""
    shifted = day.replace(year=day.year - 1)
    before = [d for d in _exports(rows) if d <= shifted]
    return before[-1] if before else None


def _projected_label(deduction: Decimal, bonus: Decimal, base: int) -> str:
    if deduction > base:
        return f"扣满 {base} 分（差 {formats.points(deduction)} 分）"
    if deduction > 0:
        return f"扣 {formats.points(deduction)} 分"
    if bonus > 0:
        return f"加 {formats.points(bonus)} 分"
    return "—"


def expected_night(work: Path, raw: Path, day: dt.date) -> dict:
    """Every figure of the night's sheets, from the raw layer."""
    rows = included_registrations(work, YEAR)
    last = included_registrations(work, YEAR - 1)
    rules = {r.year: r for r in RulesSource(raw.parent / "rules").load_all()}[YEAR]
    exports = _exports(rows)
    latest = exports[-1]
    previous = exports[-2] if len(exports) > 1 else None
    week = [d for d in exports if latest - dt.timedelta(days=10) <= d <= latest - dt.timedelta(7)]
    week_ago = week[-1] if week else None
    node = min((m for m in rules.milestones if m.date >= day), key=lambda m: m.date)
    con = duckdb.connect(str(work), read_only=True)
    try:
        staged = staged_inputs(con)
        units = {
            code: (short, group, order)
            for code, short, group, order in con.execute(
                "select unit_code, short_name, unit_group, sort_order from reference.units"
            ).fetchall()
        }
        group_names = dict(
            con.execute("select unit_group, group_name from reference.unit_groups").fetchall()
        )
    finally:
        con.close()
    scored = score(
        staged["registrations"], staged["special_groups"], staged["submissions"], rules, day,
        adjustments=read_adjustments(raw / "adjustments"),
    )  # fmt: skip
    board = {r["unit_code"]: r for r in scored["scoreboard"].to_dicts()}
    points = {
        (r["unit_code"], r["degree"]): (r["bonus"], r["deduction"])
        for r in scored["milestone_rates"].filter(pl.col("milestone_date") == node.date).to_dicts()
    }
    now, prev, wk = _cells(rows, latest), _cells(rows, previous), _cells(rows, week_ago)
    ly_export = _last_year_at(last, latest)
    ly = _cells(last, ly_export)
    out: dict[str, dict] = {}
    for code in units:
        degrees = {}
        for d in DEGREES:
            if (code, d) not in now:
                continue
            n, e, pending = now[(code, d)]
            target = node.target_bp[d]
            required = -(-target * n // 10000)
            gap = max(0, required - e)
            bonus, deduction = points[(code, d)]
            rate = _ratio(e, n)

            def change(base, n=n, e=e, rate=rate, code=code, d=d):
                if (code, d) not in base:
                    return None, None
                n0, e0, _ = base[(code, d)]
                return e - e0, rate - _ratio(e0, n0)

            degrees[d] = {
                "graduates": n, "employed": e, "rate": rate,
                "target": Decimal(target).scaleb(-4), "required": required, "gap": gap,
                "pending": pending, "verification_closes": min(gap, pending),
                "gap_after_pending": max(0, gap - pending),
                "change_previous": change(prev), "change_week": change(wk),
                "bonus": bonus, "deduction": deduction,
                "projected": _projected_label(deduction, bonus, node.base_points),
                "last_year": _ratio(*ly[(code, d)][1::-1]) if (code, d) in ly else None,
            }  # fmt: skip
        if not degrees:
            continue
        deductions = sum((v["deduction"] for v in degrees.values()), Decimal(0))
        bonuses = sum((v["bonus"] for v in degrees.values()), Decimal(0))
        n = sum(v["graduates"] for v in degrees.values())
        e = sum(v["employed"] for v in degrees.values())

        def total(key: str, degrees=degrees):
            values = [v[key][0] for v in degrees.values() if v[key][0] is not None]
            return sum(values) if values else None

        out[code] = {
            "short": units[code][0],
            "group": units[code][1],
            "group_name": group_names[units[code][1]],
            "degrees": degrees,
            "graduates": n,
            "employed": e,
            "rate": _ratio(e, n),
            "gap": sum(v["gap"] for v in degrees.values()),
            "pending": sum(v["pending"] for v in degrees.values()),
            "verification_closes": sum(v["verification_closes"] for v in degrees.values()),
            "gap_after_pending": sum(v["gap_after_pending"] for v in degrees.values()),
            "change_previous": total("change_previous"),
            "change_week": total("change_week"),
            "base": node.base_points,
            "node_points": max(Decimal(0), node.base_points - deductions) + bonuses,
            "at_risk": min(Decimal(node.base_points), deductions),
            "rank": board[code]["rank_in_group"],
            "total": board[code]["total_points"],
            "status": board[code]["status"],
            "quota": board[code]["quota"],
            "group_units": sum(1 for u in board.values() if u["unit_group"] == units[code][1]),
            "sort_order": units[code][2],
        }
    risky = sorted(
        (c for c in out if out[c]["at_risk"] > 0),
        key=lambda c: (-out[c]["at_risk"], out[c]["sort_order"]),
    )
    for c in risky:
        out[c]["at_risk_rank"] = 1 + sum(1 for o in risky if out[o]["at_risk"] > out[c]["at_risk"])
    curves = {}
    for code in out:
        for d in DEGREES:
            points = []
            for when in exports:
                here = _cells(rows, when)
                if (code, d) not in here:
                    continue
                n, e, _ = here[(code, d)]
                then = _last_year_at(last, when)
                old = _cells(last, then).get((code, d))
                points.append((when, _ratio(e, n), _ratio(old[1], old[0]) if old else None))
            curves[(code, d)] = points
    return {
        "units": out,
        "risky": risky,
        "node": node,
        "latest": latest,
        "previous": previous,
        "week_ago": week_ago,
        "ly_export": ly_export,
        "curves": curves,
        "rows": rows,
    }


def _state(rec: dict) -> str:
    if rec["counted"]:
        return "counted"
    if rec["destination_counts"]:
        return "verification"
    return "registration" if rec["destination_family"] == "70" else "destination"


def expected_lists(rows: pl.DataFrame, day: dt.date, node: dt.date | None) -> dict[str, dict]:
    """student_id → what the list must say of every graduate not counted on the latest export:
    unit, what is missing, since which export, the change since the previous export, counted
    at the last node."""
    exports = _exports(rows)
    states: dict[str, list[tuple[dt.date, str, str]]] = {}
    for when in exports:
        for rec in _snapshot(rows, when).iter_rows(named=True):
            states.setdefault(rec["student_id"], []).append((when, _state(rec), rec["unit_code"]))
    at_node: set[str] = set()
    if node is not None:
        node_export = max(d for d in exports if d <= node)
        snap = rows.filter(pl.col("as_of_date") == node_export).with_columns(
            counted=_counted(pl.lit(node))
        )
        at_node = set(snap.filter(pl.col("counted"))["student_id"])
    latest, previous = exports[-1], (exports[-2] if len(exports) > 1 else None)
    out = {}
    for sid, seq in states.items():
        when, state, unit = seq[-1]
        if when != latest or state == "counted":
            continue
        since = when
        for earlier, s, _ in reversed(seq[:-1]):
            if s != state:
                break
            since = earlier
        before = {w: s for w, s, _ in seq}.get(previous, "absent") if previous else None
        out[sid] = {"unit": unit, "missing": state, "since": since, "before": before,
                    "at_node": sid in at_node}  # fmt: skip
    return out


# --- reading what was written ----------------------------------------------------------------


class _Figures(html.parser.HTMLParser):
    """Text of every element with a data-col (keyed by the data-degree of its row, if any) and
    of every element with an id; the attributes of every curve point."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.open: list[list] = []  # [key, tag, depth, text]
        self.figures: dict[tuple[str | None, str], str] = {}
        self.ids: dict[str, str] = {}
        self.dots: list[dict[str, str]] = []
        self.degree: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "tr":
            self.degree = a.get("data-degree")
        if tag == "circle" and "data-rate" in a:
            self.dots.append(a)
        if "data-col" in a:
            self.open.append([("col", self.degree, a["data-col"]), tag, len(self.stack), ""])
        if "id" in a:
            self.open.append([("id", a["id"]), tag, len(self.stack), ""])
        if tag not in ("br", "line", "rect", "circle", "polyline", "meta"):
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1][0] == tag:
            self.stack.pop()
        for item in [o for o in self.open if o[2] == len(self.stack) and o[1] == tag]:
            self.open.remove(item)
            key = item[0]
            if key[0] == "col":
                self.figures.setdefault((key[1], key[2]), item[3].strip())
            else:
                self.ids[key[1]] = item[3].strip()
        if tag == "tr":
            self.degree = None

    def handle_data(self, data):
        for item in self.open:
            item[3] += data


def read_sheet(path: Path) -> _Figures:
    parser = _Figures()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def read_list(path: Path) -> tuple[list[dict], list[list]]:
    """The graduates' rows of a list (by header) and the rows above them."""
    ws = openpyxl.load_workbook(path)[SHEET]
    rows = list(ws.iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if r[: len(HEADERS)] == HEADERS)
    out = []
    for r in rows[at + 1 :]:
        if isinstance(r[0], int):
            out.append(dict(zip(HEADERS, r, strict=False)))
    return out, rows[:at]


def unit_dir(night: Path, code: str) -> Path:
    found = [p for p in night.iterdir() if p.name.startswith(f"{code}_")]
    assert len(found) == 1, (code, found)
    return found[0]


def sheet_path(night: Path, code: str) -> Path:
    return next(unit_dir(night, code).glob("*_进度单_*.html"))


def list_path(night: Path, code: str) -> Path:
    return next(unit_dir(night, code).glob("*_跟进名单_*.xlsx"))


# --- the season --------------------------------------------------------------------------------


def _return_list(source: Path, target: Path, edit) -> None:
    """A list as a unit hands it back: opened in a spreadsheet program, edited, saved."""
    wb = openpyxl.load_workbook(source)
    ws = wb[SHEET]
    header = next(r for r in ws.iter_rows() if r[1].value == "学号" and r[13].value == NOTE_HEADER)
    data = [r for r in ws.iter_rows(min_row=header[0].row + 1) if isinstance(r[0].value, int)]
    edit(data)
    wb.save(target)


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("units")
    raw = base / "raw"
    generate(raw, seed=7, scale=0.4, exports=8, years="2020-2021", fmt="csv")
    marts = base / "marts" / "employment.duckdb"
    work = base / "work" / "warehouse.duckdb"
    place: dict = {"raw": raw, "marts": marts, "work": work}
    with failures.unwrapped():
        place["mid_run"] = nightly_refresh(str(raw), str(marts), str(work), YEAR, MID)
    place["mid"] = expected_night(work, raw, MID)
    nodes = [m.date for m in RulesSource(raw.parent / "rules").load(YEAR).milestones]
    place["mid_lists"] = expected_lists(
        place["mid"]["rows"], MID, max(d for d in nodes if d <= MID)
    )
    night = followup.night_dir(work.parent, YEAR, MID)
    place["mid_night"] = night
    # keep the night's sheets and lists: the later run prunes nothing (14 nights) but rewrites
    place["mid_copy"] = base / "mid_copy"
    shutil.copytree(night, place["mid_copy"])

    # three lists come back
    listed = place["mid_lists"]
    per_unit = Counter(v["unit"] for v in listed.values())
    a, b, c = [u for u, _ in per_unit.most_common(3)]
    returned = followup.returned_dir(work.parent)
    noted: dict[str, str] = {}

    def annotate(data):
        for i, row in enumerate(data[:4]):
            text = f"{MARKER}{i}：8月9日电话联系，{'已' if i % 2 else '未'}落实\n下周再联系"
            row[13].value = text
            noted[row[1].value] = text

    _return_list(list_path(night, a), returned / "a_returned.xlsx", annotate)
    foreign = next(s for s, v in listed.items() if v["unit"] == a)

    def smuggle(data):
        data[0][13].value = f"{MARKER}B：已联系"
        data[1][1].value = foreign  # another unit's graduate
        data[1][13].value = f"{MARKER}B2：已联系"

    _return_list(list_path(night, b), returned / "b_returned.xlsx", smuggle)

    def spoil(data):
        data[0][1].value = "99999999999"  # no such graduate
        data[0][13].value = f"{MARKER}C1"
        data[2][1].value = data[1][1].value  # the same graduate twice
        data[2][13].value = f"{MARKER}C3"
        data[3][1].value = None  # a note without a student number
        data[3][13].value = f"{MARKER}C4"
        data[4][13].value = "长" * 501

    _return_list(list_path(night, c), returned / "c_returned.xlsx", spoil)
    place.update(a=a, b=b, c=c, noted=noted, foreign=foreign, returned=returned)
    with failures.unwrapped():
        place["later_run"] = nightly_refresh(str(raw), str(marts), str(work), YEAR, LATER)
    place["later"] = expected_night(work, raw, LATER)
    place["later_lists"] = expected_lists(
        place["later"]["rows"], LATER, max(d for d in nodes if d <= LATER)
    )
    place["later_night"] = followup.night_dir(work.parent, YEAR, LATER)
    place["returned_warnings"] = failures.recall_returned_warnings(place["later_run"])
    return place


# --- the folders -------------------------------------------------------------------------------


def test_each_unit_has_one_folder_with_its_sheet_and_its_list(season) -> None:
    con = duckdb.connect(str(season["work"]), read_only=True)
    units = dict(con.execute("select unit_code, short_name from reference.units").fetchall())
    con.close()
    for night, day in ((season["mid_night"], MID), (season["later_night"], LATER)):
        folders = sorted(p.name for p in night.iterdir())
        assert folders == sorted(followup.folder_name(c, s) for c, s in units.items())
        for code, short in units.items():
            files = sorted(p.name for p in (night / followup.folder_name(code, short)).iterdir())
            assert files == sorted(
                [followup.list_name(code, short, day), followup.sheet_name(code, short, day)]
            )


def test_folders_and_files_are_private(season) -> None:
    root = followup.root(season["work"].parent)
    folders = [root, *(p for p in root.rglob("*") if p.is_dir())]
    files = [p for p in root.rglob("*") if p.is_file()]
    assert season["returned"] in folders and len(files) >= 60
    assert all(p.stat().st_mode & 0o777 == 0o700 for p in folders), [
        (p, oct(p.stat().st_mode)) for p in folders if p.stat().st_mode & 0o777 != 0o700
    ]
    written = [p for p in files if p.parent != season["returned"]]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in written)
    assert not root.is_relative_to(season["marts"].parent)


# --- the sheet -----------------------------------------------------------------------------------


def _signed_int(text: str) -> int | None:
    if text in ("", "—"):
        return None
    found = re.match(r"^([+−]?)(\d+) 人", text)
    assert found, text
    return -int(found[2]) if found[1] == "−" else int(found[2])


def _check_sheet(fig: _Figures, want: dict, night: dict) -> None:
    for degree, d in want["degrees"].items():
        got = {col: text for (deg, col), text in fig.figures.items() if deg == degree}
        for col in ("graduates", "employed", "required", "gap", "pending",
                    "verification_closes", "gap_after_pending"):  # fmt: skip
            assert int(got[col]) == d[col], (degree, col, got[col], d[col])
        assert got["rate"] == formats.percent(d["rate"]) and got["target"] == formats.percent(
            d["target"]
        )
        for col in ("change_previous", "change_week"):
            employed, rate = d[col]
            assert _signed_int(got[col]) == employed, (degree, col)
            if rate is not None:
                assert got[f"{col}_rate"] == f"{formats.points_change(rate)} 个百分点", (
                    degree,
                    col,
                )
        assert got["projected"] == d["projected"], degree
    total = {col: text for (deg, col), text in fig.figures.items() if deg == "all"}
    for col in (
        "graduates",
        "employed",
        "gap",
        "pending",
        "verification_closes",
        "gap_after_pending",
    ):
        assert int(total[col]) == want[col], col
    assert total["rate"] == formats.percent(want["rate"])
    assert _signed_int(total["change_previous"]) == want["change_previous"]
    assert _signed_int(total["change_week"]) == want["change_week"]
    assert total["projected_points"] == f"{formats.points(want['node_points'])}/{want['base']} 分"
    tiles = {col: text for (deg, col), text in fig.figures.items() if deg is None}
    assert int(tiles["gap"]) == want["gap"] and int(tiles["pending"]) == want["pending"]
    assert int(tiles["gap_after_pending"]) == want["gap_after_pending"]
    assert tiles["projected_points"] == formats.points(want["node_points"])
    assert int(tiles["rank_in_group"]) == want["rank"]


def _today(want: dict, node: dt.date) -> str:
    day = formats.month_day(node)
    if want["gap"] > 0:
        parts = []
        if want["pending"]:
            parts.append(f"督促鉴证 {want['pending']} 人")
        if want["gap_after_pending"]:
            parts.append(f"新落实 {want['gap_after_pending']} 人")
        if want["at_risk"] > 0:
            parts.append(f"可避免扣 {formats.points(want['at_risk'])} 分")
        return "今天：" + "，".join(parts) + "。"
    if want["pending"]:
        return f"今天：督促鉴证 {want['pending']} 人；各学历已达到{day}节点目标。"
    return f"今天：各学历已达到{day}节点目标，保持即可。"


def _sentences(want: dict, night: dict) -> dict[str, str]:
    day = formats.month_day(night["node"].date)
    score_text = f"节点得分 {formats.points(want['node_points'])}/{want['base']} 分"
    if want["at_risk"] > 0:
        outlook = (
            f"若到{day}情况不变，本单位将被扣 {formats.points(want['at_risk'])} 分，{score_text}"
            f"（全校 {len(night['risky'])} 个将被扣分的单位中，扣分第 {want['at_risk_rank']} 多）。"
        )
    else:
        outlook = f"若到{day}情况不变，本单位不会被扣分，{score_text}。"
    provisional = want["status"] != "final"
    rank = (
        f"组内{'暂列' if provisional else ''}第 {want['rank']} 名（{want['group_name']}共 "
        f"{want['group_units']} 个单位，先进名额 {want['quota']}），总分 "
        f"{formats.points(want['total'])} 分{'（暂定）' if provisional else ''}。"
    )
    changes = [
        f"{DEGREE_NAMES[d]} "
        + ("去年无该学历毕业生" if v["last_year"] is None
           else f"{formats.points_change(v['rate'] - v['last_year']) or '0.0'} 个百分点")
        for d, v in want["degrees"].items()
    ]  # fmt: skip
    last_year = (
        f"较去年同期（去年 {formats.month_day(night['ly_export'])}的导出）："
        + "，".join(changes)
        + "。"
    )
    return {"today": _today(want, night["node"].date), "outlook": outlook, "rank": rank,
            "last-year": last_year}  # fmt: skip


@pytest.mark.parametrize("when", ["mid", "later"])
def test_every_number_on_every_sheet_equals_the_raw_layer(season, when) -> None:
    night = season[when]
    folder = season["mid_copy"] if when == "mid" else season["later_night"]
    assert night["ly_export"] is not None
    for code, want in night["units"].items():
        fig = read_sheet(sheet_path(folder, code))
        _check_sheet(fig, want, night)
        for key, text in _sentences(want, night).items():
            assert fig.ids[key] == text, (code, key)
        dots = {(d["data-degree"], d["data-date"]): d for d in fig.dots}
        expected = {
            (d, when_.isoformat()): (rate, old)
            for (c, d), points in night["curves"].items() if c == code
            for when_, rate, old in points
        }  # fmt: skip
        assert set(dots) == set(expected), code
        for key, (rate, old) in expected.items():
            assert Decimal(dots[key]["data-rate"]) == rate, (code, key)
            got_old = dots[key]["data-last-year-rate"]
            assert (Decimal(got_old) if got_old else None) == old, (code, key)


def test_the_week_ago_figures_appear_only_with_an_export_a_week_before(season) -> None:
    assert season["mid"]["week_ago"] is None  # 7 Aug: the export before is 15 Jun
    assert season["later"]["week_ago"] == dt.date(2021, 8, 7)  # 15 Aug: 8 days before
    mid = read_sheet(sheet_path(season["mid_copy"], season["a"]))
    assert {t for (d, c), t in mid.figures.items() if c == "change_week"} == {"—"}
    later = read_sheet(sheet_path(season["later_night"], season["a"]))
    assert any(t != "—" for (d, c), t in later.figures.items() if c == "change_week")


def test_this_year_and_last_year_share_the_export_dates(season) -> None:
    """Each point of this season carries last year's rate at the same calendar date, and the
    chart puts the two years' lines on one calendar."""
    html = sheet_path(season["mid_copy"], season["a"]).read_text(encoding="utf-8")
    fig = read_sheet(sheet_path(season["mid_copy"], season["a"]))
    assert fig.dots and all(d["data-last-year-rate"] for d in fig.dots)
    assert "去年同期" in html and 'class="last"' in html and 'class="this"' in html


def test_the_morning_report_ranks_the_units_that_would_lose_points(season) -> None:
    night = season["mid"]
    units = night["units"]
    html_path, _ = morning.report_paths(season["marts"].parent, YEAR, MID)
    fig = read_sheet(html_path)
    ranked = "、".join(
        f"{units[c]['short']} {formats.points(units[c]['at_risk'])} 分" for c in night["risky"]
    )
    assert night["risky"], "the generated season has units behind the 15 Aug node"
    assert fig.ids["at-risk"] == (
        f"若到8月15日情况不变，{len(night['risky'])} 个单位将被扣分（按扣分从多到少）：{ranked}。"
    )
    page = html_path.read_text(encoding="utf-8")
    assert page.count('<svg class="season"') == 3 + len(units)  # the school's degrees, each unit
    assert "发布数据库中没有去年的数据" not in page
    # the bars count graduates: their tooltips say 人
    assert re.search(r"<rect [^>]*><title>[^<]*：\d+ 人</title>", page)


# --- the lists ---------------------------------------------------------------------------------


def test_every_graduate_not_counted_is_listed_once_with_what_is_missing_and_since_when(
    season,
) -> None:
    for folder, want in ((season["mid_copy"], season["mid_lists"]),
                         (season["later_night"], season["later_lists"])):  # fmt: skip
        assert {v["missing"] for v in want.values()} == set(followup_data.MISSING)
        seen: Counter = Counter()
        for code in {v["unit"] for v in want.values()}:
            rows, _ = read_list(list_path(folder, code))
            for row in rows:
                sid = row["学号"]
                seen[sid] += 1
                w = want[sid]
                assert w["unit"] == code
                assert row["缺什么"] == MISSING_LABELS[w["missing"]], sid
                assert row["自哪次导出起"].date() == w["since"], sid
                assert (row["上一节点已计入"] is not None) == w["at_node"], sid
                before = w["before"]
                note = row["较上次导出"] or ""
                if before == "absent":
                    assert note == "新列入（上次导出中没有该生）"
                elif before == "counted":
                    assert note == "新列入（上次导出时已计入就业）"
                elif before != w["missing"]:
                    assert note == f"原为{MISSING_LABELS[before]}", sid
                else:
                    assert note in ("", "记录有更新"), sid
        assert set(seen) == set(want) and set(seen.values()) == {1}


def test_the_top_of_each_list_gives_the_gap_and_what_verification_closes(season) -> None:
    for code, want in season["mid"]["units"].items():
        _, top = read_list(list_path(season["mid_copy"], code))
        at = next(i for i, r in enumerate(top) if r[0] == "学历")
        got = {}
        for r in top[at + 1 :]:
            if r[0] in DEGREE_NAMES.values():
                got[r[0]] = r[3:10]
        assert got == {
            DEGREE_NAMES[d]: (v["graduates"], v["employed"], v["required"], v["gap"],
                              v["pending"], v["verification_closes"], v["gap_after_pending"])
            for d, v in want["degrees"].items()
        }, code  # fmt: skip
        assert top[3][0] == _today(want, season["mid"]["node"].date)


def test_a_returned_note_appears_beside_the_same_graduate_the_next_night(season) -> None:
    rows, top = read_list(list_path(season["later_night"], season["a"]))
    by_id = {r["学号"]: r for r in rows}
    carried = [sid for sid in season["noted"] if sid in by_id]
    assert carried, "annotated graduates still to follow up on 15 Aug"
    later = season["later"]["rows"]
    for sid in carried:
        row = by_id[sid]
        assert row[NOTE_HEADER] == season["noted"][sid]
        changed = later.filter(pl.col("student_id") == sid).sort("as_of_date")
        fields = ["unit_code", "degree_code", "destination_code", "employer", "is_verified",
                  "verified_date"]  # fmt: skip
        records = changed.select(fields).rows()
        moved = len(records) > 1 and records[-1] != records[-2]
        assert row["跟进记录来自"] == f"{MID.isoformat()} 的名单" + (
            "；此后记录有变化" if moved else ""
        )
    assert any(f"{len(carried)} 人带有本单位退回名单中的跟进记录" in str(r[0]) for r in top)
    others = [r for r in rows if r["学号"] not in season["noted"]]
    assert all(not r[NOTE_HEADER] for r in others)
    # nobody else's list carries a note: the other two lists were refused
    for code in (season["b"], season["c"]):
        rows, _ = read_list(list_path(season["later_night"], code))
        assert all(not r[NOTE_HEADER] for r in rows)


def test_a_returned_list_naming_another_units_graduate_is_refused(season) -> None:
    lines = season["returned_warnings"]
    b = [line for line in lines if line.startswith("[警告]") and "b_returned.xlsx" in line]
    assert len(b) == 1 and "第" in b[0] and "列「学号」" in b[0] and "不是本单位" in b[0]
    assert season["foreign"] not in " ".join(lines)  # the message names the row, not the 学号
    summary = lines[-1]
    assert "b_returned.xlsx" in summary and "c_returned.xlsx" in summary
    assert "a_returned.xlsx" not in summary
    con = duckdb.connect(str(season["work"]), read_only=True)
    try:
        files = [
            r[0] for r in con.execute("select source_file from followup.returned_files").fetchall()
        ]
        outcome = con.execute(
            "select outcome from meta.run_log where run_id = ?", [season["later_run"]]
        ).fetchone()[0]
    finally:
        con.close()
    assert files == ["followup/returned/a_returned.xlsx"]
    assert outcome == "published"  # a refused list does not stop the night


def test_every_bad_row_of_a_returned_list_is_reported_at_once(season) -> None:
    c = [line for line in season["returned_warnings"] if "c_returned.xlsx，第" in line]
    reasons = " ".join(c)
    assert len(c) == 4, c
    assert "学号不在 2021 年度 2021-08-10 及以前的导出中" in reasons
    assert "学号与第" in reasons and "行重复" in reasons
    assert "有跟进记录但没有学号" in reasons
    assert "跟进记录有 501 字，超过 500 字" in reasons
    report = failures.returned_warnings_file(
        season["work"].parent / "reports" / season["later_run"]
    )
    assert report.is_file() and report.read_text(encoding="utf-8").count("c_returned.xlsx，第") == 4


def test_a_list_is_read_once_and_notes_of_later_lists_wait_for_their_night(
    season, tmp_path
) -> None:
    work = tmp_path / "w.duckdb"
    shutil.copy(season["work"], work)
    con = duckdb.connect(str(work))
    try:
        again = followup.returned.read_returned(con, season["work"].parent, YEAR, LATER, "again")
        assert again.known == 1 and not again.accepted
        assert len(again.refused) == 2  # still there, still refused: said every night
        _, _, units = followup_data.read_lists(con, YEAR, MID - dt.timedelta(days=1))
        assert not any(g.note for u in units for g in u.graduates)  # a replay before the list
    finally:
        con.close()


# --- privacy -----------------------------------------------------------------------------------


def _contents(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return [data, *(z.read(n) for n in z.namelist())]
    return [data]


def test_no_sheet_holds_a_student_number_or_a_name(season) -> None:
    con = duckdb.connect(str(season["work"]), read_only=True)
    try:
        ids, names = (
            {
                v.encode()
                for (v,) in con.execute(f"select distinct {col} from raw.registrations").fetchall()
                if v
            }
            for col in ("student_id", "name")
        )
    finally:
        con.close()
    assert len(ids) > 1000
    sheets = [*season["mid_copy"].rglob("*.html"), *season["later_night"].rglob("*.html")]
    assert len(sheets) == 30
    for path in sheets:
        blob = path.read_bytes()
        leaked = [v for v in ids | names if v in blob]
        assert not leaked, (path.name, leaked[:3])
    # the scan would see one: the lists hold them
    assert any(
        v in b for b in _contents(list_path(season["later_night"], season["a"])) for v in ids
    )


def test_notes_stay_in_the_private_area(season) -> None:
    marker = MARKER.encode()
    for path in season["marts"].parent.rglob("*"):
        if path.is_file():
            assert not any(marker in b for b in _contents(path)), path
    for path in (season["work"].parent / "reports").rglob("*"):
        if path.is_file():
            assert marker not in path.read_bytes(), path
    home = Path(os.environ["PREFECT_HOME"])
    for path in home.rglob("*"):
        if path.is_file() and path.stat().st_size < 200_000_000:
            assert marker not in path.read_bytes(), path


# --- keeping nights, names -------------------------------------------------------------------


def test_only_the_last_n_nights_are_kept(season, tmp_path) -> None:
    """The night's folders replace that night's as a whole; older nights beyond N go."""
    work_dir = tmp_path / "work"
    shutil.copytree(followup.root(season["work"].parent), followup.root(work_dir))
    shutil.copy(season["work"], work_dir / "w.duckdb")
    con = duckdb.connect(str(work_dir / "w.duckdb"))
    try:
        written = followup.write_followup_lists(con, work_dir, YEAR, LATER, "keep", keep=1)
    finally:
        con.close()
    assert written.folder == followup.night_dir(work_dir, YEAR, LATER) and written.sheets == 0
    root = followup.root(work_dir)
    assert sorted(p.name for p in root.iterdir()) == [str(YEAR), followup.returned.FOLDER]
    year = followup.year_dir(work_dir, YEAR)
    assert [p.name for p in year.iterdir()] == [LATER.isoformat()]  # the last night only


def test_prune_keeps_the_most_recent_nights_and_clears_leftovers(tmp_path) -> None:
    for name in ("2021-08-01", "2021-08-02", "2021-08-03", "2021-08-04", ".2021-08-05.x.writing"):
        (tmp_path / name).mkdir()
    (tmp_path / "notes.txt").write_text("kept")
    followup.prune(tmp_path, keep=2, current=tmp_path / "2021-08-01")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["2021-08-01", "2021-08-03", "2021-08-04", "notes.txt"]


def test_folder_and_file_names_hold_no_character_a_file_system_refuses() -> None:
    day = dt.date(2021, 8, 10)
    assert followup.folder_name("ruijin", "瑞金") == "ruijin_瑞金"
    assert followup.folder_name("x", 'a/b:c*?"<>|\u202e') == "x_a_b_c______"
    assert followup.folder_name("x", "..") == "x_x"
    assert followup.list_name("ruijin", "瑞金", day) == "ruijin_瑞金_跟进名单_2021-08-10.xlsx"
    assert followup.sheet_name("ruijin", "瑞金", day) == "ruijin_瑞金_进度单_2021-08-10.html"
