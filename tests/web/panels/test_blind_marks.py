"""Blind first marks are final (issue 8, item 4).

After submitting, a member's first marks are frozen; a change is an after-discussion revision
with its reason, kept beside the first mark. The rule: results count the latest revision if
any, else the first mark (plus the chair's consolidated score); agreement uses first marks.
Marks of an assessor with a conflict of interest with the region do not count.

Hand example (gmsc-2024, REGULER; weights baseline 10, the other components 90 in all): the
three members give every item 3 except ``baseline.legal_basis``, first marks chair 1,
assessor2 3, assessor3 2; after discussion the chair revises it to 2.

- Counted marks 2, 3, 2 → item 7/3; baseline = (7/3 + 4·3)/5 = 43/15; final = 0.1·43/15 +
  0.9·3 = 2.98666…  (with the first marks it would be 0.1·(2 + 12)/5 + 2.7 = 2.98).
- ICC(2,1) of the baseline on first marks, 5 items × 3 assessors: grand mean 2.8; item means
  2, 3, 3, 3, 3; assessor means 2.6, 3, 2.8. SS total = 3.24 + 0.04 + 0.64 + 12·0.04 = 4.4,
  SS items = 3·(0.64 + 4·0.04) = 2.4, SS assessors = 5·(0.04 + 0.04 + 0) = 0.4, SS error = 1.6;
  MS items = 0.6, MS assessors = 0.2, MS error = 0.2: ICC = (0.6 − 0.2)/(0.6 + 2·0.2 + 3·0/5)
  = 0.4. (On the counted marks it would be 0.2/0.4 = 0.5.)
"""

from __future__ import annotations

import datetime as dt
import importlib
import json

import pytest
from django.apps import apps

from cityeval.web.evaluations.models import Cycle
from cityeval.web.panels.models import Conflict, ItemScore, ScoreSubmission
from cityeval.web.panels.services import PanelRejected, ScoreRejected, score_revise
from cityeval.web.panels.tables import scores_table
from cityeval.web.results.models import AgreementResult, RegionResult
from cityeval.web.results.services import results_compute
from tests.helpers.panels import LEVEL_ITEM, STAGE

OUTSIDERS = ["assessor", "admin_a", "opd_a", "admin_b", "nobody"]
REASON = "Minutes of the council meeting shown in the interview"


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def marks(world, chair, assessor2, assessor3, submitted):
    submitted(chair, 3.0, {LEVEL_ITEM: 1})
    submitted(assessor2, 3.0, {LEVEL_ITEM: 3})
    submitted(assessor3, 3.0, {LEVEL_ITEM: 2})


def revise(client, urls, **data):
    return client.post(urls.region("revise"), {"item": LEVEL_ITEM} | data)


def kinds(item=LEVEL_ITEM, assessor=None):
    rows = ItemScore.objects.filter(item=item)
    if assessor is not None:
        rows = rows.filter(assessor=assessor)
    return list(rows.order_by("id").values_list("kind", "score", "reason"))


# --- first marks are final ---------------------------------------------------------------------------


def test_the_api_refuses_to_overwrite_a_submitted_first_mark(world, as_user, chair, marks, urls):
    client = as_user(chair)
    response = post_json(client, urls.api_scores(), {"item": LEVEL_ITEM, "score": 3})
    assert response.status_code == 403 and "first marks are submitted and final" in response.json()["detail"]
    same = post_json(client, urls.api_scores(), {"item": LEVEL_ITEM, "score": 1})
    assert same.status_code == 200  # the submitted mark sent again changes nothing
    assert kinds(assessor=chair) == [("first", 1.0, "")]


# --- after-discussion revisions -------------------------------------------------------------------------


def test_a_revision_needs_a_reason_and_is_kept_beside_the_first_mark(world, as_user, chair, marks, urls):
    client = as_user(chair)
    response = revise(client, urls, score="2", reason="  ")
    assert response.status_code == 200 and b"Give the reason for the revision" in response.content
    assert kinds(assessor=chair) == [("first", 1.0, "")]
    assert revise(client, urls, score="2", reason=REASON).status_code == 302
    assert kinds(assessor=chair) == [("first", 1.0, ""), ("after_discussion", 2.0, REASON)]
    row = client.get(urls.region()).content.decode()
    row = row[row.index(f'id="item-{LEVEL_ITEM}"') :].split("</tr>")[0]
    assert "<strong>2.00</strong>" in row and "first mark 1.00 · after discussion: " + REASON in row


