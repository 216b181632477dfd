"""The results charts (SVG), checked against hand-placed geometry and hand counts."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from cityeval.web.results.charts import (
    BoxRow,
    IntervalRow,
    LineSeries,
    box_plot_svg,
    histogram_svg,
    interval_svg,
    line_chart_svg,
    radar_geometry,
    radar_svg,
    tick_label,
)

SVG = "{http://www.w3.org/2000/svg}"


def _circles(svg: str, series: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    group = next(g for g in root.iter(f"{SVG}g") if series in g.get("class", ""))
    return list(group.iter(f"{SVG}circle"))


def test_radar_points_sit_on_the_scale():
    """Four axes at 0°, 90°, 180°, 270° from the top; values 4 (scale max), 0, 2 and 5 (above
    the scale, clamped): distances from the centre r, 0, r/2 and r."""
    svg = radar_svg(
        [("Tata kelola", 4.0, 3.0), ("Ekonomi", 0.0, None), ("A<B & C", 2.0, 1.0), ("Lainnya", 5.0, 2.0)],
        scale_max=4.0,
        title="Radar",
        legend=("2024", "2023"),
    )
    cx, cy, radius, angles = radar_geometry(4)
    assert angles[0] == pytest.approx(-math.pi / 2)
    points = _circles(svg, "this-year")
    distances = [math.hypot(float(p.get("cx")) - cx, float(p.get("cy")) - cy) for p in points]
    assert distances == pytest.approx([radius, 0.0, radius / 2, radius], abs=0.01)
    assert float(points[0].get("cx")) == pytest.approx(cx, abs=0.01)  # straight up
    assert float(points[0].get("cy")) == pytest.approx(cy - radius, abs=0.01)
    root = ET.fromstring(svg)
    outer = next(p for p in root.iter(f"{SVG}polygon") if "outer" in p.get("class", ""))
    for corner in outer.get("points").split():
        x, y = map(float, corner.split(","))
        assert math.hypot(x - cx, y - cy) == pytest.approx(radius, abs=0.01)
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "label"]
    assert labels == ["Tata kelola", "Ekonomi", "A<B & C", "Lainnya"]  # escaped in the source
    assert "A&lt;B &amp; C" in svg


def test_radar_draws_last_year_as_points_only_when_a_value_is_missing():
    svg = radar_svg([("a", 1.0, 1.0), ("b", 2.0, None), ("c", 3.0, 3.0)], scale_max=4.0)
    root = ET.fromstring(svg)
    last = next(g for g in root.iter(f"{SVG}g") if "last-year" in g.get("class", ""))
    assert list(last.iter(f"{SVG}polygon")) == []
    assert [c.get("data-axis") for c in last.iter(f"{SVG}circle")] == ["0", "2"]
    this = next(g for g in root.iter(f"{SVG}g") if "this-year" in g.get("class", ""))
    assert len(list(this.iter(f"{SVG}polygon"))) == 1


def test_radar_without_last_year_has_no_last_year_series_nor_legend_entry():
    svg = radar_svg(
        [("a", 1.0, None), ("b", 2.0, None), ("c", 3.0, None)], scale_max=4.0, legend=("2024", "2023")
    )
    assert "last-year" not in svg
    assert "2024" in svg and "2023" not in svg


def test_radar_refuses_an_empty_chart_or_an_empty_scale():
    with pytest.raises(ValueError):
        radar_svg([], scale_max=4.0)
    with pytest.raises(ValueError):
        radar_svg([("a", 1.0, None)], scale_max=0.0)


def test_histogram_counts_by_hand():
    """Bins of 1 over 0–4: 0.5 → [0, 1); 1.0, 1.99 → [1, 2); 4.0 (the maximum) → the last bin."""
    svg = histogram_svg([0.5, 1.0, 1.99, 4.0], scale_min=0.0, scale_max=4.0, bins=4)
    bars = [int(r.get("data-count")) for r in ET.fromstring(svg).iter(f"{SVG}rect")]
    assert bars == [1, 2, 0, 1]


# --- axis labels in the page's number format (issue 15: "0.5" on an Indonesian page) -------------


def _axis(svg: str) -> list[str]:
    """The axis labels of a chart: its tick texts (the histogram's are the texts at its foot)."""
    root = ET.fromstring(svg)
    ticks = [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    if ticks:
        return ticks
    foot = max(float(t.get("y", 0)) for t in root.iter(f"{SVG}text"))
    return [t.text or "" for t in root.iter(f"{SVG}text") if float(t.get("y", 0)) == foot]


def test_a_tick_label_is_as_short_as_its_value_with_the_page_s_decimal_mark():
    assert [tick_label(v, ",") for v in (2.25, 3.0, 0.5, 0.875, 0.0, 12.0)] == [
        "2,25",
        "3",
        "0,5",
        "0,875",
        "0",
        "12",
    ]
    assert [tick_label(v) for v in (2.25, 3.0, 0.5)] == ["2.25", "3", "0.5"]
    # A step's float residue is not printed: 0.1 × 3 is 0.30000000000000004.
    assert tick_label(0.1 * 3, ",") == "0,3" and tick_label(3.1 + 0.1 * 2, ",") == "3,3"
    # Large values keep the same rule (``g`` would have written 1.5e+06 and counted 5 decimals).
    assert [tick_label(v, ",") for v in (1_500_000.0, 2_000_000.0, 1e7 + 0.25)] == [
        "1500000",
        "2000000",
        "10000000,25",
    ]


def test_every_chart_writes_its_axis_with_the_given_decimal_mark():
    """Hand-worked axes: the histogram's eight bins of 0.5 over 0–4; the interval chart's steps
    of 0.1 over 3.1–3.6 (``interval_axis``); the box plot's quarters of 0–3.5 (0.875 each); the
    radar's four rings over 0–5 (1.25 each); the line chart's two given ticks."""
    histogram = histogram_svg([1.0, 2.2], scale_min=0.0, scale_max=4.0, bins=8, decimal_mark=",")
    assert _axis(histogram) == ["0", "0,5", "1", "1,5", "2", "2,5", "3", "3,5", "4"]
    intervals = interval_svg(
        [IntervalRow("1. A", 3.5, 3.4, 3.6), IntervalRow("2. B", 3.2, 3.1, 3.35, highlight=True)],
        scale_min=0, scale_max=4, decimal_mark=",",
    )  # fmt: skip
    assert _axis(intervals) == ["3,1", "3,2", "3,3", "3,4", "3,5", "3,6"]
    box = box_plot_svg([BoxRow("Final", 1.0, 2.0, 3.0)], scale_min=0.0, scale_max=3.5, decimal_mark=",")
    assert _axis(box) == ["0", "0,875", "1,75", "2,625", "3,5"]
    radar = radar_svg([("a", 1.0, None), ("b", 2.0, None), ("c", 3.0, None)], scale_max=5.0, decimal_mark=",")
    assert _axis(radar) == ["1,25", "2,5", "3,75", "5"]
    line = line_chart_svg(
        ["2023", "2024"], [LineSeries("Final", [1.0, 2.0])], scale_min=0, scale_max=4, ticks=[0.5, 1.5],
        decimal_mark=",",
    )  # fmt: skip
    assert _axis(line) == ["0,5", "1,5"]
    # English keeps the point (the default: a command-line report has no page language).
    assert _axis(histogram_svg([1.0], scale_min=0.0, scale_max=4.0, bins=8))[1] == "0.5"
