"""The results charts as SVG text (no JavaScript, no image library), so a page and a PDF letter
show the same picture: :func:`radar_svg` (scores per dimension or component, this year against
last year), :func:`histogram_svg` (the distribution of finals) and :func:`box_plot_svg` (each
component's median and quartiles, against a region's own score or with the whole range) and
:func:`line_chart_svg` (scores or ranks year by year, with a gap where a year has no value).

They draw the engine's report data (``RegionReport.dimension_series`` and the like); the
engine itself draws nothing. Chart coordinates are written with two decimals, which is drawing
precision, not a score. Axis labels are numbers for reading: each chart takes the page's
``decimal_mark`` (``","`` in Indonesian) and writes them with :func:`tick_label`. Plain Python:
nothing here needs Django, so a command-line report could import it too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from cityeval.engine.numbers import format_number

__all__ = [
    "BoxRow",
    "IntervalRow",
    "LineSeries",
    "box_plot_svg",
    "histogram_svg",
    "interval_svg",
    "line_chart_svg",
    "radar_geometry",
    "radar_svg",
    "rank_ticks",
    "tick_label",
]

RADAR_SIZE = 320.0  # diameter of the outer ring's bounding box, in SVG units
RADAR_LABEL_ROOM = 120.0  # left and right of the chart, for axis labels
RADAR_TOP_ROOM = 28.0


def tick_label(value: float, decimal_mark: str = ".") -> str:
    """An axis label as short as its value allows (``3``, ``2.25``; never ``3.00``), written by
    the tables' number format with the page's decimal mark (``2,25`` in Indonesian), so that a
    chart and the table beside it write numbers alike. Up to four decimals: tick steps are
    quarters of a short scale or round steps of the interval axis."""
    # Fixed-point, not ``g``: 1.5e6 must count one decimal, not the digits of "1.5e+06".
    places = len(f"{round(value, 4):.4f}".rstrip("0").partition(".")[2]) if math.isfinite(value) else 0
    return format_number(value, places, decimal_mark=decimal_mark)


def radar_geometry(count: int, *, size: float = RADAR_SIZE) -> tuple[float, float, float, list[float]]:
    """Centre x, centre y, radius of the outer ring, and the angle of each axis (radians).

    The first axis points straight up; the others follow clockwise at equal angles.
    """
    radius = size / 2
    cx = RADAR_LABEL_ROOM + radius
    cy = RADAR_TOP_ROOM + radius
    angles = [-math.pi / 2 + 2 * math.pi * i / count for i in range(count)]
    return cx, cy, radius, angles


def radar_svg(
    dimensions: Sequence[tuple[str, float | None, float | None]],
    *,
    scale_max: float,
    scale_min: float = 0.0,
    rings: int = 4,
    title: str = "",
    legend: tuple[str, str] | None = None,
    size: float = RADAR_SIZE,
    decimal_mark: str = ".",
) -> str:
    """A radar chart as an SVG document: one axis per ``(label, this year, last year)``.

    A value v sits at the fraction (v − scale_min) / (scale_max − scale_min) of the outer
    ring's radius along its axis (clamped to the ring), so scale_max lies on the outer ring
    and scale_min at the centre. ``rings`` concentric guides divide the scale evenly. This
    year is a filled polygon, last year a dashed outline; a series with a missing value is
    drawn as points only, since an edge through a missing value would show a score nobody
    gave. ``legend`` names the two series (``this year``, ``last year``) in the page's
    language.

    The SVG carries no ``style`` attribute (a Content-Security-Policy without inline style
    would drop it): the page scales it with CSS on ``svg.radar``.
    """
    count = len(dimensions)
    if count == 0:
        raise ValueError("a radar chart needs at least one axis")
    if scale_max <= scale_min:
        raise ValueError("scale_max must be above scale_min")
    cx, cy, radius, angles = radar_geometry(count, size=size)
    width = 2 * (RADAR_LABEL_ROOM + radius)
    height = cy + radius + RADAR_TOP_ROOM + (22 if legend else 0)

    def point(index: int, value: float) -> tuple[float, float]:
        reach = radius * _share(value, scale_min, scale_max)
        return cx + reach * math.cos(angles[index]), cy + reach * math.sin(angles[index])

    parts = [
        *_svg_open("radar", width, height, title),
    ]
    parts += _rings(
        point, count, rings=rings, scale_min=scale_min, scale_max=scale_max, decimal_mark=decimal_mark
    )
    parts += _axes([label for label, _now, _before in dimensions], point, angles, cx, cy, radius, scale_max)
    previous = [before for _label, _now, before in dimensions]
    current = [now for _label, now, _before in dimensions]
    has_previous = any(v is not None for v in previous)
    if has_previous:
        parts.append(_series(previous, point, "last-year", "#9a6700", dashed=True))
    parts.append(_series(current, point, "this-year", "#0b5cad", dashed=False))
    if legend:
        parts.append(_legend(legend, cx, cy + radius + RADAR_TOP_ROOM + 10, last_year=has_previous))
    parts.append("</svg>")
    return "".join(parts)


_QUOTE = {'"': "&quot;"}


def _svg_open(kind: str, width: float, height: float, title: str) -> list[str]:
    """A chart's opening tag (class ``kind``, its size, the title as its accessible name) and
    its ``<title>``: the first parts of every chart here."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{kind}" role="img" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-label="{escape(title, _QUOTE)}">',
        f"<title>{escape(title)}</title>" if title else "",
    ]


