"""The SVG bar geometry, by hand: 400 units wide, 150 for labels, 105 for the amount text, so
the longest bar is 145 units and the others in proportion."""

from django.utils import translation

from cityeval.web.kkpd.charts import bar_chart, rupiah_text


def test_bars_are_proportional_and_the_longest_fills_the_room():
    chart = bar_chart([("2024-01", 4_000_000), ("2024-02", 1_000_000), ("2024-03", 0)])
    assert [b.width for b in chart.bars] == [145, 36, 0]  # 145 × 1/4 = 36.25
    assert [b.y for b in chart.bars] == [0, 28, 56] and chart.height == 84
    with translation.override("id"):
        assert bar_chart([("2024-01", 4_000_000)]).bars[0].text == "Rp 4.000.000"


def test_no_values_draw_no_bars():
    assert bar_chart([]).bars == []
    with translation.override("id"):
        assert rupiah_text(1500) == "Rp 1.500"


def test_amounts_follow_the_page_language_like_the_tables():
    """The bars once wrote Indonesian grouping on English pages beside tables in English."""
    with translation.override("en"):
        assert rupiah_text(3_100_000) == "Rp 3,100,000"
    with translation.override("id"):
        assert rupiah_text(3_100_000) == "Rp 3.100.000"
