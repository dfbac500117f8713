"""The geometry of the reports' small inline-SVG charts, computed by hand (no plotting library,
no fonts to embed: SVG text is rendered by the browser with the page's CJK font).

Python computes the coordinates here — axes, ticks, legend positions, bars, lines and dots —
as plain numbers in frozen dataclasses; the template templates/macros/charts.j2 writes the SVG
elements, sets each label at a small fixed offset from what it labels, chooses the colours and
words the labels and tooltips. A chart is restyled in the template and re-laid out here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from employment_eval.render.yearend.data import DEGREE_NAMES, DEGREE_ORDER


def text_width(text: str, size: float) -> float:
    """Rough rendered width: CJK characters are square, Latin ones about half as wide."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.6 for ch in text)


@dataclass(frozen=True)
class GridLine:
    """A value line across the plot and its label at the axis."""

    y: float
    label: str


# --- stacked bars ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    segments: tuple[tuple[str, Decimal], ...]  # (series name, value ≥ 0)
    total: Decimal
    highlight: bool = False  # e.g. an advanced unit: label in bold


@dataclass(frozen=True)
class LegendEntry:
    series: int  # index of the series (its colour in the template's palette)
    name: str
    x: float  # the swatch's left edge; the name starts 16 to its right
    y: float  # the name's baseline; the 12×12 swatch's top is 10 above it


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Segment:
    series: int
    name: str
    value: Decimal
    x: float
    width: float


@dataclass(frozen=True)
class BarRow:
    label: str
    bold: bool
    y: float  # the row's top; the bar spans y + 4 … y + row − 4, texts sit on y + 16
    segments: tuple[Segment, ...]
    end: float  # where the bar ends (the total is written 6 to its right)
    total: Decimal


@dataclass(frozen=True)
class BarChart:
    title: str
    unit: str  # what a value counts, as the tooltips say it: 分 (points), 人 (graduates)
    width: int
    height: int
    label_x: float  # right edge of the row labels
    legend: tuple[LegendEntry, ...]
    ticks: tuple[Tick, ...]
    grid_top: float
    grid_bottom: float
    row: int  # a row's height
    rows: tuple[BarRow, ...]


