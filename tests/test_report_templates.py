"""The HTML reports are written by the Jinja2 templates of templates/ (employment_eval.render):
no Python module writes HTML tags itself; every template compiles; a copy of the folder named by
EMPLOYMENT_EVAL_TEMPLATES restyles the reports; and a broken template is one Chinese paragraph
naming the template and its line, raised as the report's own error, with nothing written.

The figures come from a marts file built through every SQL model by the warehouse factory."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

from employment_eval import build, failures, publish
from employment_eval.paths import PROJECT_ROOT, TEMPLATES_DIR, TEMPLATES_ENV
from employment_eval.render import morning, templates
from employment_eval.render.morning import MorningReportError, NoDataError
from employment_eval.render.yearend import YearEndError, read_year_end, write_files
from employment_eval.render.yearend.report import render
from employment_eval.rules import load_rules
from tests.warehouse_factory import build_scenario, season

pytestmark = pytest.mark.xdist_group("yearend")

YEAR = 2021

# An element of HTML or SVG written as a tag (opening, closing or self-closing).
TAG = re.compile(
    r"</?(html|head|body|style|title|meta|table|thead|tbody|tr|td|th|caption|div|span|p|h[1-6]|"
    r"section|article|nav|figure|figcaption|dl|dt|dd|ul|li|small|br|b|a|strong|svg|rect|text|"
    r"line|circle|polyline)(\s[^<>]*)?/?>",
    re.IGNORECASE,
)
# The what-if comparison page is still written in Python until it moves to the templates.
NOT_YET_TEMPLATED: set[str] = set()  # every HTML page is a template now


def _strings(source: str) -> list[str]:
    """The string literals of a module (f-strings' literal parts included), docstrings left out."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def _tags_in(source: str) -> list[str]:
    return [m.group(0) for s in _strings(source) for m in TAG.finditer(s)]


def test_the_scan_finds_html_written_in_python() -> None:
    assert _tags_in("out = f\"<td class='num'>{n}</td>\"\n") == ["<td class='num'>", "</td>"]
    assert _tags_in('x = "<svg viewBox=\\"0 0 1 1\\">"; y = "<br>"') == [
        '<svg viewBox="0 0 1 1">',
        "<br>",
    ]
    assert _tags_in('"""Returns \'reference.<table>\' → count."""\nx = "a < b > c"') == []


def test_no_python_module_writes_html_tags() -> None:
    found = {}
    for path in sorted((PROJECT_ROOT / "employment_eval").rglob("*.py")):
        rel = path.relative_to(PROJECT_ROOT).as_posix()
        tags = _tags_in(path.read_text(encoding="utf-8"))
        if tags and rel not in NOT_YET_TEMPLATED:
            found[rel] = tags[:5]
    assert found == {}, "HTML belongs in templates/ (Jinja2), not in Python strings"


def test_every_template_compiles() -> None:
    env = templates.environment(TEMPLATES_DIR)
    names = env.list_templates()
    assert {"base.html.j2", "report.html.j2", "morning.html.j2", "css/print.css"} <= set(names)
    for name in names:
        env.get_template(name)


@pytest.fixture(scope="module")
def marts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A final season of every unit, published."""
    base = tmp_path_factory.mktemp("templates")
    con = build_scenario(season([]))
    try:
        build.build_models(con, [load_rules(YEAR)])
        path = base / "marts" / "employment.duckdb"
        publish.publish(publish.export_candidate(con, path, "test"), path)
    finally:
        con.close()
    return path


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "my-templates"
    shutil.copytree(TEMPLATES_DIR, folder)
    return folder


def _edit(path: Path, old: str, new: str) -> int:
    """Replace the first `old` by `new`; return the line where it was (1-based)."""
    text = path.read_text(encoding="utf-8")
    at = text.index(old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text.count("\n", 0, at) + 1


def _chinese_only(message: str) -> None:
    """One paragraph, no Python or Jinja2 vocabulary."""
    assert "\n" not in message
    for word in ("Error", "Traceback", "jinja", "Jinja", "undefined", "Undefined", "expected"):
        assert word not in message, message


def test_a_restyled_copy_of_the_templates_is_used(marts, tmp_path, monkeypatch) -> None:
    folder = _copy(tmp_path)
    _edit(folder / "css" / "report.css", "#1F4E79", "#7030A0")  # the headings' rule
    _edit(folder / "macros" / "charts.j2", '"bachelor": "#1F77B4"', '"bachelor": "#112233"')
    ye = read_year_end(marts, YEAR)
    before = render(ye)
    monkeypatch.setenv(TEMPLATES_ENV, str(folder))
    after = render(ye)
    assert "#7030A0" in after and "#7030A0" not in before
    assert "#112233" in after and "#1F77B4" not in after  # the swatches and the curves
    assert after.replace("#7030A0", "#1F4E79").replace("#112233", "#1F77B4") == before


def test_a_syntax_error_names_the_template_and_line_and_writes_nothing(
    marts, tmp_path, monkeypatch
) -> None:
    folder = _copy(tmp_path)
    line = _edit(folder / "macros" / "charts.j2", "{% endfor %}", "{% endfro %}")
    out = tmp_path / "out"
    ye = read_year_end(marts, YEAR)
    previous = write_files(ye, out)
    before = {p.name: p.read_bytes() for p in previous}
    monkeypatch.setenv(TEMPLATES_ENV, str(folder))
    with pytest.raises(YearEndError) as info:
        write_files(ye, out)
    message = str(info.value)
    assert message.startswith("报告模板有误，2021 年度的年终文件未生成：")
    assert f"模板 macros/charts.j2 第 {line} 行（该行：{{% endfro %}}）" in message
    assert "模板语法有误" in message and str(folder) in message
    _chinese_only(message)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing replaced


def test_an_unknown_field_names_the_template_and_line(marts, tmp_path, monkeypatch) -> None:
    folder = _copy(tmp_path)
    old = '<h1 id="title">{{ ye.year }}'
    line = _edit(folder / "report.html.j2", old, '<h1 id="title">{{ ye.yaer }}')
    monkeypatch.setenv(TEMPLATES_ENV, str(folder))
    with pytest.raises(YearEndError) as info:
        render(read_year_end(marts, YEAR))
    message = str(info.value)
    assert f"模板 report.html.j2 第 {line} 行" in message
    assert "没有名为「yaer」的字段" in message
    _chinese_only(message)


def test_a_missing_variable_and_a_missing_file_are_named(marts, tmp_path, monkeypatch) -> None:
    folder = _copy(tmp_path)
    line = _edit(folder / "macros" / "tags.j2", "{{ label }}", "{{ lable }}")
    (folder / "css" / "years.css").unlink()
    monkeypatch.setenv(TEMPLATES_ENV, str(folder))
    ye = read_year_end(marts, YEAR)
    with pytest.raises(YearEndError, match=re.escape("找不到模板文件「css/years.css」")):
        render(ye)
    shutil.copy(TEMPLATES_DIR / "css" / "years.css", folder / "css" / "years.css")
    with pytest.raises(YearEndError) as info:
        render(ye)
    assert f"模板 macros/tags.j2 第 {line} 行" in str(info.value)
    assert "变量「lable」不存在" in str(info.value)
    _chinese_only(str(info.value))


def test_a_missing_folder_is_named_with_its_variable(marts, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(TEMPLATES_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(YearEndError, match=f"{TEMPLATES_ENV}.*原有文件保持不变"):
        render(read_year_end(marts, YEAR))


def test_a_broken_morning_template_is_raised_not_taken_for_a_year_without_data(
    marts, tmp_path, monkeypatch
) -> None:
    """publish_report says 'no data for the year' and carries on; a broken template is a
    failure of the report (the nightly flow reports it), and no file is written."""
    folder = _copy(tmp_path)
    line = _edit(folder / "morning.html.j2", "{{ summary }}", "{{ summary | nosuchfilter }}")
    out = tmp_path / "marts" / "employment.duckdb"
    out.parent.mkdir()
    shutil.copy(marts, out)
    as_of = read_year_end(out, YEAR).provenance.as_of
    monkeypatch.setenv(TEMPLATES_ENV, str(folder))
    said: list[str] = []
    with pytest.raises(MorningReportError) as info:
        morning.publish_report(out, YEAR, as_of, (), said.append)
    assert not isinstance(info.value, NoDataError) and said == []
    head = f"报告模板有误，{as_of} 的晨报未生成：模板 morning.html.j2 第 {line} 行"
    assert head in str(info.value)
    _chinese_only(str(info.value))
    assert sorted(p.name for p in out.parent.iterdir()) == ["employment.duckdb"]
    # in the nightly flow: the paragraph is what the run says was not written
    guarded = failures.guarded("templates-test", tmp_path / "report")
    with pytest.raises(failures.RunFailed) as failed, guarded:
        morning.publish_report(out, YEAR, as_of, (), said.append)
    assert failed.value.summary.startswith(head)
    # a year without data is still only said
    assert morning.publish_report(out, YEAR + 1, as_of, (), said.append) == []
    assert said and "没有可评估的数据" in said[0]
