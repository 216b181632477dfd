"""The line chart of results over the years (results/charts.py), positions checked by hand.

The chart is 360 wide and 200 high before the legend; the plot runs from x = 34 to 346 and
from y = 10 (top) to 176 (bottom), so on a 0–4 scale a value v sits at y = 176 − 166·v/4 and,
with three years, the points at x = 34, 190, 346.
"""

from __future__ import annotations

import re

import pytest

from cityeval.web.results.charts import LineSeries, line_chart_svg, rank_ticks


def _points(svg: str, series: int) -> list[tuple[str, str, str]]:
    group = re.search(rf'<g class="series" data-series="{series}">(.*?)</g>', svg)
    assert group is not None
    return re.findall(r'cx="([\d.]+)" cy="([\d.]+)"[^>]*data-point="\d" data-value="([^"]+)"', group.group(1))


def test_values_sit_at_their_share_of_the_scale():
    svg = line_chart_svg(
        ["2022", "2023", "2024"], [LineSeries("Final", [0.0, 2.0, 4.0])], scale_min=0, scale_max=4
    )
    # y = 176 − 166·v/4: 176, 93, 10.
    assert _points(svg, 0) == [
        ("34.00", "176.00", "0.0"),
        ("190.00", "93.00", "2.0"),
        ("346.00", "10.00", "4.0"),
    ]
    assert re.findall(r'<polyline class="segment" points="([^"]+)"', svg) == [
        "34.00,176.00 190.00,93.00 346.00,10.00"
    ]


def test_a_missing_year_breaks_the_line_and_is_not_drawn_as_zero():
    svg = line_chart_svg(
        ["2021", "2022", "2023", "2024"],
        [LineSeries("Final", [1.0, 2.0, None, 3.0])],
        scale_min=0,
        scale_max=4,
    )
    points = _points(svg, 0)
    assert [p[2] for p in points] == ["1.0", "2.0", "3.0"]
    assert "176.00" not in [p[1] for p in points]  # nothing at zero
    # Four points 104 apart (312 / 3): one segment joins 2021 and 2022; 2024 stands alone.
    assert re.findall(r'<polyline class="segment" points="([^"]+)"', svg) == ["34.00,134.50 138.00,93.00"]


def test_an_inverted_scale_puts_rank_one_at_the_top():
    svg = line_chart_svg(
        ["2022", "2023"],
        [LineSeries("Rank", [1.0, 3.0])],
        scale_min=1,
        scale_max=3,
        inverted=True,
        ticks=[1, 2, 3],
    )
    assert [(p[1], p[2]) for p in _points(svg, 0)] == [("10.00", "1.0"), ("176.00", "3.0")]
    assert re.findall(r'class="tick"[^>]*>([^<]+)<', svg) == ["1", "2", "3"]


def test_it_is_an_image_with_a_name_and_a_legend_line_per_series():
    svg = line_chart_svg(
        ["2024"],
        [LineSeries("Final", [3.5]), LineSeries("Dampak & <x>", [None])],
        scale_min=0,
        scale_max=4,
        title='Kab. "A": over the years',
    )
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="linechart" role="img"')
    assert 'aria-label="Kab. &quot;A&quot;: over the years"' in svg
    assert '<title>Kab. "A": over the years</title>' in svg
    assert re.findall(r'<g class="legend".*?<text[^>]*>([^<]+)</text>', svg) == [
        "Final",
        "Dampak &amp; &lt;x&gt;",
    ]
    assert 'height="244"' in svg  # 200 and 22 a legend line
    # One year: its point in the middle (34 + 312 / 2 = 190), at 176 − 166 × 3.5 / 4 = 30.75.
    assert _points(svg, 0) == [("190.00", "30.75", "3.5")]
    assert _points(svg, 1) == [] and "<polyline" not in svg


def test_a_series_must_have_a_value_or_gap_for_each_year():
    with pytest.raises(ValueError, match="has 1 values for 2 points"):
        line_chart_svg(["2023", "2024"], [LineSeries("Final", [1.0])], scale_min=0, scale_max=4)
    with pytest.raises(ValueError):
        line_chart_svg([], [], scale_min=0, scale_max=4)
    with pytest.raises(ValueError):
        line_chart_svg(["2024"], [], scale_min=4, scale_max=4)


@pytest.mark.parametrize(
    ("count", "ticks"),
    [
        (1, [1]),
        (3, [1, 2, 3]),
        (6, [1, 2, 3, 4, 5, 6]),
        (25, [1, 5, 10, 15, 20, 25]),
        (550, [1, 200, 400, 550]),
    ],
)
def test_rank_ticks_are_round_steps_from_one_to_the_last(count, ticks):
    assert rank_ticks(count) == ticks
