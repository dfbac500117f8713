"""The notice's settings file (notice.toml) is checked like a rules file — every problem with
its key and line —, the notice and the certificates are made only for a signed year, and a
machine without a Chinese font gets a Chinese paragraph (exit 1), never a PDF of empty boxes.
In process; the documents themselves are tested on a signed season in test_signing.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from employment_eval import publish
from employment_eval.cli import main
from employment_eval.cli.outcome import explain
from employment_eval.failures import UsageError
from employment_eval.notice import certificate
from employment_eval.notice.data import read_notice_data
from employment_eval.notice.settings import BUNDLED, load_settings
from employment_eval.rules import RulesError
from tests.warehouse_factory import build_scenario, season


def test_the_bundled_settings_are_valid() -> None:
    settings = load_settings(BUNDLED)
    assert settings.objection_days == 5
    assert settings.contact_unfilled  # the bundled contact line is to be filled in
    assert "2021" in settings.text("notice", "title", year=2021, policy_number="",
                                   policy_title="", advanced_count=9)  # fmt: skip


def test_every_problem_of_a_settings_file_has_its_key_and_line(tmp_path: Path, capsys) -> None:
    text = BUNDLED.read_text(encoding="utf-8")
    text = text.replace("days = 5", "days = 0")
    text = text.replace('title = "荣誉证书"', 'title = "{unit}的荣誉证书"')
    text = text.replace("[contact]", "[contact]\nphone = 1")
    text = text.replace('issuer = "上海交通大学医学院"\n', "")
    bad = tmp_path / "notice.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_settings(bad)
    problems = {p.key: p for p in caught.value.problems}
    assert set(problems) == {"objection.days", "certificate.title", "contact.phone",
                             "certificate.issuer"}  # fmt: skip
    lines = text.splitlines()
    assert "days = 0" in lines[problems["objection.days"].line - 1]
    assert "{unit}" in lines[problems["certificate.title"].line - 1]
    assert "未知的占位符 {unit}" in problems["certificate.title"].message
    assert main(["notice", "--check", "--settings", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "通知设置文件" in err and "4 处错误" in err
    assert main(["notice", "--check", "--settings", str(BUNDLED)]) == 0


def test_no_notice_for_a_year_that_is_not_signed(tmp_path: Path) -> None:
    con = build_scenario(season([]))
    marts = tmp_path / "marts.duckdb"
    publish.publish(publish.export_candidate(con, marts, "test"), marts)
    with pytest.raises(UsageError, match="尚未审定签发"):
        read_notice_data(marts, 2021)


def test_a_machine_without_a_chinese_font_is_told_what_to_install(monkeypatch) -> None:
    monkeypatch.setattr(certificate, "FONT_DIRS", ())
    with pytest.raises(certificate.CertificateError) as caught:
        certificate._weasyprint()
    text, code = explain(caught.value, None)
    assert code == 1 and "找不到中文字体" in text and "fonts-noto-cjk" in text
    assert "Traceback" not in text
