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
