"""The notice of results (评估结果通知_<year>.docx): an editable Word document in the style of
an official document (公文) — the red letterhead and the red line under it, the document
number, the title, the addressees, the opening, the advanced units of each group with their
totals, the closing, the period for objections and the contact line, the signatory and the
date. Where it comes from (year, signature, run) is in its core properties and in a small
footer line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from employment_eval import textsafe
from employment_eval.notice.data import NoticeData, chinese_date
from employment_eval.notice.settings import NoticeSettings
from employment_eval.render.formats import points

RED = RGBColor(0xC0, 0x00, 0x00)
TITLE_FONT = "方正小标宋简体"  # the 公文 fonts; Word falls back when they are not installed
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"


def _font(run, name: str, size: float, *, bold: bool = False, color: RGBColor | None = None):
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)


def _paragraph(
    doc,
    text: str,
    font: str,
    size: float,
    *,
    align=None,
    bold=False,
    color=None,
    indent: bool = False,
    space_after: float = 0,
):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    fmt = p.paragraph_format
    fmt.space_after = Pt(space_after)
    fmt.line_spacing = Pt(28)
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    _font(p.add_run(textsafe.clean(text)), font, size, bold=bold, color=color)
    return p


def _red_line(paragraph) -> None:
    """A red rule under the letterhead (a bottom border of the paragraph)."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "18"), ("space", "4"), ("color", "C00000")):
        bottom.set(qn(f"w:{key}"), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def write_notice(data: NoticeData, settings: NoticeSettings, day: dt.date, path: Path) -> Path:
    sig = data.signature
    fields = data.text_fields
    end = day + dt.timedelta(days=settings.objection_days - 1)
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)

    head = _paragraph(
        doc,
        settings.text("notice", "issuer_mark", **fields),
        TITLE_FONT,
        20,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        bold=True,
        color=RED,
    )
    number = settings.text("notice", "document_number", **fields)
    if number.strip():
        head = _paragraph(doc, number, BODY_FONT, 16, align=WD_ALIGN_PARAGRAPH.CENTER)
    _red_line(head)
    _paragraph(doc, "", BODY_FONT, 16)
    _paragraph(
        doc,
        settings.text("notice", "title", **fields),
        TITLE_FONT,
        22,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        bold=True,
        space_after=12,
    )
    _paragraph(doc, settings.text("notice", "recipients", **fields), BODY_FONT, 16)
    _paragraph(doc, settings.text("notice", "opening", **fields), BODY_FONT, 16, indent=True)
    numbers = "一二三四五六七八九十"
    for i, (group, units) in enumerate(data.groups):
        heading = _paragraph(
            doc, f"{numbers[i]}、{group}（{len(units)}家）", HEADING_FONT, 16, indent=True
        )
        heading.paragraph_format.keep_with_next = True
        table = doc.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, text in zip(table.rows[0].cells, ("组内名次", "单位", "总分"), strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(text), HEADING_FONT, 12)
        for u in units:
            cells = table.add_row().cells
            for cell, text in zip(cells, (str(u.rank), u.name, points(u.total)), strict=True):
                cell.text = ""
                _font(cell.paragraphs[0].add_run(textsafe.clean(text)), BODY_FONT, 12)
        for row in table.rows[:-1]:  # a group's table is not split from its heading
            for cell in row.cells:
                cell.paragraphs[0].paragraph_format.keep_with_next = True
        table.autofit = False
        for i, width in enumerate((Cm(2.6), Cm(10.4), Cm(2.6))):
            table.columns[i].width = width
            for cell in table.columns[i].cells:
                cell.width = width
        _paragraph(doc, "", BODY_FONT, 8)
    _paragraph(doc, settings.text("notice", "closing", **fields), BODY_FONT, 16, indent=True)
    objection = settings.text(
        "objection", "text", **fields, start=chinese_date(day), end=chinese_date(end)
    )
    _paragraph(doc, objection, BODY_FONT, 16, indent=True)
    _paragraph(doc, settings.text("contact", "text", **fields), BODY_FONT, 16, indent=True)
    _paragraph(doc, "", BODY_FONT, 16)
    _paragraph(
        doc,
        settings.text("notice", "signatory", **fields),
        BODY_FONT,
        16,
        align=WD_ALIGN_PARAGRAPH.RIGHT,
    )
    _paragraph(doc, chinese_date(day), BODY_FONT, 16, align=WD_ALIGN_PARAGRAPH.RIGHT)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(
        footer.add_run(textsafe.clean(sig.source)), BODY_FONT, 7, color=RGBColor(0x59, 0x59, 0x59)
    )

    props = doc.core_properties
    props.title = textsafe.clean(settings.text("notice", "title", **fields))
    props.subject = textsafe.clean(f"{data.policy_number} {data.year} 年度评估结果")
    props.author = textsafe.clean(settings.text("notice", "signatory", **fields))
    props.comments = textsafe.clean(sig.source)
    props.keywords = f"{data.year};{sig.signature_id};{sig.run_id}"
    props.identifier = sig.signature_id
    props.version = sig.run_id
    props.category = "评估结果通知"
    props.created = props.modified = dt.datetime.combine(day, dt.time())
    props.last_modified_by = props.author
    doc.save(str(path))
    return path