def stacked_bars(
    bars: list[Bar],
    series: list[str],
    title: str,
    width: int = 960,
    scale_to: float = 0.0,
    unit: str = "分",
) -> BarChart:
    """Horizontal stacked bars, one per row, a legend of the series above; the axis reaches
    at least `scale_to` (so that several charts share one scale). `unit` is what the values
    count (分 for points, 人 for graduates)."""
    left, right, top, row = 130, 60, 56, 24
    height = top + row * len(bars) + 30
    top_value = max([float(b.total) for b in bars] + [1.0, scale_to])
    scale_max = (int(top_value) // 20 + 1) * 20
    plot = width - left - right

    def x(v: float) -> float:
        return left + plot * v / scale_max

    legend, lx, ly = [], float(left), 18
    for i, name in enumerate(series):
        w = 16 + text_width(name, 12) + 14
        if lx + w > width - right and lx > left:
            lx, ly = float(left), ly + 18
        legend.append(LegendEntry(i, name, lx, ly))
        lx += w
    top += ly - 18
    height += ly - 18
    rows = []
    for r, bar in enumerate(bars):
        segments, acc = [], 0.0
        for name, value in bar.segments:
            v = max(float(value), 0.0)
            if v == 0:
                continue
            segments.append(Segment(series.index(name), name, value, x(acc), x(acc + v) - x(acc)))
            acc += v
        rows.append(
            BarRow(bar.label, bar.highlight, top + r * row, tuple(segments), x(acc), bar.total)
        )
    return BarChart(
        title=title,
        unit=unit,
        width=width,
        height=height,
        label_x=left - 8,
        legend=tuple(legend),
        ticks=tuple(Tick(x(t), str(t)) for t in range(0, scale_max + 1, 20)),
        grid_top=top - 6,
        grid_bottom=top + row * len(bars),
        row=row,
        rows=tuple(rows),
    )


# --- employment rate over the season ---------------------------------------------------------


@dataclass(frozen=True)
class NodeMark:
    date: dt.date
    degree: str
    rate: Decimal
    target: Decimal
    met: bool


@dataclass(frozen=True)
class DateLine:
    x: float
    label: str  # '8/15'


@dataclass(frozen=True)
class Curve:
    degree: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class NodeDot:
    """A node's rate (a dot at y_rate) and target (a dash from x − 5 to x + 5 at y_target)."""

    mark: NodeMark
    degree_name: str
    x: float
    y_rate: float
    y_target: float


@dataclass(frozen=True)
class RateChart:
    title: str
    width: int
    height: int
    left: float  # the plot's left edge (title and value lines start there)
    right: float  # the plot's right edge
    top: float
    bottom: float  # the plot's bottom edge
    grid: tuple[GridLine, ...]
    dates: tuple[DateLine, ...]
    date_label_y: float
    curves: tuple[Curve, ...]
    dots: tuple[NodeDot, ...]


def rate_chart(
    title: str,
    curves: dict[str, list[tuple[dt.date, Decimal]]],
    nodes: list[NodeMark],
    start: dt.date,
    end: dt.date,
    width: int = 290,
    height: int = 190,
) -> RateChart:
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

    grid, tick = [], low
    while tick <= 1.0001:
        grid.append(GridLine(y(tick), f"{round(tick * 100)}%"))
        tick += 0.1
    dots = []
    for n in nodes:
        off = (DEGREE_ORDER.index(n.degree) - 1) * 5 if n.degree in DEGREE_ORDER else 0
        name = DEGREE_NAMES.get(n.degree, n.degree)
        dots.append(NodeDot(n, name, x(n.date) + off, y(float(n.rate)), y(float(n.target))))
    return RateChart(
        title=title,
        width=width,
        height=height,
        left=left,
        right=width - right,
        top=top,
        bottom=top + ph,
        grid=tuple(grid),
        dates=tuple(DateLine(x(d), f"{d.month}/{d.day}") for d in sorted({n.date for n in nodes})),
        date_label_y=height - 8,
        curves=tuple(
            Curve(degree, tuple((x(d), y(float(v))) for d, v in curve))
            for degree, curve in curves.items()
            if curve
        ),
        dots=tuple(dots),
    )


# --- a unit's years side by side -------------------------------------------------------------


@dataclass(frozen=True)
class YearFigure:
    """One unit in one year, as a small multiple shows it."""

    year: int
    total: Decimal
    rank: int
    advanced: bool
    rate: Decimal | None  # the rate at the year's last node (15 Dec); None: not known
    provisional: bool = False  # the year's scoreboard is not final yet


@dataclass(frozen=True)
class YearSlot:
    """A year's place on the shared x axis: its centre, and for the evaluation year the band
    behind it (band_x, band_width)."""

    figure: YearFigure
    now: bool
    x: float
    band_x: float
    band_width: float


@dataclass(frozen=True)
class Panel:
    """One of the two panels: its title, the years along the x axis and the value lines."""

    title: str
    title_x: float
    left: float  # the plot's left edge
    right: float  # the plot's right edge (the '年度' label starts 3 to its right)
    slots: tuple[YearSlot, ...]
    grid: tuple[GridLine, ...]


@dataclass(frozen=True)
class YearBar:
    slot: YearSlot
    x: float  # left edge
    y: float  # top
    width: float
    height: float


@dataclass(frozen=True)
class YearDot:
    slot: YearSlot
    rate: Decimal
    x: float
    y: float


@dataclass(frozen=True)
class YearsChart:
    title: str
    width: int
    height: int
    top: float  # the plots' top edge
    bottom: float  # the plots' bottom edge (the x axis)
    band_top: float
    band_height: float
    totals: Panel
    bars: tuple[YearBar, ...]
    rates: Panel
    rate_label: str
    line: tuple[tuple[float, float], ...]  # the rates' polyline (two dots or more)
    dots: tuple[YearDot, ...]


def years_chart(
    title: str,
    figures: list[YearFigure],
    highlight: int,
    rate_label: str = "12月15日就业率",
    total_top: float = 0.0,
    width: int = 520,
    height: int = 176,
) -> YearsChart:
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

    def slots(x0: float) -> tuple[float, float, tuple[YearSlot, ...]]:
        """The plot's left edge, one year's width and the years' slots of a panel at x0."""
        px, slot = x0 + left, (panel - left - right) / n
        return (
            px,
            slot,
            tuple(
                YearSlot(f, f.year == highlight, px + slot * (i + 0.5), px + slot * i + 1, slot - 2)
                for i, f in enumerate(figures)
            ),
        )

    # left panel: the total points
    top_value = max([float(f.total) for f in figures] + [total_top, 1.0])
    step = 50 if top_value > 100 else 20
    scale = (int(top_value) // step + 1) * step

    def ty(v: float) -> float:
        return top + ph * (1 - max(v, 0.0) / scale)

    px, slot, total_slots = slots(0.0)
    totals = Panel(
        "总分（分）",
        2.0,
        px,
        px + slot * n,
        total_slots,
        tuple(GridLine(ty(t), str(t)) for t in range(0, scale + 1, step)),
    )
    bar = min(slot * 0.56, 30)
    bars = tuple(
        YearBar(
            s, s.x - bar / 2, ty(float(s.figure.total)), bar, top + ph - ty(float(s.figure.total))
        )
        for s in total_slots
    )

    # right panel: the rate at the year's last node
    known = [s for s in total_slots if s.figure.rate is not None]
    low = max(0.0, int(min([0.8, *(float(s.figure.rate) for s in known)]) * 10) / 10)
    tick_step = 0.1 if low >= 0.5 else 0.2

    def ry(v: float) -> float:
        return top + ph * (1 - (v - low) / (1 - low))

    px, slot, rate_slots = slots(panel + gap)
    grid, tick = [], 1.0
    while tick >= low - 1e-9:
        grid.append(GridLine(ry(tick), f"{round(tick * 100)}%"))
        tick -= tick_step
    rates = Panel(rate_label, panel + gap + 2, px, px + slot * n, rate_slots, tuple(grid))
    dots = tuple(
        YearDot(s, s.figure.rate, s.x, ry(float(s.figure.rate)))
        for s in rate_slots
        if s.figure.rate is not None
    )
    return YearsChart(
        title=title,
        width=width,
        height=height,
        top=top,
        bottom=top + ph,
        band_top=top - 22,
        band_height=ph + 22 + bottom - 4,
        totals=totals,
        bars=bars,
        rates=rates,
        rate_label=rate_label,
        line=tuple((d.x, d.y) for d in dots) if len(dots) > 1 else (),
        dots=dots,
    )


# --- the season against last year ------------------------------------------------------------


@dataclass(frozen=True)
class SeasonLine:
    """One curve of a season chart: `style` says which — 'this' (this season, solid, dotted at
    each export), 'last' (last year at the same dates, dashed) or 'school' (the whole school
    this season, thin grey) — and `degree` its colour."""

    style: str
    degree: str
    label: str
    points: tuple[tuple[dt.date, Decimal], ...]
    compare: tuple[Decimal | None, ...] = ()  # per point of a 'this' line: last year's rate


@dataclass(frozen=True)
class TargetMark:
    date: dt.date
    degree: str
    target: Decimal


@dataclass(frozen=True)
class SeasonPath:
    style: str
    degree: str
    label: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class SeasonDot:
    """A point of this season's curve: its export date and rate, and last year's rate at the
    same date (None: no data), for the tooltip and for a reader of the page (data- attributes)."""

    style: str
    degree: str
    degree_name: str
    date: dt.date
    rate: Decimal
    compare: Decimal | None
    x: float
    y: float


@dataclass(frozen=True)
class TargetTick:
    """A node's target for a degree: a dash from x − 6 to x + 6 at y."""

    mark: TargetMark
    degree_name: str
    x: float
    y: float


@dataclass(frozen=True)
class SeasonLegend:
    style: str
    degree: str
    label: str
    x: float  # the sample line starts here and is 18 long; the label starts 21 to its right
    y: float  # the label's baseline; the sample line is 4 above it


@dataclass(frozen=True)
class SeasonChart:
    title: str
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    grid: tuple[GridLine, ...]
    months: tuple[DateLine, ...]  # the first day of each month (axis labels)
    nodes: tuple[DateLine, ...]  # the node dates (dashed lines, labelled above the plot)
    paths: tuple[SeasonPath, ...]
    dots: tuple[SeasonDot, ...]
    targets: tuple[TargetTick, ...]
    legend: tuple[SeasonLegend, ...]
    date_label_y: float
    node_label_y: float


def season_chart(
    title: str,
    lines: list[SeasonLine],
    targets: list[TargetMark],
    start: dt.date,
    end: dt.date,
    width: int = 300,
    height: int = 200,
    legend: bool = True,
) -> SeasonChart:
    """Employment rate over the calendar of a season: this season's curves (solid, a dot per
    export), last year's at the same calendar dates (dashed), the school's (thin grey) and each
    node's target per degree (a dash at the node's date). The rate axis starts at the tenth
    below the lowest value shown (at most 60 %); the date axis runs from `start` to `end`."""
    left, right = 38.0, 10.0
    top = 44.0 if legend else 30.0  # the title, the legend's row, the node dates' labels
    bottom = 22.0
    values = [float(v) for line in lines for _, v in line.points]
    values += [float(t.target) for t in targets]
    low = max(0.0, int(min([0.6, *values]) * 10) / 10)
    span = max((end - start).days, 1)
    pw, ph = width - left - right, height - top - bottom

    def x(d: dt.date) -> float:
        return left + pw * min(max((d - start).days, 0), span) / span

    def y(v: float) -> float:
        return top + ph * (1 - (v - low) / (1 - low))

    grid, tick = [], low
    while tick <= 1.0001:
        grid.append(GridLine(y(tick), f"{round(tick * 100)}%"))
        tick += 0.1
    months, day = [], dt.date(start.year, start.month, 1)
    while day <= end:
        if day >= start:
            months.append(DateLine(x(day), f"{day.month}月"))
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    paths, dots = [], []
    for line in lines:
        inside = [(d, v) for d, v in line.points if start <= d <= end]
        paths.append(
            SeasonPath(
                line.style,
                line.degree,
                line.label,
                tuple((x(d), y(float(v))) for d, v in inside),
            )
        )
        if line.style == "this":
            compare = line.compare or (None,) * len(line.points)
            for (d, v), c in zip(line.points, compare, strict=True):
                if start <= d <= end:
                    name = DEGREE_NAMES.get(line.degree, line.degree)
                    dots.append(
                        SeasonDot(line.style, line.degree, name, d, v, c, x(d), y(float(v)))
                    )
    ticks = []
    for t in targets:
        if start <= t.date <= end:
            off = (DEGREE_ORDER.index(t.degree) - 1) * 3 if t.degree in DEGREE_ORDER else 0
            name = DEGREE_NAMES.get(t.degree, t.degree)
            ticks.append(TargetTick(t, name, x(t.date) + off, y(float(t.target))))
    entries, lx = [], left
    if legend:
        seen: list[tuple[str, str, str]] = []
        for line in lines:
            key = (line.style, line.degree, line.label)
            if line.points and key not in seen:
                seen.append(key)
        for style, degree, label in seen:
            w = 22 + text_width(label, 10) + 8
            if lx + w > width - right + 8 and lx > left:
                break  # no second legend row: the caption under the chart says the rest
            entries.append(SeasonLegend(style, degree, label, lx, 28.0))
            lx += w
    node_dates = sorted({t.date for t in targets if start <= t.date <= end})
    return SeasonChart(
        title=title,
        width=width,
        height=height,
        left=left,
        right=width - right,
        top=top,
        bottom=top + ph,
        grid=tuple(grid),
        months=tuple(months),
        nodes=tuple(DateLine(x(d), f"{d.month}/{d.day}") for d in node_dates),
        paths=tuple(p for p in paths if p.points),
        dots=tuple(dots),
        targets=tuple(ticks),
        legend=tuple(entries),
        date_label_y=height - 6,
        node_label_y=top - 3,
    )