def _share(value: float, low: float, high: float) -> float:
    """Where ``value`` stands between ``low`` and ``high``, from 0 to 1, clamped."""
    return min(1.0, max(0.0, (value - low) / (high - low)))


def _rings(
    point: Any, count: int, *, rings: int, scale_min: float, scale_max: float, decimal_mark: str
) -> list[str]:
    """Concentric guides at even steps of the scale, each with its value at the first axis."""
    parts = []
    for ring in range(1, rings + 1):
        value = scale_min + (scale_max - scale_min) * ring / rings
        corners = " ".join(_xy(*point(i, value)) for i in range(count))
        outer = " outer" if ring == rings else ""
        parts.append(
            f'<polygon class="ring{outer}" points="{corners}" fill="none" stroke="#c8ced6" stroke-width="1"/>'
        )
        x, y = point(0, value)
        parts.append(
            f'<text class="tick" x="{x + 4:.2f}" y="{y + 4:.2f}" font-size="10" fill="#5b6572">'
            f"{tick_label(value, decimal_mark)}</text>"
        )
    return parts


def _axes(
    labels: list[str], point: Any, angles: list[float], cx: float, cy: float, radius: float, scale_max: float
) -> list[str]:
    """One line from the centre to the outer ring per axis, labelled just outside the ring."""
    parts = []
    for i, label in enumerate(labels):
        x, y = point(i, scale_max)
        parts.append(
            f'<line class="axis" x1="{cx:.2f}" y1="{cy:.2f}" x2="{x:.2f}" y2="{y:.2f}" stroke="#c8ced6"/>'
        )
        cos, sin = math.cos(angles[i]), math.sin(angles[i])
        anchor = "middle" if abs(cos) < 0.2 else ("start" if cos > 0 else "end")
        lx = cx + (radius + 8) * cos
        ly = cy + (radius + 8) * sin + (4 if abs(cos) >= 0.2 else 0)
        ly += -4 if sin < -0.9 else (12 if sin > 0.9 else 0)
        parts.append(
            f'<text class="label" x="{lx:.2f}" y="{ly:.2f}" text-anchor="{anchor}" font-size="12" '
            f'fill="#1b1f24">{escape(label)}</text>'
        )
    return parts


