"""Ledger warnings say what a blank cell really costs (docs/评估规则.md D7, D8, D11), with the
points read from the year's rules."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from pathlib import Path

from employment_eval.ingest.api import check_inputs
from employment_eval.ingest.crossfile import LedgerStakes
from employment_eval.paths import RULES_DIR
from employment_eval.rules import Rules, load_rules
from tests.ingest_helpers import (
    LEDGER_HEADERS,
    ledger_rows,
    make_raw,
    without_name_dates,
    write_csv,
)

AS_OF = date(2021, 12, 31)
LEDGER = "submissions/submissions_2021.csv"


def base(code: str, rules: Rules | None = None) -> int:
    return (rules or load_rules(2021)).indicators[code][1]


def blank_cells(tmp_path: Path, rules: tuple[Rules, ...] = ()) -> dict[str, str]:
    """Row 2 (the first unit) has every value cell blank; every other row is complete."""
    raw = make_raw(tmp_path)
    rows = ledger_rows()
    for header in LEDGER_HEADERS[2:]:
        rows[0][header] = ""
    write_csv(raw / "submissions" / "submissions_2021.csv", LEDGER_HEADERS, rows)
    problems = without_name_dates(check_inputs(raw, as_of=AS_OF, rules=rules).problems)
    assert all(p.severity == "warning" for p in problems)
    return {p.column: p.reason for p in problems if (p.file, p.row) == (LEDGER, 2)}


def test_each_blank_cell_says_what_it_costs(tmp_path):
    said = blank_cells(tmp_path)
    assert len(said) == 8
    report = said["未就业学生调研报告提交日期"]
    assert "不扣分" in report and "I4" in report and "D7" in report
    assert "0 分" not in report and "暂定" in report and "不会因此保持暂定" in report
    meeting = said["就业动员会日期"]
    assert "I5" in meeting and f"该项 {base('I5') // 2} 分" in meeting
    assert "不会因此保持暂定" in meeting
    talks = said["职业导师校友座谈次数"]
    assert "I5" in talks and f"该项 {base('I5') - base('I5') // 2} 分" in talks
    assert "保持暂定" in talks and "不会" not in talks
    for header, code in [
        ("就业工作组织得分", "I1"),
        ("未就业学生排摸得分", "I4"),
        ("职业咨询登记表份数", "I7"),
        ("成长成才故事篇数", "I8"),
    ]:
        text = said[header]
        assert f"{code}「" in text and f"满分 {base(code)} 分" in text, (header, text)
        assert "暂按 0 分计" in text and "记分表保持暂定" in text
    assert f"无合理投诉时应得 {base('I2')} 分" in said["优秀毕业生评选合理投诉次数"]


def test_points_come_from_the_run_s_rules(tmp_path):
    rules = load_rules(2021)
    indicators = dict(rules.indicators)
    category, _, name = indicators["I7"]
    indicators["I7"] = (category, 33, name)
    category, _, name = indicators["I5"]
    indicators["I5"] = (category, 9, name)
    changed = dataclasses.replace(rules, indicators=indicators)
    said = blank_cells(tmp_path, rules=(changed,))
    assert "满分 33 分" in said["职业咨询登记表份数"]
    assert "该项 4 分" in said["就业动员会日期"] and "该项 5 分" in said["职业导师校友座谈次数"]


def test_points_come_from_the_rules_folder_beside_raw_by_default(tmp_path):
    local = tmp_path / "rules"
    local.mkdir()
    text = (RULES_DIR / "2021.toml").read_text(encoding="utf-8")
    line = 'I8 = { category = "development", base_points = 10,'
    assert line in text
    (local / "2021.toml").write_text(text.replace(line, line.replace("10", "12")), "utf-8")
    assert base("I8", load_rules(2021, local)) == 12
    said = blank_cells(tmp_path)
    assert "满分 12 分" in said["成长成才故事篇数"]


def test_missing_row_and_missing_ledger_name_the_total_at_stake(tmp_path):
    total = sum(base(c) for c in ("I1", "I2", "I4", "I5", "I7", "I8"))
    raw = make_raw(tmp_path)
    write_csv(raw / "submissions" / "submissions_2021.csv", LEDGER_HEADERS, ledger_rows()[1:])
    [row] = without_name_dates(check_inputs(raw, as_of=AS_OF).problems)
    assert "本科生党总支" in row.reason and f"共 {total} 分" in row.reason
    shutil.rmtree(raw / "submissions")
    [none] = without_name_dates(check_inputs(raw, as_of=AS_OF).problems)
    assert f"每个单位共 {total} 分" in none.reason and "暂定" in none.reason


def test_without_rules_the_indicator_is_still_named():
    stakes = LedgerStakes(None)
    assert stakes.blank("i7_forms").startswith("I7 暂按 0 分计")
    assert "不扣分" in stakes.blank("i4_report_date")
    assert "动员会一项记 0 分" in stakes.blank("i5_meeting_date")
    assert "分）" not in stakes.whole_row()
