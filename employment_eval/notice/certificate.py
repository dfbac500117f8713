"""The certificates (荣誉证书_<year>_<code>_<short>.pdf): one print-ready A4 page per advanced
unit, rendered by WeasyPrint from a Jinja2 template (templates/certificate.html.j2) with a
Chinese font from the system (fonts-noto-cjk), embedded in the PDF as a subset. Where it comes
from (year, signature, run) is in the PDF's metadata and in a small line at the foot.

A machine without a Chinese font, or without the libraries WeasyPrint needs (Pango), gets
`CertificateError` — one Chinese paragraph saying what to install — never a PDF of empty
boxes nor a traceback."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from employment_eval.notice.data import Advanced, NoticeData, chinese_date
from employment_eval.notice.settings import NoticeSettings
from employment_eval.paths import templates_dir
from employment_eval.render import templates

FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local/share/fonts",
    Path.home() / ".fonts",
)
FONT_PATTERNS = ("*CJK*", "SourceHan*")
INSTALL = "apt-get install fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0"


class CertificateError(Exception):
    """The certificates cannot be made on this machine; the message says what to install."""


def chinese_fonts(dirs: tuple[Path, ...] | None = None) -> list[Path]:
    """The Chinese font files installed (Noto CJK, Source Han) under the font folders."""
    found: list[Path] = []
    for folder in FONT_DIRS if dirs is None else dirs:
        if folder.is_dir():
            for pattern in FONT_PATTERNS:
                found += sorted(folder.rglob(pattern))
    return [p for p in found if p.suffix.lower() in (".ttc", ".otf", ".ttf")]


def _weasyprint():
    if not chinese_fonts():
        raise CertificateError(
            "找不到中文字体（Noto CJK 或思源字体），无法生成荣誉证书（证书须嵌入中文字体才能在"
            f"任何电脑上正确显示和打印）。请由管理员安装：{INSTALL}。通知（Word 文件）不受影响。"
        )
    try:
        import weasyprint
    except OSError as exc:  # the system libraries (Pango) are missing
        raise CertificateError(
            f"生成 PDF 所需的系统库缺失（{str(exc).splitlines()[0][:120]}），无法生成荣誉证书。"
            f"请由管理员安装：{INSTALL}。"
        ) from None
    return weasyprint


def certificate_name(year: int, unit: Advanced) -> str:
    return f"荣誉证书_{year}_{unit.code}_{unit.short_name}.pdf"


def render_html(data: NoticeData, settings: NoticeSettings, unit: Advanced, day: dt.date) -> str:
    """The certificate's page, from templates/certificate.html.j2 (restyled like the reports';
    every printed value is cleaned and escaped by the shared environment)."""
    sig = data.signature
    fields = data.text_fields
    return templates.render(
        "certificate.html.j2",
        CertificateError,
        f"{data.year} 年度的荣誉证书",
        title=settings.text("certificate", "title", **fields),
        unit=unit.name,
        text=settings.text("certificate", "text", **fields),
        issuer=settings.text("certificate", "issuer", **fields),
        date=chinese_date(day),
        source=sig.source,
        keywords=f"{data.year}, {sig.signature_id}, {sig.run_id}",
        created=day.isoformat(),
    )


def write_certificate(
    data: NoticeData, settings: NoticeSettings, unit: Advanced, day: dt.date, path: Path
) -> Path:
    weasyprint = _weasyprint()
    html = render_html(data, settings, unit, day)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # no English lines on the console
    weasyprint.HTML(string=html, base_url=str(templates_dir())).write_pdf(str(path))
    return path
