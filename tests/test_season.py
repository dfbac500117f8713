"""The season against last year and the sentences of the units' sheets, on hand-built seasons
(tests/warehouse_factory: every model built in memory, no file parsed): last year's rate at the
same calendar date when the two years exported on different days; the week-ago export only when
one lies 7 to 10 days before; what a sheet says when there is no last year; the percentage
points of the SQL against the renderers' own; the chart puts both years on one calendar."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from employment_eval import build
from employment_eval.paths import SQL_DIR
from employment_eval.reference import Reference
from employment_eval.render import charts, formats
from employment_eval.rules import load_rules, load_rules_file
from tests.warehouse_factory import Grad, Scenario, build_scenario, fill_units, unemployed

D = dt.date


def _grads(cohort: int, employed: int, size: int = 20, unit: str = "ruijin") -> list[Grad]:
    """`size` masters of `unit` in cohort `cohort`, the first `employed` employed."""
    grads = [
        Grad(f"{cohort}-{i:03d}", unit, verified_date=D(cohort, 5, 1), cohort_year=cohort)
        for i in range(employed)
    ]
    for i in range(employed, size):
        g = unemployed(f"{cohort}-{i:03d}", unit)
        g.cohort_year = cohort
        grads.append(g)
    return grads


@pytest.fixture(scope="module")
def two_years(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """2020 exported on 3 Jun and 20 Aug; 2021 on 1 Jun, 10 Jun and 25 Aug."""
    last = {D(2020, 6, 3): 10, D(2020, 8, 20): 16}
    this = {D(2021, 6, 1): 8, D(2021, 6, 10): 12, D(2021, 8, 25): 18}
    others = [
        Grad(f"{code}-2020-{i}", code, verified_date=D(2020, 5, 1), cohort_year=2020)
        for code in Reference().unit_codes
        if code not in ("ruijin", "renji")
        for i in range(30)
    ]
    exports = {day: _grads(2020, n) + others for day, n in last.items()}
    exports |= {day: fill_units(_grads(2021, n)) for day, n in this.items()}
    s = Scenario(exports=exports, as_of=D(2021, 8, 30))
    con = build_scenario(s)
    folder = tmp_path_factory.mktemp("rules")
    text = (Path(SQL_DIR).parent / "reference" / "rules" / "2021.toml").read_text(encoding="utf-8")
    (folder / "2020.toml").write_text(text.replace("2021", "2020"), encoding="utf-8")
    build.build_models(con, [load_rules_file(folder / "2020.toml", 2020), load_rules(2021)])
    return con


def test_last_year_is_read_at_the_same_calendar_date(two_years) -> None:
    rows = two_years.execute(
        """select curve_date, is_export, employment_rate, last_year_export_date, last_year_rate,
                  is_last_year_export, rate_change_last_year
           from marts.season_curves
           where year = 2021 and unit_code = 'ruijin' and degree = 'master' order by 1"""
    ).fetchall()
    got = {r[0]: r[1:] for r in rows}
    assert sorted(got) == [D(2021, 6, 1), D(2021, 6, 3), D(2021, 6, 10), D(2021, 8, 20),
                           D(2021, 8, 25)]  # fmt: skip
    # 1 Jun: last year had no export yet by 1 Jun 2020
    assert got[D(2021, 6, 1)] == (True, Decimal("0.4"), None, None, False, None)
    # 3 Jun: last year's own export, moved one year on; nothing of this season that day
    assert got[D(2021, 6, 3)] == (False, None, D(2020, 6, 3), Decimal("0.5"), True, None)
    # 10 Jun: this season's export against last year's of 3 Jun
    assert got[D(2021, 6, 10)] == (
        True, Decimal("0.6"), D(2020, 6, 3), Decimal("0.5"), False, Decimal("0.1"),
    )  # fmt: skip
    assert got[D(2021, 8, 25)][2:4] == (D(2020, 8, 20), Decimal("0.8"))
    school = two_years.execute(
        "select count(*) from marts.season_curves where year = 2021 and unit_code = 'all'"
    ).fetchone()[0]
    assert school == 5  # the school's curve (masters only here) on the same dates
    first = two_years.execute(
        "select count(*) from marts.season_curves where year = 2020 and last_year_rate is not null"
    ).fetchone()[0]
    assert first == 0  # the first year of the file has no last year


def test_the_sheet_compares_with_last_year_and_says_when_it_cannot(two_years) -> None:
    note = two_years.execute(
        "select last_year_note from marts.unit_sheet where year = 2021 and unit_code = 'ruijin'"
    ).fetchone()[0]
    assert note == "较去年同期（去年 8月20日的导出）：硕士 +10.0 个百分点。"
    other = two_years.execute(
        "select last_year_note from marts.unit_sheet where year = 2021 and unit_code = 'renji'"
    ).fetchone()[0]
    assert other == "没有去年同期的数据，无法与去年比较。"
    school = two_years.execute(
        "select last_year_note from marts.season_outlook where year = 2021"
    ).fetchone()[0]
    assert school.startswith("全校（8月25日的导出）：") and "去年同期指去年 8月20日的导出" in school


def test_the_week_ago_export_lies_7_to_10_days_before() -> None:
    days = [D(2021, 6, 1), D(2021, 6, 5), D(2021, 6, 15), D(2021, 6, 30), D(2021, 7, 7),
            D(2021, 7, 17)]  # fmt: skip
    grads = fill_units([Grad("a", "ruijin")])
    con = build_scenario(Scenario(exports={d: grads for d in days}, as_of=D(2021, 7, 20)))
    got = dict(
        con.execute(
            "select distinct as_of_date, week_ago_export_date from marts.rate_changes"
        ).fetchall()
    )
    assert got == {
        D(2021, 6, 1): None,
        D(2021, 6, 5): None,  # 4 days
        D(2021, 6, 15): D(2021, 6, 5),  # 10 days
        D(2021, 6, 30): None,  # 15 days: not "a week ago"
        D(2021, 7, 7): D(2021, 6, 30),  # 7 days
        D(2021, 7, 17): D(2021, 7, 7),
    }


def test_today_says_what_to_verify_place_and_avoid() -> None:
    """ruijin's masters at 15 Aug (target 95 % of 20: 19 needed): 14 employed and verified,
    2 registered but not verified, 4 without a destination → 5 short, 2 of them by verifying."""
    grads = [Grad(f"m{i}", "ruijin", verified_date=D(2021, 7, 1)) for i in range(14)]
    grads += [Grad(f"p{i}", "ruijin", is_verified=False, verified_date=None) for i in range(2)]
    grads += [unemployed(f"u{i}", "ruijin") for i in range(4)]
    con = build_scenario(Scenario(exports={D(2021, 8, 1): fill_units(grads)}, as_of=D(2021, 8, 5)))
    row = con.execute(
        """select gap_persons, pending_verification, verification_closes, gap_after_verification,
                  points_at_risk, today_note, outlook_note
           from marts.unit_sheet where unit_code = 'ruijin'"""
    ).fetchone()
    deduction = con.execute(
        "select deduction from marts.milestone_rates where unit_code = 'ruijin' "
        "and milestone_date = '2021-08-15'"
    ).fetchone()[0]
    assert row[:4] == (5, 2, 2, 3)
    assert row[4] == min(Decimal(15), deduction) > 0
    assert row[5] == f"今天：督促鉴证 2 人，新落实 3 人，可避免扣 {formats.points(row[4])} 分。"
    assert row[6].startswith(f"若到8月15日情况不变，本单位将被扣 {formats.points(row[4])} 分")
    met = con.execute(
        "select today_note from marts.unit_sheet where unit_code = 'renji'"
    ).fetchone()[0]
    assert met == "今天：各学历已达到8月15日节点目标，保持即可。"
    line = con.execute("select at_risk_note from marts.season_outlook").fetchone()[0]
    lost = formats.points(row[4])
    assert line == f"若到8月15日情况不变，1 个单位将被扣分（按扣分从多到少）：瑞金 {lost} 分。"


_MACROS = (SQL_DIR / "macros.sql").read_text(encoding="utf-8")
_CON = duckdb.connect()
_CON.execute(_MACROS)


@given(st.integers(min_value=-1_000_000, max_value=1_000_000))
def test_percentage_points_in_sql_read_as_the_renderers_write_them(micro: int) -> None:
    change = Decimal(micro).scaleb(-6)
    got = _CON.execute("select fmt_pp(cast(? as decimal(9, 6)))", [change]).fetchone()[0]
    assert got == formats.points_change(change)


def test_both_years_stand_on_one_calendar() -> None:
    day = D(2021, 8, 7)
    chart = charts.season_chart(
        "硕士",
        [
            charts.SeasonLine(
                "this", "master", "今年", ((day, Decimal("0.9")),), (Decimal("0.8"),)
            ),
            charts.SeasonLine("last", "master", "去年同期", ((day, Decimal("0.8")),)),
        ],
        [charts.TargetMark(D(2021, 8, 15), "master", Decimal("0.95"))],
        D(2021, 6, 1),
        D(2021, 12, 20),
    )
    this, last = chart.paths
    assert this.points[0][0] == last.points[0][0]  # the same date, the same x
    assert this.points[0][1] < last.points[0][1]  # 90 % above 80 %
    assert chart.dots[0].compare == Decimal("0.8")
    assert [m.label for m in chart.months] == ["6月", "7月", "8月", "9月", "10月", "11月", "12月"]
    assert chart.targets[0].y < this.points[0][1]  # 95 % above 90 %
