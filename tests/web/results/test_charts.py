"""The results charts (SVG), checked against hand-placed geometry and hand counts."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from cityeval.web.results.charts import histogram_svg, radar_geometry, radar_svg

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
