"""Text made safe for everything the centre opens: the year-end files (xlsx, csv, html), the
morning reports and the Prefect artifacts. Every writer passes text from the data (unit names,
reasons, approvers, file names, raw values quoted by a check) through one of these functions.

- Bidi control characters are removed everywhere: they can make a text read differently from
  what it is (a reversed file name, a number that reads backwards).
- CSV: a text cell that Excel or LibreOffice would take for a formula is neutralised.
- xlsx: a text over Excel's limit raises instead of being cut silently.
- Markdown (Prefect artifacts): a value renders as the same text, never as a link, an image,
  HTML or emphasis.
- HTML: escaped, quotes included (`html_text`; the reports' Jinja2 templates apply `clean` to
  every value and escape it themselves: `employment_eval.render.templates`).
"""

from __future__ import annotations

import html
import re

# LRE RLE PDF LRO RLO, LRI RLI FSI PDI, LRM RLM, ALM
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
_WITHOUT_BIDI = {ord(ch): None for ch in BIDI_CONTROLS}

# A CSV cell starting with one of these is read as a formula (or its start) by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Excel's limit for the text of a cell or of a comment, in UTF-16 code units.
EXCEL_TEXT_LIMIT = 32_767
EXCEL_COMMENT_LIMIT = 32_767

# Characters with a meaning inside a Markdown line (CommonMark + GFM): emphasis, code, links,
# images, autolinks and raw HTML, entities, strikethrough, table cells, maths in some viewers.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>&~|!{}$])")
# ... and at the start of a line: headings, quotes, lists, thematic breaks, setext underlines.
_MD_LINE_START = re.compile(r"^(?:([#>+=-])|(\d+)([.)]))")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


class TextTooLongError(ValueError):
    """A text is longer than a spreadsheet cell (or comment) may hold; it is never cut."""


def clean(text: object) -> str:
    """The text without bidi control characters (None → "")."""
    if text is None:
        return ""
    return str(text).translate(_WITHOUT_BIDI)


def html_text(text: object) -> str:
    """Text for HTML content or a quoted attribute."""
    return html.escape(clean(text), quote=True)


def csv_cell(value: object) -> object:
    """A CSV value: text cleaned and, when a spreadsheet would take it for a formula, prefixed
    with an apostrophe (shown as text, not evaluated). Numbers and dates are left as they are:
    only text is ever neutralised, so a negative number stays a number."""
    if not isinstance(value, str):
        return value
    text = clean(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def excel_text(text: object, where: str, limit: int = EXCEL_TEXT_LIMIT) -> str:
    """Cleaned text for an xlsx cell or comment; raises TextTooLongError (naming `where`)
    instead of letting the writer cut it."""
    value = clean(text)
    length = utf16_length(value)
    if length > limit:
        raise TextTooLongError(
            f"无法写入 {where}：文本长 {length:,} 个字符，超过 Excel 允许的 {limit:,} 个字符。"
            "为免内容被截断，未生成该文件（原有文件保持不变）；请检查该文本的来源数据。"
        )
    return value


def markdown_text(text: object) -> str:
    """A value for one line of Markdown (a list item, a table cell): on one line, every
    Markdown and HTML character escaped, so it renders as exactly the same text."""
    value = _LINE_BREAKS.sub(" ", clean(text)).strip()
    value = _MD_INLINE.sub(r"\\\1", value)
    return _MD_LINE_START.sub(_escape_line_start, value, count=1)


def _escape_line_start(m: re.Match[str]) -> str:
    return "\\" + m[1] if m[1] else f"{m[2]}\\{m[3]}"


def markdown_cell(value: object) -> object:
    """A table-artifact value: text escaped as markdown_text; numbers and None unchanged."""
    return markdown_text(value) if isinstance(value, str) else value


def css_string(text: object) -> str:
    """A double-quoted CSS string (e.g. for `content:` in an @page margin box): every
    character that is not a letter, a digit or plain punctuation is written as a hex escape,
    so no text can close the string, the rule or the <style> element."""
    out = []
    for ch in clean(text):
        if ch.isalnum() or ch in " ·.,:;()（），、：；《》〔〕-_":
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):06x}")
    return '"' + "".join(out) + '"'