def test_a_revision_through_the_api(world, as_user, chair, marks, urls):
    client = as_user(chair)
    data = {"item": LEVEL_ITEM, "score": 2, "kind": "after_discussion"}
    missing = post_json(client, urls.api_scores(), data)
    assert missing.status_code == 422 and "reason" in missing.json()["errors"]
    response = post_json(client, urls.api_scores(), data | {"reason": REASON})
    assert response.status_code == 201
    body = response.json()
    assert (body["score"], body["first_score"], body["kind"], body["reason"], body["counts"]) == (
        2.0, 1.0, "after_discussion", REASON, True,
    )  # fmt: skip
    assert kinds(assessor=chair) == [("first", 1.0, ""), ("after_discussion", 2.0, REASON)]


def test_there_is_no_revision_before_submitting(world, as_user, chair, score_all, urls, panel_region):
    score_all(chair, 3.0)
    client = as_user(chair)
    assert revise(client, urls, score="2", reason=REASON).status_code == 403
    data = {"item": LEVEL_ITEM, "score": 2, "kind": "after_discussion", "reason": REASON}
    assert post_json(client, urls.api_scores(), data).status_code == 403
    with pytest.raises(PanelRejected):
        score_revise(panel_region=panel_region, assessor=chair, item=LEVEL_ITEM, score=2, reason=REASON)
    assert ItemScore.objects.filter(kind="after_discussion").count() == 0


def test_a_revision_to_the_counted_mark_is_refused(world, chair, marks, panel_region):
    with pytest.raises(ScoreRejected) as refused:
        score_revise(panel_region=panel_region, assessor=chair, item=LEVEL_ITEM, score=1, reason=REASON)
    assert "score" in refused.value.errors
    assert ItemScore.objects.filter(kind="after_discussion").count() == 0


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_get_404_on_the_revision(request, world, as_user, marks, urls, name):
    response = revise(as_user(request.getfixturevalue(name)), urls, score="2", reason=REASON)
    assert response.status_code == 404
    assert ItemScore.objects.filter(kind="after_discussion").count() == 0


def test_the_coordinator_and_anonymous_do_not_revise(world, as_user, coordinator, marks, urls):
    assert revise(as_user(coordinator), urls, score="2", reason=REASON).status_code == 403
    anonymous = revise(as_user(None), urls, score="2", reason=REASON)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert ItemScore.objects.filter(kind="after_discussion").count() == 0


def test_a_conflicted_member_does_not_revise(world, as_user, assessor3, marks, urls):
    Conflict.objects.create(user=assessor3, region=world.region_a, reason="Advises the region")
    assert revise(as_user(assessor3), urls, score="3", reason=REASON).status_code == 403
    assert ItemScore.objects.filter(kind="after_discussion").count() == 0


def test_the_chair_sees_first_mark_and_revision_side_by_side(
    world, as_user, chair, marks, panel_region, urls
):
    score_revise(panel_region=panel_region, assessor=chair, item=LEVEL_ITEM, score=2, reason=REASON)
    content = as_user(chair).get(urls.region("consolidation")).content.decode()
    row = content[content.index(f'id="item-{LEVEL_ITEM}"') :].split("</tr>")[0]
    assert f'<span title="">1.00</span> → <strong class="revised" title="{REASON}">2.00</strong>' in row
    assert '<td class="num">2.33</td>' in row  # mean of the counted marks 2, 3, 2


# --- which marks feed what -------------------------------------------------------------------------------


