"""Small inline-SVG charts for the report, drawn by hand (no plotting library, no fonts to
embed: SVG text is rendered by the browser with the page's CJK font). No xmlns attribute —
inline SVG in HTML does not need it, and the page must hold no http(s) address at all. Every
text is escaped by `textsafe.html_text` (bidi controls removed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from employment_eval.textsafe import html_text as escape
from employment_eval.yearend.data import DEGREE_NAMES
from employment_eval.yearend.labels import percent, points

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
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
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
