"""Server-rendered SVG bar charts (no JavaScript): bar geometry computed here, drawn by the
template ``kkpd/_bars.html``. The SVG scales to its container, so it reads at 390 px wide."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import number_format

WIDTH = 400  # narrow, so that the text stays legible when the SVG shrinks to a phone
BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 150


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str
    y: int
    width: int


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: int
    label_width: int = LABEL_WIDTH
    width: int = WIDTH


def rupiah_text(value: int) -> str:
    """``1500000`` → ``Rp 1.500.000`` on an Indonesian page, ``Rp 1,500,000`` on an English one:
    the page language's grouping, as the tables beside the charts write amounts."""
    return "Rp " + number_format(value, decimal_pos=0, use_l10n=True, force_grouping=True)


def bar_chart(values: list[tuple[str, int]]) -> BarChart:
    """Horizontal bars, the longest filling the space right of the labels."""
    top = max((v for _, v in values), default=0)
    room = WIDTH - LABEL_WIDTH - 105
    bars = [
        Bar(
            label,
            value,
            rupiah_text(value),
            i * (BAR_HEIGHT + GAP),
            round(room * max(value, 0) / top) if top > 0 else 0,
        )
        for i, (label, value) in enumerate(values)
    ]
    return BarChart(bars=bars, height=max(len(bars) * (BAR_HEIGHT + GAP), BAR_HEIGHT))
