"""The scoring page keeps the region's cells and the panel's marks between requests
(``panels.scoring_cache``): every write through the real services shows on the next request;
two regions, two viewers, two languages never share a kept part; a blind member is never given
the others' marks; the access decisions are taken on every request (outsiders refused as
before, once the page is kept too).

Expected values by hand: the scores typed in each test, the texts of the fixtures."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cityeval.web.assessments.services import answer_record, evidence_link_add
from cityeval.web.panels import scoring_cache
from cityeval.web.panels.models import Panel, PanelMember, PanelRegion
from cityeval.web.panels.services import (
    conflict_declare,
    evidence_request_toggle,
    feedback_record,
    interview_record,
    item_scores_record,
    score_revise,
    scores_submit,
)
from tests.helpers.panels import LEVEL_ITEM, STAGE, THRESHOLD_ITEM

REGION_B = "kota-medan"


def _row(page, item: str = LEVEL_ITEM) -> str:
    content = page.content.decode()
    start = content.index(f'<tr id="item-{item}">')
    return content[start : content.index("</tr>", start)]


@pytest.fixture
def warm(as_user, urls):
    """``warm(user)``: the user's client, having opened region A's page once (so that the
    page's parts are kept)."""

    def _warm(user, region: str | None = None):
        client = as_user(user)
        page = client.get(urls.region(region=region) if region else urls.region())
        assert page.status_code == 200
        return client

    return _warm


def test_a_new_score_through_the_service_shows_on_the_next_request(
    world, chair, assessor2, panel_region, submitted, warm, urls
):
    """A member still marking sees their own new score in the inputs, a submitted member sees
    it among the others' marks; then a revision after discussion."""
    submitted(chair, 3.0)
    chair_client, client = warm(chair), warm(assessor2)
    item_scores_record(panel_region=panel_region, assessor=assessor2, scores={LEVEL_ITEM: (2.75, "mine")})
    row = _row(client.get(urls.region()))
    assert 'value="2.75"' in row and "mine</textarea>" in row and "1 revision" in row
    row = _row(chair_client.get(urls.region()))
    assert 'assessor2: <strong>2.75</strong> <span class="help">mine</span>' in row
    framework = world.cycle.framework.framework
    rest = {
        item.code: (2.0, "")
        for _component, item in framework.items_for(world.participation_a.group)
        if item.code != LEVEL_ITEM
    }
    item_scores_record(panel_region=panel_region, assessor=assessor2, scores=rest)
    scores_submit(panel_region=panel_region, assessor=assessor2)
    score_revise(panel_region=panel_region, assessor=assessor2, item=LEVEL_ITEM, score=1.5, reason="talked")
    row = _row(chair_client.get(urls.region()))
    assert "assessor2: <strong>1.50</strong>" in row and "talked" in row
    assert "2 revisions" in _row(client.get(urls.region()))


def test_a_new_answer_or_evidence_shows_on_the_next_request(world, chair, admin_a, panel_region, warm, urls):
    client = warm(chair)
    assert "No evidence" in _row(client.get(urls.region()))
    evidence_link_add(
        participation=world.participation_a, item=LEVEL_ITEM, url="https://example.org/new.pdf", user=admin_a
    )
    assert "https://example.org/new.pdf" in _row(client.get(urls.region()))
    answer_record(
        participation=world.participation_a,
        item=LEVEL_ITEM,
        level=2,
        raw_value=None,
        narrative="Perda 7/2023",
        user=admin_a,
    )
    row = _row(client.get(urls.region()))
    assert "Perda 7/2023" in row and "<strong>2.00</strong>" in row


def test_a_conflict_an_evidence_request_feedback_and_the_interview_show_on_the_next_request(
    world, chair, assessor2, coordinator, panel_region, submitted, warm, urls
):
    submitted(chair, 3.0)
    submitted(assessor2, 2.0)
    client = warm(chair)
    coordinator_client = warm(coordinator)
    conflict_declare(user=assessor2, region=world.region_a, reason="advises the region")
    assert "does not count: conflict of interest" in _row(client.get(urls.region()))
    evidence_request_toggle(panel_region=panel_region, item=THRESHOLD_ITEM, user=chair)
    assert "needs evidence" in _row(client.get(urls.region()), THRESHOLD_ITEM)
    feedback_record(
        panel_region=panel_region,
        assessor=chair,
        strengths="Open data portal",
        weaknesses="",
        recommendations="",
    )
    assert "Open data portal</textarea>" in client.get(urls.region()).content.decode()
    interview_record(
        panel_region=panel_region,
        scheduled_at=world.cycle.created_at,
        link="https://meet.example.org/abc",
        attendees="",
        notes="",
        evidence_topup_until=None,
    )
    assert 'value="https://meet.example.org/abc"' in coordinator_client.get(urls.region()).content.decode()


def test_a_blind_member_is_never_given_the_others_marks(
    chair, assessor2, panel_region, submitted, warm, urls
):
    """The chair (submitted) opens the page first, keeping every member's marks; assessor2,
    still marking, then sees only their own (none), and the chair's 3.5 nowhere."""
    submitted(chair, 3.5)
    assert "3.50" in _row(warm(chair).get(urls.region()))
    page = warm(assessor2).get(urls.region())
    assert "3.50" not in page.content.decode() and "3.5" not in _row(page)
    assert f'<input type="number" name="score-{LEVEL_ITEM}" min=' in _row(page)  # no value
    sheet = page.context["sheet"]  # nor are the others' marks in what the page was given
    assert not any(by for by in sheet.marks.values()) and sheet.assessors == []


@pytest.fixture
def panel_b(world, assessor) -> PanelRegion:
    """Panel 2 on region B, with the ``assessor`` persona as its chair."""
    panel = Panel.objects.create(cycle=world.cycle, stage=STAGE, name="Panel 2")
    PanelMember.objects.create(panel=panel, user=assessor, affiliation="university", is_chair=True)
    return PanelRegion.objects.create(panel=panel, participation=world.participation_b, stage=STAGE)


def test_two_regions_and_two_languages_do_not_share_a_kept_page(
    world, chair, assessor, admin_a, panel_region, panel_b, warm, urls
):
    answer_record(
        participation=world.participation_a, item=LEVEL_ITEM, level=3, raw_value=None, narrative="Only A",
        user=admin_a,
    )  # fmt: skip
    client = warm(chair)
    assert "Only A" in _row(client.get(urls.region()))
    other = warm(assessor, REGION_B)
    assert "Only A" not in other.get(urls.region(region=REGION_B)).content.decode()
    client.cookies["django_language"] = "id"
    indonesian = _row(client.get(urls.region()), THRESHOLD_ITEM)
    client.cookies["django_language"] = "en"
    english = _row(client.get(urls.region()), THRESHOLD_ITEM)
    assert "Tanpa bukti dukung" in indonesian and "No evidence" in english
    assert "No evidence" not in indonesian and "Tanpa bukti dukung" not in english


@pytest.mark.parametrize("outsider", ["assessor", "admin_a", "admin_b", "nobody"])
def test_outsiders_are_refused_as_before_once_the_page_is_kept(
    request, outsider, chair, coordinator, panel_region, panel_b, submitted, warm, as_user, urls
):
    """An assessor of another panel, regional admins and a user without a role: 404 on region
    A's page after its members and the coordinator opened it; anonymous: sent to log in."""
    submitted(chair, 3.0)
    warm(chair)
    warm(coordinator)
    assert as_user(request.getfixturevalue(outsider)).get(urls.region()).status_code == 404
    anonymous = as_user(None).get(urls.region())
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_a_kept_page_reads_no_score_answer_or_evidence_rows(chair, panel_region, submitted, warm, urls):
    """Cold: the page reads the scores, answers and evidence. Warm: only their versions (one
    query of counts and maxima), and the same HTML."""
    submitted(chair, 3.0)
    scoring_cache.forget()
    client = warm(chair)

    def read(sql: list[str], table: str) -> bool:
        return any(f'FROM "{table}"' in q and "COUNT(*)" not in q for q in sql)

    scoring_cache.forget()
    with CaptureQueriesContext(connection) as cold:
        first = client.get(urls.region()).content
    with CaptureQueriesContext(connection) as warm_queries:
        second = client.get(urls.region()).content
    cold_sql = [q["sql"] for q in cold]
    warm_sql = [q["sql"] for q in warm_queries]
    for table in ("panels_itemscore", "assessments_answerrevision", "assessments_evidence"):
        assert read(cold_sql, table) and not read(warm_sql, table), table
    assert len(warm_sql) < len(cold_sql)
    assert _no_tokens(first) == _no_tokens(second)


def _no_tokens(html: bytes) -> bytes:
    return re.sub(rb'(csrfmiddlewaretoken" value=|csrf[-_]token" content=)"[^"]*"', rb'\1""', html)


def test_a_region_heavier_than_the_budget_is_drawn_on_every_request_not_kept(
    world, chair, admin_a, panel_region, as_user, urls, monkeypatch
):
    """The kept cells are bounded in characters as well as in regions (a review: answers of
    10,000 characters an item made one region ~9 MB). A region over the budget is drawn and
    shown as before, and not kept; one under it is kept."""
    client = as_user(chair)
    scoring_cache.forget()
    light = client.get(urls.region()).content
    kept = scoring_cache._region_cells
    assert len(kept) == 1 and 0 < kept.weight <= kept.budget
    monkeypatch.setattr(kept, "budget", kept.weight - 1)  # this region is now too heavy
    scoring_cache.forget()
    heavy = client.get(urls.region()).content
    assert len(kept) == 0 and kept.weight == 0
    assert _no_tokens(heavy) == _no_tokens(light)


def test_my_panels_counts_follow_a_restored_database(world, chair, panel_region, as_user, urls):
    """Found by a review: "my panels" kept an assessor's counts under (rows, largest id) of
    their scores. A database restored to a copy without their one score (sequence too), then a
    score in another region, repeats both: the latest time is in the key as well now."""
    from cityeval.web.panels.models import ItemScore

    panel_b = Panel.objects.create(cycle=world.cycle, stage=STAGE, name="Panel 2")
    PanelMember.objects.create(panel=panel_b, user=chair, affiliation="university", is_chair=True)
    region_b = PanelRegion.objects.create(panel=panel_b, participation=world.participation_b, stage=STAGE)
    row = ItemScore.objects.create(panel_region=panel_region, item=LEVEL_ITEM, assessor=chair, score=3.0)
    client = as_user(chair)
    assert client.get(urls.mine).status_code == 200  # kept: region A 1 scored, region B 0
    ItemScore.objects.filter(pk=row.pk).delete()  # the restore: the row and its id are gone
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = %s WHERE name = 'panels_itemscore'", [row.pk - 1]
            )
        else:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('panels_itemscore', 'id'), %s, false)", [row.pk]
            )
    again = ItemScore.objects.create(panel_region=region_b, item=LEVEL_ITEM, assessor=chair, score=2.0)
    assert again.pk == row.pk
    page = client.get(urls.mine).content.decode()
    row_a = page[page.index("Kab. Deli Serdang") :].split("</tr>")[0]
    row_b = page[page.index("Kota Medan") :].split("</tr>")[0]
    assert '<td class="num">0 / ' in row_a and '<td class="num">1 / ' in row_b