def _legend(names: tuple[str, str], cx: float, y: float, *, last_year: bool) -> str:
    """A swatch for this year and, when it is drawn, a dashed line for last year."""
    left = cx - 150 if last_year else cx - 30
    parts = [
        f'<g class="legend" font-size="12"><rect x="{left:.2f}" y="{y - 9:.2f}" width="12" height="12" '
        f'fill="#0b5cad" fill-opacity="0.35" stroke="#0b5cad"/><text x="{left + 17:.2f}" y="{y + 1:.2f}">'
        f"{escape(names[0])}</text>"
    ]
    if last_year:
        parts.append(
            f'<line x1="{cx + 20:.2f}" y1="{y - 3:.2f}" x2="{cx + 36:.2f}" y2="{y - 3:.2f}" stroke="#9a6700" '
            f'stroke-width="2" stroke-dasharray="4 3"/><text x="{cx + 41:.2f}" y="{y + 1:.2f}">'
            f"{escape(names[1])}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _xy(x: float, y: float) -> str:
    return f"{x:.2f},{y:.2f}"


def _series(values: list[float | None], point: Any, css: str, colour: str, *, dashed: bool) -> str:
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    parts = [f'<g class="series {css}">']
    if known and len(known) == len(values):
        corners = " ".join(_xy(*point(i, v)) for i, v in known)
        fill = 'fill="none"' if dashed else f'fill="{colour}" fill-opacity="0.25"'
        dash = ' stroke-dasharray="5 4"' if dashed else ""
        parts.append(f'<polygon points="{corners}" {fill} stroke="{colour}" stroke-width="2"{dash}/>')
    for i, v in known:
        x, y = point(i, v)
        parts.append(
            f'<circle class="point" cx="{x:.2f}" cy="{y:.2f}" r="3" fill="{colour}" '
            f'data-axis="{i}" data-value="{v!r}"/>'
        )
    parts.append("</g>")
    return "".join(parts)


def histogram_svg(
    values: Sequence[float],
    *,
    scale_min: float,
    scale_max: float,
    bins: int = 8,
    title: str = "",
    width: float = 480.0,
    height: float = 200.0,
    decimal_mark: str = ".",
) -> str:
    """The distribution of finals as an SVG bar chart: ``bins`` equal bins over the scale.

    A value equal to scale_max falls in the last bin; each bar is labelled with its count.
    """
    if bins < 1 or scale_max <= scale_min:
        raise ValueError("need at least one bin and scale_max above scale_min")
    step = (scale_max - scale_min) / bins
    counts = [0] * bins
    for value in values:
        index = min(bins - 1, max(0, int((value - scale_min) // step)))
        counts[index] += 1
    top = max(counts) or 1
    left, bottom, room = 30.0, 24.0, 16.0
    plot_w, plot_h = width - left - 10, height - bottom - room
    bar_w = plot_w / bins
    parts = [
        *_svg_open("histogram", width, height, title),
        f'<line x1="{left}" y1="{room + plot_h:.2f}" x2="{left + plot_w:.2f}" y2="{room + plot_h:.2f}" '
        'stroke="#5b6572"/>',
    ]
    for i, count in enumerate(counts):
        bar_h = plot_h * count / top
        x = left + i * bar_w
        y = room + plot_h - bar_h
        parts.append(
            f'<rect class="bar" x="{x + 2:.2f}" y="{y:.2f}" width="{bar_w - 4:.2f}" height="{bar_h:.2f}" '
            f'fill="#0b5cad" fill-opacity="0.7" data-count="{count}"/>'
        )
        if count:
            parts.append(
                f'<text x="{x + bar_w / 2:.2f}" y="{y - 3:.2f}" text-anchor="middle" font-size="11">'
                f"{count}</text>"
            )
        parts.append(
            f'<text x="{x:.2f}" y="{height - 8:.2f}" text-anchor="middle" font-size="10" fill="#5b6572">'
            f"{tick_label(scale_min + i * step, decimal_mark)}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w:.2f}" y="{height - 8:.2f}" text-anchor="middle" font-size="10" '
        f'fill="#5b6572">{tick_label(scale_max, decimal_mark)}</text></svg>'
    )
    return "".join(parts)


@dataclass(frozen=True)
class BoxRow:
    """One row of a box plot: the quartiles of a score (None when there is no value), the
    whiskers' ends (``low``, ``high``; none drawn when None) and a region's own score."""

    label: str
    q1: float | None
    median: float | None
    q3: float | None
    low: float | None = None
    high: float | None = None
    marker: float | None = None


BOX_ROW_HEIGHT = 46.0
BOX_LEGEND_ROOM = 24.0  # from the legend's left edge to its text: the swatch and a gap
BOX_LEGEND_LINE = 15.0  # between the lines of a wrapped legend entry
# Glyph widths at the legend's 12 units, a little generous for the pages' sans-serif fonts:
# DejaVu Sans sets mixed-case text at about 0.52 em a character and capitals at about 0.77 em,
# so capitals count wide: an upper-case region name, as official lists write them, fits as well
# as a mixed-case one. The SVG clips what does not fit.
BOX_LEGEND_CHAR = 0.56 * 12
BOX_LEGEND_WIDE_CHAR = 0.8 * 12


def box_plot_svg(
    rows: Sequence[BoxRow],
    *,
    scale_min: float,
    scale_max: float,
    title: str = "",
    legend: tuple[str, str | None] | None = None,
    width: float = 360.0,
    decimal_mark: str = ".",
) -> str:
    """Horizontal box plots on the score scale, one per row, each under its label (labels
    above the boxes, not beside them, so the chart stays readable on a phone's width).

    A box spans Q1 to Q3 with a line at the median; whiskers run to ``low`` and ``high`` when
    given; ``marker`` is drawn as a dark diamond (a region's own score). Values are clamped
    to the scale. ``legend`` names the box and the marker (None: no marker in the legend) in
    the page's language. The page
    scales the SVG with CSS on ``svg.boxplot``; a table beside it carries the numbers.
    """
    if scale_max <= scale_min:
        raise ValueError("scale_max must be above scale_min")
    left, right, top = 12.0, 12.0, 8.0
    plot_w = width - left - right
    axis_y = top + BOX_ROW_HEIGHT * len(rows) + 4
    # Translated legends run long (Indonesian is about a fifth longer): each entry is wrapped
    # at spaces into lines that fit the chart's width.
    room = width - left - right - BOX_LEGEND_ROOM
    entries = [] if legend is None else [_wrap(name, room) for name in legend if name is not None]
    height = axis_y + 22 + sum(22 + BOX_LEGEND_LINE * (len(lines) - 1) for lines in entries)

    def x(value: float) -> float:
        share = _share(value, scale_min, scale_max)
        return left + plot_w * share

    parts = [
        *_svg_open("boxplot", width, height, title),
    ]
    ticks = _ticks(scale_min, scale_max)
    for tick in ticks:
        parts.append(
            f'<line class="grid" x1="{x(tick):.2f}" y1="{top:.2f}" x2="{x(tick):.2f}" y2="{axis_y:.2f}" '
            f'stroke="#e3e7ec"/><text class="tick" x="{x(tick):.2f}" y="{axis_y + 14:.2f}" '
            f'text-anchor="middle" font-size="11" fill="#5b6572">{tick_label(tick, decimal_mark)}</text>'
        )
    for i, row in enumerate(rows):
        parts.append(_box_row(row, x, top + i * BOX_ROW_HEIGHT))
    if entries:
        parts.append(_box_legend(entries, left, axis_y + 36))
    parts.append("</svg>")
    return "".join(parts)


def _ticks(scale_min: float, scale_max: float) -> list[float]:
    """Whole steps on a short scale (0–4 gives 0, 1, 2, 3, 4), else quarters."""
    span = scale_max - scale_min
    step = 1.0 if span <= 10 and float(span).is_integer() else span / 4
    count = round(span / step)
    return [scale_min + k * step for k in range(count + 1)]


def _box_row(row: BoxRow, x: Any, y: float) -> str:
    """A row's label, then its whiskers, box, median and marker (what is known of them)."""
    mid = y + 30
    parts = [
        f'<g class="box-row"><text class="label" x="12" y="{y + 13:.2f}" font-size="13" fill="#1b1f24">'
        f"{escape(row.label)}</text>"
    ]
    if row.low is not None and row.high is not None:
        parts.append(
            f'<line class="whisker" x1="{x(row.low):.2f}" y1="{mid:.2f}" x2="{x(row.high):.2f}" '
            f'y2="{mid:.2f}" stroke="#5b6572"/>'
        )
        for end in (row.low, row.high):
            parts.append(
                f'<line x1="{x(end):.2f}" y1="{mid - 5:.2f}" x2="{x(end):.2f}" y2="{mid + 5:.2f}" '
                'stroke="#5b6572"/>'
            )
    if row.q1 is not None and row.q3 is not None:
        parts.append(
            f'<rect class="box" x="{x(row.q1):.2f}" y="{mid - 8:.2f}" '
            f'width="{max(1.0, x(row.q3) - x(row.q1)):.2f}" height="16" fill="#0b5cad" fill-opacity="0.25" '
            f'stroke="#0b5cad" data-q1="{row.q1!r}" data-q3="{row.q3!r}"/>'
        )
    if row.median is not None:
        parts.append(
            f'<line class="median" x1="{x(row.median):.2f}" y1="{mid - 8:.2f}" x2="{x(row.median):.2f}" '
            f'y2="{mid + 8:.2f}" stroke="#0b5cad" stroke-width="3" data-value="{row.median!r}"/>'
        )
    if row.marker is not None:
        mx = x(row.marker)
        parts.append(
            f'<path class="marker" d="M{mx:.2f},{mid - 7:.2f} L{mx + 7:.2f},{mid:.2f} '
            f'L{mx:.2f},{mid + 7:.2f} L{mx - 7:.2f},{mid:.2f} Z" fill="#9a3412" stroke="#ffffff" '
            f'data-value="{row.marker!r}"/>'
        )
    parts.append("</g>")
    return "".join(parts)


def _legend_width(text: str) -> float:
    """The width ``text`` may take in the legend, in the chart's units (see BOX_LEGEND_CHAR)."""
    return sum(BOX_LEGEND_WIDE_CHAR if c.isupper() else BOX_LEGEND_CHAR for c in text)


def _wrap(text: str, room: float) -> list[str]:
    """``text`` in lines (broken at spaces) that each fit ``room`` units of the legend; a word
    longer than that keeps a line of its own."""
    lines: list[str] = []
    for word in text.split():
        if lines and _legend_width(f"{lines[-1]} {word}") <= room:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _box_legend(entries: list[list[str]], left: float, y: float) -> str:
    """A box for the quartiles with its median; below it, when named, a diamond for the
    region (one entry a line: translated names run long; an entry too long for the chart's
    width over several lines, see :func:`_wrap`)."""
    parts = ['<g class="legend" font-size="12">']
    for k, lines in enumerate(entries):
        if k == 0:
            parts.append(
                f'<rect x="{left:.2f}" y="{y - 9:.2f}" width="18" height="12" fill="#0b5cad" '
                f'fill-opacity="0.25" stroke="#0b5cad"/><line x1="{left + 9:.2f}" y1="{y - 9:.2f}" '
                f'x2="{left + 9:.2f}" y2="{y + 3:.2f}" stroke="#0b5cad" stroke-width="3"/>'
            )
        else:
            y += 22 + BOX_LEGEND_LINE * (len(entries[k - 1]) - 1)
            parts.append(
                f'<path d="M{left + 9:.2f},{y - 10:.2f} L{left + 16:.2f},{y - 3:.2f} L{left + 9:.2f},'
                f'{y + 4:.2f} L{left + 2:.2f},{y - 3:.2f} Z" fill="#9a3412"/>'
            )
        # One text element a line (no tspans): the PDF letters' SVG renderer draws them alike.
        for i, line in enumerate(lines):
            parts.append(
                f'<text x="{left + BOX_LEGEND_ROOM:.2f}" y="{y + 1 + BOX_LEGEND_LINE * i:.2f}">'
                f"{escape(line)}</text>"
            )
    parts.append("</g>")
    return "".join(parts)


@dataclass(frozen=True)
class LineSeries:
    """One line of a line chart: its name and one value per point of the x axis (None: no
    value there, drawn as a gap)."""

    label: str
    values: Sequence[float | None]


# Colour and dash of each line in turn: the first line (the final) solid and dark, the others
# told apart by dash as well as colour, for readers who do not see the colours.
LINE_STYLES = (
    ("#0b5cad", ""),
    ("#9a3412", "6 3"),
    ("#1a7f37", "2 3"),
    ("#8250df", "8 3 2 3"),
    ("#9a6700", "4 4"),
    ("#5b6572", "1 2"),
    ("#bf3989", "10 4"),
)


def line_chart_svg(
    x_labels: Sequence[str],
    series: Sequence[LineSeries],
    *,
    scale_min: float,
    scale_max: float,
    title: str = "",
    inverted: bool = False,
    ticks: Sequence[float] | None = None,
    width: float = 360.0,
    height: float = 200.0,
    decimal_mark: str = ".",
) -> str:
    """Lines over the points of the x axis (years), one per series, with a legend below (one
    entry a line, so it stays readable on a phone's width).

    A value sits at its share of the way from ``scale_min`` to ``scale_max`` (clamped), from
    the bottom up, or from the top down when ``inverted`` (a rank: 1 at the top). A line runs
    only between neighbouring points that both have a value: a missing value breaks it (a
    year a region did not take part is a gap, never a zero). Every value is also drawn as a
    dot, so a value between two gaps shows. ``ticks`` are the y axis's guides (default: as
    the box plot's). The page scales the SVG with CSS on ``svg.linechart``; a table beside it
    carries the numbers.
    """
    if scale_max <= scale_min:
        raise ValueError("scale_max must be above scale_min")
    if not x_labels:
        raise ValueError("a line chart needs at least one point")
    for line in series:
        if len(line.values) != len(x_labels):
            raise ValueError(
                f"the series {line.label!r} has {len(line.values)} values for {len(x_labels)} points"
            )
    left, right, top, bottom = 34.0, 14.0, 10.0, 24.0
    plot_w, plot_h = width - left - right, height - top - bottom
    total = height + 22 * len(series)
    step = plot_w / max(1, len(x_labels) - 1)

    def x(index: int) -> float:
        return left + (step * index if len(x_labels) > 1 else plot_w / 2)

    def y(value: float) -> float:
        share = _share(value, scale_min, scale_max)
        return top + plot_h * (share if inverted else 1 - share)

    parts = [
        *_svg_open("linechart", width, total, title),
    ]
    for tick in ticks if ticks is not None else _ticks(scale_min, scale_max):
        parts.append(
            f'<line class="grid" x1="{left:.2f}" y1="{y(tick):.2f}" x2="{left + plot_w:.2f}" '
            f'y2="{y(tick):.2f}" stroke="#e3e7ec"/><text class="tick" x="{left - 6:.2f}" '
            f'y="{y(tick) + 4:.2f}" text-anchor="end" font-size="11" fill="#5b6572">'
            f"{tick_label(tick, decimal_mark)}</text>"
        )
    for i, label in enumerate(x_labels):
        parts.append(
            f'<text class="x-label" x="{x(i):.2f}" y="{top + plot_h + 17:.2f}" text-anchor="middle" '
            f'font-size="11" fill="#5b6572">{escape(label)}</text>'
        )
    # The first line (the final) is drawn last, on top of the others.
    for k, line in reversed(list(enumerate(series))):
        colour, dash = LINE_STYLES[k % len(LINE_STYLES)]
        parts.append(_line(line, k, x, y, colour, dash))
    for k, line in enumerate(series):
        colour, dash = LINE_STYLES[k % len(LINE_STYLES)]
        parts.append(_line_legend(line.label, colour, dash, left=12.0, y=height + 14 + 22 * k))
    parts.append("</svg>")
    return "".join(parts)


def _segments(values: Sequence[float | None]) -> list[list[int]]:
    """The runs of neighbouring indexes that all have a value (a None ends a run)."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(i)
    if current:
        runs.append(current)
    return runs


def _line(line: LineSeries, index: int, x: Any, y: Any, colour: str, dash: str) -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    parts = [f'<g class="series" data-series="{index}">']
    for run in _segments(line.values):
        if len(run) > 1:
            points = " ".join(_xy(x(i), y(line.values[i])) for i in run)
            parts.append(
                f'<polyline class="segment" points="{points}" fill="none" stroke="{colour}" '
                f'stroke-width="2"{dashed}/>'
            )
    for i, value in enumerate(line.values):
        if value is not None:
            parts.append(
                f'<circle class="point" cx="{x(i):.2f}" cy="{y(value):.2f}" r="3.5" fill="{colour}" '
                f'data-point="{i}" data-value="{value!r}"/>'
            )
    parts.append("</g>")
    return "".join(parts)


def _line_legend(label: str, colour: str, dash: str, *, left: float, y: float) -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<g class="legend" font-size="12"><line x1="{left:.2f}" y1="{y - 4:.2f}" x2="{left + 24:.2f}" '
        f'y2="{y - 4:.2f}" stroke="{colour}" stroke-width="2"{dashed}/><circle cx="{left + 12:.2f}" '
        f'cy="{y - 4:.2f}" r="3" fill="{colour}"/><text x="{left + 32:.2f}" y="{y:.2f}" fill="#1b1f24">'
        f"{escape(label)}</text></g>"
    )


def rank_ticks(count: int) -> list[float]:
    """Guides for a rank axis from 1 to ``count``: every rank up to 6, else 1, ``count`` and
    round steps between (1, 2, 5, 10, 20, 50…: at most five steps)."""
    if count <= 6:
        return [float(r) for r in range(1, max(1, count) + 1)]
    step = 1
    while count / step > 5:
        for factor in (2, 2.5, 2):
            step = int(step * factor)
            if count / step <= 5:
                break
    inner = [float(r) for r in range(step, count, step) if count - r >= step / 2]
    return [1.0, *inner, float(count)]


# --- intervals ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntervalRow:
    """One row of an interval chart: a region's point final and its interval (``low``–``high``);
    ``highlight`` marks the page's own region."""

    label: str
    value: float
    low: float
    high: float
    highlight: bool = False


INTERVAL_ROW_HEIGHT = 36.0
_NICE_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0)


def interval_axis(
    low: float, high: float, *, scale_min: float, scale_max: float
) -> tuple[float, float, float]:
    """The drawn range and tick step around ``low``–``high``: the nearest ticks outside them
    (at most 6 steps, on the scale), so short intervals are not drawn as dots on a 0–4 axis."""
    low, high = max(scale_min, min(low, high)), min(scale_max, max(low, high))
    span = max(high - low, (scale_max - scale_min) / 100)
    step = next((s for s in _NICE_STEPS if span / s <= 5), _NICE_STEPS[-1])
    start = max(scale_min, math.floor(low / step + 1e-9) * step)
    end = min(scale_max, math.ceil(high / step - 1e-9) * step)
    if end <= start:
        start, end = max(scale_min, start - step), min(scale_max, end + step)
    return start, end, step


def interval_svg(
    rows: Sequence[IntervalRow],
    *,
    scale_min: float,
    scale_max: float,
    title: str = "",
    legend: tuple[str, str] | None = None,
    width: float = 360.0,
    decimal_mark: str = ".",
) -> str:
    """Horizontal intervals, one per row under its label (labels above the lines, so the chart
    keeps a phone's width): a line from ``low`` to ``high`` with a dot at ``value``; the
    highlighted row is drawn in red-brown, thicker and with its label in bold (the pages'
    caption says so: ``intervals.interval_caption``). The axis spans the rows' intervals, not the
    whole scale (see :func:`interval_axis`); ticks carry their values. ``legend`` names the
    line and the dot in the page's language. The page scales the SVG with CSS on
    ``svg.intervals``; a table beside it carries the numbers."""
    if scale_max <= scale_min:
        raise ValueError("scale_max must be above scale_min")
    start, end, step = interval_axis(
        min((r.low for r in rows), default=scale_min),
        max((r.high for r in rows), default=scale_max),
        scale_min=scale_min,
        scale_max=scale_max,
    )
    left, right, top = 12.0, 16.0, 8.0
    plot_w = width - left - right
    axis_y = top + INTERVAL_ROW_HEIGHT * len(rows) + 4
    height = axis_y + 22 + (44 if legend else 0)

    def x(value: float) -> float:
        share = _share(value, start, end)
        return left + plot_w * share

    parts = [
        *_svg_open("intervals", width, height, title),
    ]
    count = round((end - start) / step)
    for k in range(count + 1):
        tick = start + k * step
        parts.append(
            f'<line class="grid" x1="{x(tick):.2f}" y1="{top:.2f}" x2="{x(tick):.2f}" y2="{axis_y:.2f}" '
            f'stroke="#e3e7ec"/><text class="tick" x="{x(tick):.2f}" y="{axis_y + 14:.2f}" '
            f'text-anchor="middle" font-size="11" fill="#5b6572">{tick_label(tick, decimal_mark)}</text>'
        )
    for i, row in enumerate(rows):
        y = top + i * INTERVAL_ROW_HEIGHT
        mid = y + 24
        colour, stroke, weight = ("#9a3412", "3", "bold") if row.highlight else ("#0b5cad", "2", "normal")
        parts.append(
            f'<g class="interval-row{" this" if row.highlight else ""}">'
            f'<text class="label" x="{left:.2f}" y="{y + 11:.2f}" font-size="12" font-weight="{weight}" '
            f'fill="#1b1f24">{escape(row.label)}</text>'
            f'<line class="interval" x1="{x(row.low):.2f}" y1="{mid:.2f}" x2="{x(row.high):.2f}" '
            f'y2="{mid:.2f}" stroke="{colour}" stroke-width="{stroke}" data-low="{row.low!r}" '
            f'data-high="{row.high!r}"/>'
        )
        for end_value in (row.low, row.high):
            parts.append(
                f'<line x1="{x(end_value):.2f}" y1="{mid - 5:.2f}" x2="{x(end_value):.2f}" '
                f'y2="{mid + 5:.2f}" stroke="{colour}" stroke-width="{stroke}"/>'
            )
        parts.append(
            f'<circle class="point" cx="{x(row.value):.2f}" cy="{mid:.2f}" r="4" fill="{colour}" '
            f'stroke="#ffffff" data-value="{row.value!r}"/></g>'
        )
    if legend:
        y = axis_y + 40
        parts.append(
            f'<g class="legend" font-size="12"><line x1="{left:.2f}" y1="{y - 4:.2f}" x2="{left + 22:.2f}" '
            f'y2="{y - 4:.2f}" stroke="#0b5cad" stroke-width="2"/><text x="{left + 30:.2f}" y="{y:.2f}">'
            f"{escape(legend[0])}</text>"
            f'<circle cx="{left + 11:.2f}" cy="{y + 18:.2f}" r="4" fill="#0b5cad"/>'
            f'<text x="{left + 30:.2f}" y="{y + 22:.2f}">{escape(legend[1])}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
