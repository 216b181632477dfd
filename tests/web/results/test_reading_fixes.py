"""What a new user's walk through the results pages found (issue 15), checked on the served pages
and the region letter: the variance shares listed in one order with what first-order shares
mean, chart axes in the page's number format, the interval chart's caption matching its drawing
and the planner's items named first by their readable name.

The shares below are set by hand to the walkthrough's case (assessors 104 %, weights 4 %,
survey 0 %: first-order estimates that exceed 100 % and do not add up to it); they are shown as
stored, not clipped.
"""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.utils import translation

from cityeval.web.results.letters import region_letter_context
from cityeval.web.results.models import RegionInterval, RunUncertainty
from cityeval.web.results.selectors import region_results
from cityeval.web.results.templatetags.results_tags import breakable
from tests.helpers.results import CYCLE, REGION_A

NATIONAL = f"/results/{CYCLE}/"
REGION_A_PAGE = f"/r/{REGION_A}/{CYCLE}/results/"
PLANNER = f"/r/{REGION_A}/{CYCLE}/results/planner/"
WALKTHROUGH = {"assessors": 1.04, "survey": 0.0, "weights": 0.04}  # as the JSON field may order them


def _text(markup: str | bytes) -> str:
    """The markup's text: tags dropped, entities read, spaces folded."""
    if isinstance(markup, bytes):
        markup = markup.decode()
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _ticks(svg: str) -> list[str]:
    """The tick labels of the first chart in ``svg``."""
    return re.findall(r'<text class="tick"[^>]*>([^<]*)</text>', svg.split("</svg>")[0])


def _indonesian(client):
    client.cookies["django_language"] = "id"
    return client


@pytest.fixture
def three_sources(published):
    """The published run as if the survey had been one of its sources, with the walkthrough's
    shares for the run and for region A."""
    record = RunUncertainty.objects.get(run=published)
    record.sources = ["assessors", "weights", "survey"]
    record.shares = WALKTHROUGH
    record.save()
    RegionInterval.objects.filter(run=published, region__slug=REGION_A).update(
        share_assessors=1.04, share_weights=0.04, share_survey=0.0
    )
    return published


# --- 1. variance shares: one order, and what they mean --------------------------------------------

EXPLAINED = (
    "(first-order estimates from 1000 draws: each source's share by itself, so a share may come "
    "out above 100% or below 0% and the shares need not add up to 100%; the rest is the "
    "interaction of the sources and the noise of the estimates)"
)
DIJELASKAN = (
    "(perkiraan orde pertama dari 1000 pengulangan: porsi setiap sumber dihitung sendiri-sendiri, "
    "sehingga suatu porsi bisa lebih dari 100% atau kurang dari 0% dan jumlah porsinya tidak harus "
    "100%; sisanya adalah interaksi antarsumber dan galat perkiraan)"
)


def test_the_pages_and_the_letter_list_the_shares_in_the_sources_order_and_explain_them(
    three_sources, as_user
):
    """The order of "Sources: assessors, weights, survey." everywhere (the national page listed
    the stored JSON's order: assessors, survey, weights); 104 % is shown as estimated."""
    client = as_user(None)
    national = _text(client.get(NATIONAL).content)
    assert "Sources: assessors, weights, survey." in national
    assert (
        f"Share of the variance of all finals: assessors 104% · weights 4% · survey 0% {EXPLAINED}"
        in national
    )
    region = _text(client.get(REGION_A_PAGE).content)
    assert "Sources: assessors, weights, survey." in region
    assert f"Share of this final's variance: assessors 104% · weights 4% · survey 0% {EXPLAINED}" in region
    letter = _text(
        render_to_string(
            "results/pdf/region_letter.html",
            region_letter_context(region_results(AnonymousUser(), CYCLE, REGION_A)),
        )
    )
    assert f"Share of this final's variance: assessors 104% · weights 4% · survey 0% {EXPLAINED}" in letter
    client = _indonesian(as_user(None))
    national = _text(client.get(NATIONAL).content)
    assert f"Porsi varians seluruh indeks akhir: asesor 104% · bobot 4% · survei 0% {DIJELASKAN}" in national
    region = _text(client.get(REGION_A_PAGE).content)
    assert f"Porsi varians indeks akhir ini: asesor 104% · bobot 4% · survei 0% {DIJELASKAN}" in region


