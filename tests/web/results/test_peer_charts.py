"""The box plot of the peers section and the distribution page (SVG), checked against
hand-placed geometry: on a 0–4 scale 360 units wide with 12 units of margin each side, the
plot is 336 units wide, so a score v sits at x = 12 + 84·v."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cityeval.web.results.charts import BoxRow, box_plot_svg

SVG = "{http://www.w3.org/2000/svg}"


def _of_class(root: ET.Element, tag: str, css: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if e.get("class") == css]


def test_boxes_medians_and_markers_sit_on_the_scale():
    svg = box_plot_svg(
        [BoxRow("Baseline", 1.0, 2.0, 3.0, marker=0.5), BoxRow("A<B & C", 2.5, 3.0, 4.5, marker=5.0)],
        scale_min=0.0,
        scale_max=4.0,
        title='Kab. "Deli" against its peers',
        legend=("Peers: Q1 to Q3, median", "Kab. Deli"),
    )
    root = ET.fromstring(svg)  # well-formed, the label's < and & escaped
    assert root.get("role") == "img" and root.get("aria-label") == 'Kab. "Deli" against its peers'
    assert root.find(f"{SVG}title").text == 'Kab. "Deli" against its peers'
    boxes = _of_class(root, "rect", "box")
    assert [float(b.get("x")) for b in boxes] == pytest.approx([96.0, 222.0])  # 12 + 84 × 1, × 2.5
    # Q1 1 to Q3 3 is 168 units; 2.5 to 4.5 is clamped at the scale's end (4): 84 × 1.5 = 126.
    assert [float(b.get("width")) for b in boxes] == pytest.approx([168.0, 126.0])
    medians = _of_class(root, "line", "median")
    assert [float(m.get("x1")) for m in medians] == pytest.approx([180.0, 264.0])
    markers = _of_class(root, "path", "marker")
    assert [m.get("data-value") for m in markers] == ["0.5", "5.0"]
    assert markers[0].get("d").startswith("M54.00,")  # 12 + 84 × 0.5
    assert markers[1].get("d").startswith("M348.00,")  # 5 is clamped to 4: 12 + 336
    assert _of_class(root, "line", "whisker") == []
    labels = [t.text for t in _of_class(root, "text", "label")]
    assert labels == ["Baseline", "A<B & C"]
    ticks = [t.text for t in _of_class(root, "text", "tick")]
    assert ticks == ["0", "1", "2", "3", "4"]


def test_whiskers_reach_the_lowest_and_the_highest_and_missing_rows_draw_no_box():
    svg = box_plot_svg(
        [BoxRow("Final", 1.0, 2.0, 3.0, low=0.0, high=4.0), BoxRow("Kolaborasi", None, None, None)],
        scale_min=0.0,
        scale_max=4.0,
        title="Distribution",
        legend=("Q1 to Q3, median", None),
    )
    root = ET.fromstring(svg)
    whiskers = _of_class(root, "line", "whisker")
    assert len(whiskers) == 1
    assert (float(whiskers[0].get("x1")), float(whiskers[0].get("x2"))) == pytest.approx((12.0, 348.0))
    assert len(_of_class(root, "rect", "box")) == 1 and len(_of_class(root, "line", "median")) == 1
    assert [t.text for t in _of_class(root, "text", "label")] == ["Final", "Kolaborasi"]
    assert _of_class(root, "path", "marker") == []


def test_a_box_plot_needs_a_scale():
    with pytest.raises(ValueError):
        box_plot_svg([BoxRow("Final", 1.0, 2.0, 3.0)], scale_min=4.0, scale_max=4.0)


def test_a_long_legend_is_wrapped_within_the_chart_and_the_chart_grows_to_hold_it():
    # The legend's text starts at 12 + 24 = 36 and may reach 348: 312 units; at 0.56 × 12 =
    # 6.72 units a character that is 46 characters a line (312 / 6.72 = 46.4). The Indonesian
    # legend (54 characters) takes two lines, broken at the last space before the 47th
    # character; the English one (45) and the region's name keep one each.
    indonesian = "Q1 sampai Q3, median; garis: terendah sampai tertinggi"
    rows = [BoxRow("Final", 1.0, 2.0, 3.0, low=0.0, high=4.0)]
    short = ET.fromstring(
        box_plot_svg(
            rows, scale_min=0.0, scale_max=4.0, legend=("Q1 to Q3, median; whiskers: lowest to highest", None)
        )
    )
    long = ET.fromstring(box_plot_svg(rows, scale_min=0.0, scale_max=4.0, legend=(indonesian, "Kab. Deli")))
    legend = next(e for e in long.iter(f"{SVG}g") if e.get("class") == "legend")
    texts = [(t.text, float(t.get("x")), float(t.get("y"))) for t in legend.iter(f"{SVG}text")]
    # One row: the axis at 8 + 46 + 4 = 58, the legend's first line at 58 + 36 + 1 = 95, the
    # next 15 below; the region's entry 22 + 15 below the first entry.
    assert texts == [
        ("Q1 sampai Q3, median; garis: terendah sampai", 36.0, 95.0),
        ("tertinggi", 36.0, 110.0),
        ("Kab. Deli", 36.0, 132.0),
    ]
    assert all(len(text) <= 46 for text, _x, _y in texts)
    # The chart's height: 58 + 22, then 22 an entry and 15 an extra line: 80 + 22 + 15 + 22.
    assert long.get("height") == "139" and long.get("viewBox") == "0 0 360 139"
    assert short.get("height") == "102"  # 58 + 22 + 22: one line, as before
    # An upper-case name (as official lists write them) counts its capitals wide, 0.8 × 12 = 9.6
    # units: "KABUPATEN KEPULAUAN SIAU TAGULANDANG BIARO" set in DejaVu Sans is about 389 units,
    # over the 312 there is room for (found in review: it was one clipped line). The first
    # three words are 22 capitals and 2 spaces (224.6 units); with " TAGULANDANG" 337.0: over.
    upper = ET.fromstring(
        box_plot_svg(
            rows, scale_min=0.0, scale_max=4.0, legend=("Q1", "KABUPATEN KEPULAUAN SIAU TAGULANDANG BIARO")
        )
    )
    upper_legend = next(e for e in upper.iter(f"{SVG}g") if e.get("class") == "legend")
    assert [t.text for t in upper_legend.iter(f"{SVG}text")][1:] == [
        "KABUPATEN KEPULAUAN SIAU",
        "TAGULANDANG BIARO",
    ]
    (marker,) = legend.iter(f"{SVG}path")
    assert marker.get("d").startswith("M21.00,121.00 ")  # the diamond beside the region's name