def test_results_count_revisions_and_agreement_uses_first_marks(
    world, chair, marks, panel_region, coordinator
):
    """The hand example of the module docstring."""
    score_revise(panel_region=panel_region, assessor=chair, item=LEVEL_ITEM, score=2, reason=REASON)
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    run = results_compute(cycle=Cycle.objects.get(pk=world.cycle.pk), user=coordinator)
    a = RegionResult.objects.get(run=run, region=world.region_a)
    assert a.components["baseline"] == pytest.approx(43 / 15, abs=1e-12)
    assert a.final == pytest.approx(0.1 * 43 / 15 + 0.9 * 3, abs=1e-12)
    baseline = AgreementResult.objects.get(run=run, component="baseline")
    assert baseline.icc2 == pytest.approx(0.4, abs=1e-12)
    assert (baseline.n_units, baseline.n_coders) == (5, 3)
    assert run.parameters["agreement_marks"] == "first"


# --- conflicts of interest -------------------------------------------------------------------------------


@pytest.fixture
def conflicted_marks(world, chair, assessor2, assessor3, submitted):
    """legal_basis: chair 1, assessor2 2, assessor3 3 → range 2, flagged; without assessor3's
    mark 1, 2 → mean 1.5, range 1, not flagged."""
    submitted(chair, 3.0, {LEVEL_ITEM: 1})
    submitted(assessor2, 3.0, {LEVEL_ITEM: 2})
    submitted(assessor3, 3.0, {LEVEL_ITEM: 3})


def test_marks_given_before_a_declared_conflict_no_longer_count(
    world, as_user, chair, assessor3, conflicted_marks, urls, coordinator
):
    page = as_user(chair).get(urls.region("consolidation")).content.decode()
    assert f'<tr id="item-{LEVEL_ITEM}" class="flagged">' in page
    Conflict.objects.create(user=assessor3, region=world.region_a, reason="Advises the region")
    page = as_user(chair).get(urls.region("consolidation")).content.decode()
    row = page[page.index(f'id="item-{LEVEL_ITEM}"') :].split("</tr>")[0]
    assert 'class="flagged"' not in page and '<td class="num">1.50</td>' in row
    assert 'id="excluded"' in page and "Marks of assessor3 do not count" in page
    assert "assessor3" not in scores_table(world.cycle, STAGE)["assessor"].to_list()
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    run = results_compute(cycle=Cycle.objects.get(pk=world.cycle.pk), user=coordinator)
    a = RegionResult.objects.get(run=run, region=world.region_a)
    assert a.components["baseline"] == pytest.approx((1.5 + 4 * 3) / 5, abs=1e-12)
    assert AgreementResult.objects.get(run=run, component="baseline").n_coders == 2
    assert run.parameters["excluded_assessors"] == [["Kab. Deli Serdang", "assessor3"]]


def test_the_scoring_page_says_a_conflicted_members_marks_do_not_count(
    world, as_user, chair, assessor3, conflicted_marks, urls
):
    Conflict.objects.create(user=assessor3, region=world.region_a, reason="Advises the region")
    page = as_user(chair).get(urls.region()).content.decode()
    row = page[page.index(f'id="item-{LEVEL_ITEM}"') :].split("</tr>")[0]
    assert "assessor3: <strong>3.00</strong>" in row and "does not count: conflict of interest" in row


def test_the_migration_keeps_overwrites_after_submission_as_revisions(world, chair, marks, panel_region):
    """Rows written after a submission before this change were overwrites of first marks: the
    migration turns them into after-discussion revisions, so the first marks are the blind ones."""
    migration = importlib.import_module("cityeval.web.panels.migrations.0002_item_score_kind_and_reason")
    submitted_at = ScoreSubmission.objects.get(assessor=chair).submitted_at
    later = ItemScore.objects.create(panel_region=panel_region, item=LEVEL_ITEM, assessor=chair, score=3)
    ItemScore.objects.filter(pk=later.pk).update(created_at=submitted_at + dt.timedelta(minutes=5))
    ItemScore.objects.filter(assessor=chair).exclude(pk=later.pk).update(
        created_at=submitted_at - dt.timedelta(minutes=5)
    )
    migration.mark_later_rows(apps, None)
    assert kinds(assessor=chair) == [("first", 1.0, ""), ("after_discussion", 3.0, migration.LEGACY_REASON)]
    assert ItemScore.objects.filter(assessor=chair, kind="first").count() == 111