# --- 2. chart axes in the page's number format ---------------------------------------------------


def test_indonesian_pages_and_letters_write_chart_axes_with_a_decimal_comma(published, as_user):
    """The national histogram's bins of 0.5 over 0–4 (hand: 0, 0.5, …, 4) and the region's
    interval chart read "0,5" in Indonesian, as the tables do; in English "0.5"."""
    english = as_user(None).get(NATIONAL).content.decode()
    assert "0.5" in re.findall(
        r">([0-9.,]+)</text>", english.split('class="histogram"')[1].split("</svg>")[0]
    )
    indonesian = _indonesian(as_user(None)).get(NATIONAL).content.decode()
    histogram = indonesian.split('class="histogram"')[1].split("</svg>")[0]
    labels = re.findall(r">([0-9.,]+)</text>", histogram)
    assert {"0,5", "1,5", "2,5", "3,5"} <= set(labels) and not any("." in label for label in labels)
    page_en = _ticks(as_user(None).get(REGION_A_PAGE).content.decode().split('id="interval-chart"')[1])
    page_id = _ticks(
        _indonesian(as_user(None)).get(REGION_A_PAGE).content.decode().split('id="interval-chart"')[1]
    )
    assert any("." in tick for tick in page_en), page_en  # the chart zooms on A's interval: decimal steps
    assert page_id == [tick.replace(".", ",") for tick in page_en]
    # The letter's charts follow the letter's language (its job runs with the asker's language).
    with translation.override("id"):
        context = region_letter_context(region_results(AnonymousUser(), CYCLE, REGION_A))
    assert _ticks(context["intervals"].chart) == page_id


# --- 4. the interval chart's caption says how it is drawn ----------------------------------------


def test_the_interval_caption_matches_the_drawing(published, as_user):
    page = as_user(None).get(REGION_A_PAGE).content.decode()
    figure = page.split('id="interval-chart"')[1].split("</figure>")[0]
    this = figure.split('class="interval-row this"')[1].split("</g>")[0]
    assert 'stroke="#9a3412"' in this and 'font-weight="bold"' in this  # red-brown, bold name
    caption = _text(figure.split("<figcaption")[1].split(">", 1)[1])
    assert caption.startswith(
        "This region (red-brown, with a thicker line and its name in bold) among up to 5 regions "
        "ranked above it and 5 below it:"
    )
    assert "darker" not in page and "just above and below" not in page
    indonesian = _text(_indonesian(as_user(None)).get(REGION_A_PAGE).content)
    assert "Daerah ini (merah kecokelatan, dengan garis lebih tebal dan nama bercetak tebal)" in indonesian
    assert "paling banyak 5 daerah dengan peringkat di atasnya dan 5 di bawahnya" in indonesian


# --- 3. the planner names items first, the code small ----------------------------------------------


def test_the_planner_names_each_item_first_and_its_code_small(published, as_user, admin_a, world):
    """Hand example of the break points: ``output.opd_involvement`` → ``output.<wbr>opd_<wbr>involvement``."""
    assert breakable("output.opd_involvement") == "output.<wbr>opd_<wbr>involvement"
    assert breakable("a<b") == "a&lt;b"  # escaped
    page = as_user(admin_a).get(PLANNER).content.decode()
    rows = re.findall(r'<tr id="plan-([^"]+)">(.*?)</tr>', page, flags=re.S)
    assert rows
    items = world.cycle.framework.framework.items_by_code
    for code, row in rows:
        first = row.split("</td>")[0]
        label = first.split("<label>")[1].split("</label>")[0]
        assert _text(label) == items[code][1].label.en  # the readable name, in the label
        small = first.split('<code class="item-code">')[1].split("</code>")[0]
        # The code, small, breakable after its dots and underscores only (not "output.regulatio/n").
        assert small == re.sub(r"([._])", r"\1<wbr>", code) and code not in _text(label)
