"""Small inline-SVG charts for the report, drawn by hand (no plotting library, no fonts to
embed: SVG text is rendered by the browser with the page's CJK font). No xmlns attribute —
inline SVG in HTML does not need it, and the page must hold no http(s) address at all. Every
text is escaped by `textsafe.html_text` (bidi controls removed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from employment_eval.render.formats import percent, points
from employment_eval.render.yearend.data import DEGREE_NAMES
from employment_eval.textsafe import html_text as escape

INDICATOR_COLORS = (
    "#4472C4",
    "#ED7D31",
    "#A5A5A5",
    "#FFC000",
    "#5B9BD5",
    "#70AD47",
    "#264478",
    "#9E480E",
    "#997300",
)
DEGREE_COLORS = {"bachelor": "#1F77B4", "master": "#E8710A", "doctor": "#2CA02C"}


def text_width(text: str, size: float) -> float:
    """Rough rendered width: CJK characters are square, Latin ones about half as wide."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.6 for ch in text)


def _n(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, **attrs: str) -> str:
    extra = "".join(f' {k.rstrip("_").replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return f'<text x="{_n(x)}" y="{_n(y)}"{extra}>{escape(text)}</text>'


@dataclass(frozen=True)
class Bar:
    label: str
    segments: tuple[tuple[str, Decimal], ...]  # (series name, value ≥ 0)
    total: Decimal
    highlight: bool = False  # e.g. an advanced unit: label in bold


def stacked_bars(
    bars: list[Bar], series: list[str], title: str, width: int = 960, scale_to: float = 0.0
) -> str:
    """Horizontal stacked bars, one per row, a legend of the series above; the axis reaches
    at least `scale_to` (so that several charts share one scale)."""
    left, right, top, row = 130, 60, 56, 24
    height = top + row * len(bars) + 30
    top_value = max([float(b.total) for b in bars] + [1.0, scale_to])
    scale_max = (int(top_value) // 20 + 1) * 20
    plot = width - left - right

    def x(v: float) -> float:
        return left + plot * v / scale_max

    legend, lx, ly = [], left, 18
    for i, name in enumerate(series):
        w = 16 + text_width(name, 12) + 14
        if lx + w > width - right and lx > left:
            lx, ly = left, ly + 18
        color = INDICATOR_COLORS[i % len(INDICATOR_COLORS)]
        legend.append(f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" fill="{color}"/>')
        legend.append(_text(lx + 16, ly, name, font_size="12"))
        lx += w
    top += ly - 18
    height += ly - 18
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        *legend,
    ]
    for tick in range(0, scale_max + 1, 20):
        out.append(
            f'<line x1="{_n(x(tick))}" y1="{top - 6}" x2="{_n(x(tick))}" '
            f'y2="{top + row * len(bars)}" stroke="#ddd"/>'
        )
        out.append(
            _text(
                x(tick),
                top + row * len(bars) + 16,
                str(tick),
                font_size="11",
                text_anchor="middle",
                fill="#666",
            )
        )
    for r, bar in enumerate(bars):
        y = top + r * row
        weight = "bold" if bar.highlight else "normal"
        out.append(
            _text(
                left - 8, y + 16, bar.label, font_size="13", text_anchor="end", font_weight=weight
            )
        )
        acc = 0.0
        for name, value in bar.segments:
            v = max(float(value), 0.0)
            if v == 0:
                continue
            color = INDICATOR_COLORS[series.index(name) % len(INDICATOR_COLORS)]
            out.append(
                f'<rect x="{_n(x(acc))}" y="{y + 4}" width="{_n(x(acc + v) - x(acc))}" '
                f'height="{row - 8}" fill="{color}"><title>{escape(bar.label)} {escape(name)}：'
                f"{escape(points(value))} 分</title></rect>"
            )
            acc += v
        out.append(_text(x(acc) + 6, y + 16, points(bar.total), font_size="12", font_weight=weight))
    out.append("</svg>")
    return "\n".join(out)


@dataclass(frozen=True)
class NodeMark:
    date: dt.date
    degree: str
    rate: Decimal
    target: Decimal
    met: bool


def rate_chart(
    title: str,
    curves: dict[str, list[tuple[dt.date, Decimal]]],
    nodes: list[NodeMark],
    start: dt.date,
    end: dt.date,
    width: int = 290,
    height: int = 190,
) -> str:
    """Employment rate per degree over the season (lines), each node's rate (dots: filled when
    the target is met, hollow red ring when not) and the node's target (a dash per degree)."""
    left, right, top, bottom = 38, 8, 22, 24
    values = [float(v) for c in curves.values() for _, v in c]
    values += [float(n.rate) for n in nodes] + [float(n.target) for n in nodes]
    low = min([0.6, *values])
    low = max(0.0, int(low * 10) / 10)
    span_days = max((end - start).days, 1)
    pw, ph = width - left - right, height - top - bottom

    def x(d: dt.date) -> float:
        return left + pw * (d - start).days / span_days

    def y(v: float) -> float:
        return top + ph * (1 - (v - low) / (1 - low))

    out = [
        f'<svg class="rate" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        _text(left, 14, title, font_size="13", font_weight="bold"),
    ]
    tick = low
    while tick <= 1.0001:
        out.append(
            f'<line x1="{left}" y1="{_n(y(tick))}" x2="{width - right}" '
            f'y2="{_n(y(tick))}" stroke="#e5e5e5"/>'
        )
        out.append(
            _text(
                left - 4,
                y(tick) + 4,
                f"{round(tick * 100)}%",
                font_size="10",
                text_anchor="end",
                fill="#666",
            )
        )
        tick += 0.1
    for d in sorted({n.date for n in nodes}):
        out.append(
            f'<line x1="{_n(x(d))}" y1="{top}" x2="{_n(x(d))}" y2="{top + ph}" '
            'stroke="#bbb" stroke-dasharray="3,3"/>'
        )
        out.append(
            _text(
                x(d),
                height - 8,
                f"{d.month}/{d.day}",
                font_size="10",
                text_anchor="middle",
                fill="#666",
            )
        )
    for degree, curve in curves.items():
        if not curve:
            continue
        color = DEGREE_COLORS.get(degree, "#444")
        path = " ".join(f"{_n(x(d))},{_n(y(float(v)))}" for d, v in curve)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{color}" '
            'stroke-width="1.6" opacity="0.8"/>'
        )
    degrees = list(DEGREE_COLORS)
    for n in nodes:
        color = DEGREE_COLORS.get(n.degree, "#444")
        off = (degrees.index(n.degree) - 1) * 5 if n.degree in degrees else 0
        cx = x(n.date) + off
        out.append(
            f'<line x1="{_n(cx - 5)}" y1="{_n(y(float(n.target)))}" x2="{_n(cx + 5)}" '
            f'y2="{_n(y(float(n.target)))}" stroke="{color}" stroke-width="2.5"/>'
        )
        fill = color if n.met else "#fff"
        stroke = color if n.met else "#C00000"
        label = (
            f"{n.date.isoformat()} {DEGREE_NAMES.get(n.degree, n.degree)}："
            f"{percent(n.rate)}（目标 {percent(n.target)}，{'达标' if n.met else '未达标'}）"
        )
        out.append(
            f'<circle cx="{_n(cx)}" cy="{_n(y(float(n.rate)))}" r="3.5" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="1.5"><title>{escape(label)}</title></circle>'
        )
    out.append("</svg>")
    return "\n".join(out)


YEAR_BAR = "#9DC3E6"  # a past year's total
YEAR_BAR_NOW = "#1F4E79"  # the evaluation year's total
YEAR_BAND = "#FFF2CC"  # the evaluation year's column
ADVANCED_MARK = "#548235"  # ★ over a year the unit was advanced
RATE_LINE = "#C55A11"
PROVISIONAL_MARK = "#C00000"


@dataclass(frozen=True)
class YearFigure:
    """One unit in one year, as a small multiple shows it."""

    year: int
    total: Decimal
    rank: int
    advanced: bool
    rate: Decimal | None  # the rate at the year's last node (15 Dec); None: not known
    provisional: bool = False  # the year's scoreboard is not final yet


def years_chart(
    title: str,
    figures: list[YearFigure],
    highlight: int,
    rate_label: str = "12月15日就业率",
    total_top: float = 0.0,
    width: int = 520,
    height: int = 176,
) -> str:
    """A unit's years side by side in two small panels sharing the x axis (the years): the
    total points as bars (left; the axis reaches at least `total_top`, so that every unit's
    chart has the same scale) and the rate at the year's last node as a line (right). The
    year `highlight` (the evaluation year) stands on a light band, with a dark bar and a bold
    label; a ★ over a bar marks a year the unit was advanced; 暂定 under a year whose
    scoreboard is not final. Every value is written as a text node (readable, searchable)."""
    figures = sorted(figures, key=lambda f: f.year)
    gap, left, right, top, bottom = 16, 36, 26, 42, 36
    panel = (width - gap) / 2
    ph = height - top - bottom
    n = max(len(figures), 1)
    out = [
        f'<svg class="years-chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]

    def frame(x0: float, name: str) -> tuple[float, float]:
        """The panel's title, the evaluation year's band and the year labels; returns the
        plot's left edge and the width of one year's slot."""
        px, slot = x0 + left, (panel - left - right) / n
        out.append(_text(x0 + 2, 14, name, font_size="12", font_weight="bold"))
        for i, f in enumerate(figures):
            cx = px + slot * (i + 0.5)
            now = f.year == highlight
            if now:
                out.append(
                    f'<rect x="{_n(px + slot * i + 1)}" y="{top - 22}" width="{_n(slot - 2)}" '
                    f'height="{ph + 22 + bottom - 4}" fill="{YEAR_BAND}"/>'
                )
            out.append(
                _text(
                    cx,
                    top + ph + 14,
                    str(f.year),
                    font_size="11",
                    text_anchor="middle",
                    font_weight="bold" if now else "normal",
                    fill="#222" if now else "#555",
                    class_="year",
                )
            )
            if f.provisional:
                out.append(
                    _text(
                        cx,
                        top + ph + 27,
                        "暂定",
                        font_size="10",
                        text_anchor="middle",
                        fill=PROVISIONAL_MARK,
                    )
                )
        out.append(_text(px + slot * n + 3, top + ph + 14, "年度", font_size="10", fill="#666"))
        out.append(
            f'<line x1="{_n(px)}" y1="{top + ph}" x2="{_n(px + slot * n)}" y2="{top + ph}" '
            'stroke="#888"/>'
        )
        return px, slot

    def grid(px: float, slot: float, y: float, label: str) -> None:
        out.append(
            f'<line x1="{_n(px)}" y1="{_n(y)}" x2="{_n(px + slot * n)}" y2="{_n(y)}" '
            'stroke="#e5e5e5"/>'
        )
        out.append(_text(px - 4, y + 4, label, font_size="10", text_anchor="end", fill="#666"))

    # left panel: the total points
    top_value = max([float(f.total) for f in figures] + [total_top, 1.0])
    step = 50 if top_value > 100 else 20
    scale = (int(top_value) // step + 1) * step

    def ty(v: float) -> float:
        return top + ph * (1 - max(v, 0.0) / scale)

    px, slot = frame(0.0, "总分（分）")
    for tick in range(0, scale + 1, step):
        grid(px, slot, ty(tick), str(tick))
    bar = min(slot * 0.56, 30)
    for i, f in enumerate(figures):
        cx, y, now = px + slot * (i + 0.5), ty(float(f.total)), f.year == highlight
        tip = f"{f.year} 年度：总分 {points(f.total)}，组内第 {f.rank} 名"
        tip += ("，先进单位" if f.advanced else "") + ("（暂定）" if f.provisional else "")
        out.append(
            f'<rect x="{_n(cx - bar / 2)}" y="{_n(y)}" width="{_n(bar)}" '
            f'height="{_n(top + ph - y)}" fill="{YEAR_BAR_NOW if now else YEAR_BAR}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        weight = "bold" if now else "normal"
        out.append(
            _text(
                cx,
                y - 4,
                points(f.total),
                font_size="11",
                text_anchor="middle",
                font_weight=weight,
                class_="total",
            )
        )
        if f.advanced:
            out.append(
                _text(
                    cx,
                    y - 17,
                    "★",
                    font_size="12",
                    text_anchor="middle",
                    fill=ADVANCED_MARK,
                    class_="advanced",
                )
            )

    # right panel: the rate at the year's last node
    rates = [(i, f, f.rate) for i, f in enumerate(figures) if f.rate is not None]
    low = max(0.0, int(min([0.8, *(float(r) for _, _, r in rates)]) * 10) / 10)
    tick_step = 0.1 if low >= 0.5 else 0.2

    def ry(v: float) -> float:
        return top + ph * (1 - (v - low) / (1 - low))

    px, slot = frame(panel + gap, rate_label)
    tick = 1.0
    while tick >= low - 1e-9:
        grid(px, slot, ry(tick), f"{round(tick * 100)}%")
        tick -= tick_step
    dots = [(px + slot * (i + 0.5), ry(float(rate)), f, rate) for i, f, rate in rates]
    if len(dots) > 1:
        path = " ".join(f"{_n(x)},{_n(y)}" for x, y, _, _ in dots)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{RATE_LINE}" stroke-width="1.6"/>'
        )
    for x, y, f, rate in dots:
        now = f.year == highlight
        tip = f"{f.year} 年度：{rate_label} {percent(rate)}" + ("（暂定）" if f.provisional else "")
        out.append(
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{4 if now else 3}" fill="{RATE_LINE}">'
            f"<title>{escape(tip)}</title></circle>"
        )
        out.append(
            _text(
                x,
                y - 7,
                percent(rate),
                font_size="10.5",
                text_anchor="middle",
                font_weight="bold" if now else "normal",
                class_="rate",
            )
        )
    out.append("</svg>")
    return "\n".join(out)
