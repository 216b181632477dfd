"""The chair's consolidation page: every member's latest score per item, mean, range, a
disagreement flag (range ≥ PANEL_DISAGREEMENT_RANGE, 2 by default) and append-only
consolidated scores with a mandatory reason.

Hand example: on baseline.legal_basis the chair gives 1, assessor2 3, assessor3 2 → mean 2,
range 2 → flagged at the default threshold, not at 3. Every other item gets 3 from everyone
→ range 0, never flagged."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from cityeval.web.panels.models import ConsolidatedScore
from cityeval.web.panels.tables import consolidated_table
from tests.helpers.panels import LEVEL_ITEM, STAGE

FLAGGED_ROW = f'<tr id="item-{LEVEL_ITEM}" class="flagged">'


@pytest.fixture
def marks(world, chair, assessor2, assessor3, submitted):
    submitted(chair, 3.0, {LEVEL_ITEM: 1})
    submitted(assessor2, 3.0, {LEVEL_ITEM: 3})
    submitted(assessor3, 3.0, {LEVEL_ITEM: 2})


def record(client, urls, **data):
    return client.post(urls.region("consolidation"), {"item": LEVEL_ITEM} | data)


def test_the_chair_sees_every_score_mean_range_and_flag(world, as_user, chair, marks, urls):
    page = as_user(chair).get(urls.region("consolidation"))
    assert page.status_code == 200
    content = page.content.decode()
    row = content[content.index(FLAGGED_ROW) :].split("</tr>")[0]
    for cell in (
        '<td class="num"><span title="">1.00</span>',
        '<span title="">3.00</span>',
        '<span title="">2.00</span>',
    ):
        assert cell in row
    assert row.count('<td class="num">2.00</td>') == 2  # mean (1 + 3 + 2) / 3 and range 3 − 1
    assert content.count('class="flagged"') == 1
    assert "1 item flagged" in content


@override_settings(PANEL_DISAGREEMENT_RANGE=3)
def test_the_threshold_is_a_setting(world, as_user, chair, marks, urls):
    content = as_user(chair).get(urls.region("consolidation")).content.decode()
    assert 'class="flagged"' not in content and "0 items flagged" in content


def test_flagged_only_filters_the_items(world, as_user, chair, marks, urls):
    content = as_user(chair).get(urls.region("consolidation") + "?flagged=1").content.decode()
    assert FLAGGED_ROW in content
    assert 'id="item-baseline.council_meeting"' not in content


def test_the_chair_needs_to_submit_first(world, as_user, chair, panel_region, urls):
    response = as_user(chair).get(urls.region("consolidation"))
    assert response.status_code == 403 and b"Submit your own marks first" in response.content
    assert record(as_user(chair), urls, score="2", reason="x").status_code == 403
    assert ConsolidatedScore.objects.count() == 0


def test_other_members_do_not_consolidate_even_after_submitting(world, as_user, assessor2, marks, urls):
    client = as_user(assessor2)
    assert client.get(urls.region("consolidation")).status_code == 403
    assert record(client, urls, score="2", reason="x").status_code == 403
    assert b'id="consolidation-link"' not in client.get(urls.region()).content
    assert ConsolidatedScore.objects.count() == 0


def test_the_coordinator_reads_the_consolidation_anytime_but_records_nothing(
    world, as_user, coordinator, chair, score_all, urls
):
    score_all(chair, 2.0)
    client = as_user(coordinator)
    page = client.get(urls.region("consolidation"))
    assert page.status_code == 200 and b'class="consolidate"' not in page.content
    assert record(client, urls, score="2", reason="x").status_code == 403
    assert ConsolidatedScore.objects.count() == 0


def test_a_consolidated_score_needs_a_reason(world, as_user, chair, marks, urls):
    response = record(as_user(chair), urls, score="2", reason="  ")
    assert response.status_code == 200
    assert ConsolidatedScore.objects.count() == 0


def test_a_consolidated_score_outside_the_scale_is_refused(world, as_user, chair, marks, urls):
    response = record(as_user(chair), urls, score="5", reason="too high")
    assert b"between 0 and 4" in response.content
    assert ConsolidatedScore.objects.count() == 0


def test_consolidated_scores_are_appended_and_the_latest_counts(world, as_user, chair, marks, urls):
    client = as_user(chair)
    assert record(client, urls, score="2", reason="Discussed: minutes exist").status_code == 302
    assert record(client, urls, score="2.5", reason="Decree found after the top-up").status_code == 302
    assert list(ConsolidatedScore.objects.order_by("id").values_list("score", "reason")) == [
        (2.0, "Discussed: minutes exist"),
        (2.5, "Decree found after the top-up"),
    ]
    assert consolidated_table(world.cycle, STAGE)["score"].to_list() == [2.5]
    content = client.get(urls.region("consolidation")).content.decode()
    assert "<strong>2.50</strong>" in content and "Decree found after the top-up" in content


def test_an_unknown_item_is_404(world, as_user, chair, marks, urls):
    response = as_user(chair).post(
        urls.region("consolidation"), {"item": "baseline.nope", "score": "2", "reason": "x"}
    )
    assert response.status_code == 404


def test_the_table_uses_one_number_format_per_language(
    world, as_user, chair, assessor2, assessor3, submitted, urls
):
    """Marks 2.5, 2 and 2.25 (mean 2.25, range 0.5) read 2,50 2,00 2,25 in Indonesian and
    2.50 2.00 2.25 in English: the page used to mix "2,50" (floatformat) with "2.25"."""
    submitted(chair, 3.0, {LEVEL_ITEM: 2.5})
    submitted(assessor2, 3.0, {LEVEL_ITEM: 2.0})
    submitted(assessor3, 3.0, {LEVEL_ITEM: 2.25})
    client = as_user(chair)
    for language, mark in (("id", ","), ("en", ".")):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        content = client.get(urls.region("consolidation")).content.decode()
        row = content[content.index(f'<tr id="item-{LEVEL_ITEM}"') :].split("</tr>")[0]
        for text in ("2{}50", "2{}00", "2{}25", "0{}50"):
            assert text.format(mark) in row, (language, text)
        other = "." if mark == "," else ","
        assert f"2{other}25" not in row and f"2{other}5" not in row
