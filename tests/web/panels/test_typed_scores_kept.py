"""On the scoring page, "needs evidence" is a button of the score form: pressing it saves the
scores typed so far, then marks the item. Before issue 11 it was a form of its own, and the
reload discarded every unsaved score on the page."""

from __future__ import annotations

from cityeval.web.panels.models import EvidenceRequest, ItemScore
from tests.helpers.panels import LEVEL_ITEM, THRESHOLD_ITEM


def test_the_needs_evidence_button_belongs_to_the_score_form(world, as_user, assessor2, panel_region, urls):
    page = as_user(assessor2).get(urls.region()).content.decode()
    assert f'form="scores-form" name="evidence_item" value="{LEVEL_ITEM}"' in page
    assert 'class="save-bar"' in page


def test_marking_an_item_saves_the_typed_scores_first(world, as_user, assessor2, panel_region, urls):
    data = {f"score-{LEVEL_ITEM}": "3", f"score-{THRESHOLD_ITEM}": "2.5", "evidence_item": THRESHOLD_ITEM}
    response = as_user(assessor2).post(urls.region("scores_save"), data)
    assert response.status_code == 302 and response["Location"].endswith(f"#item-{THRESHOLD_ITEM}")
    assert sorted(ItemScore.objects.values_list("item", "score")) == sorted(
        [(LEVEL_ITEM, 3.0), (THRESHOLD_ITEM, 2.5)]
    )
    assert list(EvidenceRequest.objects.values_list("item", flat=True)) == [THRESHOLD_ITEM]


def test_an_invalid_score_marks_nothing_and_keeps_what_was_typed(
    world, as_user, assessor2, panel_region, urls
):
    data = {f"score-{LEVEL_ITEM}": "9", f"score-{THRESHOLD_ITEM}": "2.5", "evidence_item": THRESHOLD_ITEM}
    response = as_user(assessor2).post(urls.region("scores_save"), data)
    assert response.status_code == 200 and 'value="2.5"' in response.content.decode()
    assert ItemScore.objects.count() == 0 and EvidenceRequest.objects.count() == 0


def test_outsiders_cannot_mark_through_the_score_form(world, as_user, assessor, admin_a, panel_region, urls):
    """The assessor on no panel and region A's admin get 404; nothing is saved or marked."""
    data = {f"score-{LEVEL_ITEM}": "3", "evidence_item": LEVEL_ITEM}
    for user in (assessor, admin_a):
        assert as_user(user).post(urls.region("scores_save"), data).status_code == 404
    assert ItemScore.objects.count() == 0 and EvidenceRequest.objects.count() == 0
