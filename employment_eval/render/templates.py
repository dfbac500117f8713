"""The Jinja2 environment of the HTML reports: the templates and stylesheets in the repository's
templates/ folder (or the folder named by EMPLOYMENT_EVAL_TEMPLATES), with autoescaping, strict
undefined variables and the renderers' filters.

Every value a template prints is cleaned of bidi controls (`textsafe.clean`, the environment's
`finalize`) and then escaped by the autoescape (quotes included), so that no text from the data
can add a tag or an attribute or read differently from what it is. The one value written into a
stylesheet, the source line of the printed footer, goes through the `css_string` filter
(`textsafe.css_string`). Values marked safe (a macro's output) are left as they are.

A template that cannot be read or rendered (a syntax error, an unknown variable, a missing
file) is reported as the caller's error class (YearEndError, MorningReportError) with one Chinese
paragraph naming the template, its line and the folder; nothing is written."""

from __future__ import annotations

import functools
import os
import re
import traceback
from pathlib import Path

import jinja2
from markupsafe import Markup

from employment_eval import textsafe
from employment_eval.paths import TEMPLATES_ENV, templates_dir
from employment_eval.render import formats


def coordinate(value: float) -> str:
    """A chart coordinate: one decimal at most, no trailing zero (12, 12.5)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _finalize(value: object) -> object:
    """Every printed value: a macro's (safe) output as it is, anything else as text without
    bidi controls (None → ""), escaped afterwards by the autoescape."""
    if hasattr(value, "__html__"):
        return value
    return textsafe.clean(value)


def _css_string(value: object) -> Markup:
    """A quoted CSS string in which nothing can close the string, the rule or the <style>."""
    return Markup(textsafe.css_string(value))


@functools.cache
def environment(folder: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder), encoding="utf-8"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters.update(
        n=coordinate,
        points=formats.points,
        percent=formats.percent,
        day=formats.day,
        month_day=formats.month_day,
        signed=formats.signed,
        points_change=formats.points_change,
        css_string=_css_string,
    )
    return env


def render(name: str, error: type[Exception], what: str, **context: object) -> str:
    """The template `name` rendered with `context`; a broken template raises `error` with a
    Chinese paragraph saying that `what` (e.g. '2021 年度的年终文件') was not written, where the
    template is wrong and how."""
    folder = templates_dir()
    if not folder.is_dir():
        raise error(
            f"{what}未生成：找不到报告模板文件夹 {folder}"
            f"（环境变量 {TEMPLATES_ENV} 指定的文件夹须存在）；原有文件保持不变。"
        )
    try:
        return environment(folder).get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        where = _where(folder, exc.filename or exc.name or name, exc.lineno)
        raise error(_paragraph(what, folder, where, "模板语法有误")) from None
    except jinja2.TemplateNotFound as exc:
        where = _frame(folder, exc)
        missing = f"找不到模板文件「{exc.name}」"
        raise error(_paragraph(what, folder, where, missing)) from None
    except jinja2.UndefinedError as exc:
        raise error(_paragraph(what, folder, _frame(folder, exc), _undefined(exc))) from None
    except Exception as exc:
        where = _frame(folder, exc)
        if where is None and not isinstance(exc, jinja2.TemplateError):
            raise  # not the template's doing
        raise error(_paragraph(what, folder, where, "模板运行出错")) from exc


def _paragraph(what: str, folder: Path, where: str | None, problem: str) -> str:
    at = f"{where}：" if where else ""
    return (
        f"报告模板有误，{what}未生成：{at}{problem}。请改正该模板，或换回程序自带的模板"
        f"（模板文件夹：{folder}）；原有文件保持不变。"
    )


def _where(folder: Path, filename: str, line: int | None) -> str:
    """'模板 macros/charts.j2 第 12 行（内容：…）' for a file of the folder."""
    path = Path(filename)
    path = path if path.is_absolute() else folder / path
    try:
        shown = path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        shown = str(path)
    if not line:
        return f"模板 {shown}"
    try:
        text = path.read_text(encoding="utf-8").splitlines()[line - 1].strip()
    except (OSError, IndexError, UnicodeDecodeError):
        text = ""
    quoted = f"（该行：{textsafe.clean(text)[:120]}）" if text else ""
    return f"模板 {shown} 第 {line} 行{quoted}"


def _frame(folder: Path, exc: BaseException) -> str | None:
    """The innermost template line of the traceback (Jinja2 rewrites its frames so that they
    name the template file and line)."""
    roots = tuple({str(folder) + os.sep, str(folder.resolve()) + os.sep})
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(roots) and frame.lineno:
            found = frame
    return _where(folder, found.filename, found.lineno) if found else None


_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined")
_NO_ATTRIBUTE = re.compile(r"has no attribute '([^']+)'")


def _undefined(exc: jinja2.UndefinedError) -> str:
    message = str(exc.message or "")
    found = _UNDEFINED_NAME.search(message)
    if found:
        return f"变量「{found[1]}」不存在"
    found = _NO_ATTRIBUTE.search(message)
    if found:
        return f"没有名为「{found[1]}」的字段"
    return "引用了不存在的变量或字段"
