"""The scoring page's item rows and the rows of "my panels" are written in Python by two tags
(``scoring_rows``, ``my_panel_rows``) instead of a template loop of ~40-60 nodes a row: the same
HTML, escaped the same way, in either language, for every kind of row.

Oracle: the loops the templates had before, kept in ``oracles/`` and rendered here on the same
page context as the tags."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import User as AuthUser
from django.template import Context, Template

from cityeval.engine.framework import Component, Item
from cityeval.web.assessments.models import AnswerRevision, Evidence, EvidenceBlob
from cityeval.web.assessments.selectors import LatestAnswer, latest_answers
from cityeval.web.evaluations.models import Cycle, Stage
from cityeval.web.panels.access import PanelRegionAccess
from cityeval.web.panels.forms import ScoresForm, note_field, score_field
from cityeval.web.panels.models import Conflict, EvidenceRequest, ItemScore, ScoreSubmission
from cityeval.web.panels.scoresheet import (
    Mark,
    evidence_requests,
    latest_scores,
    proposal_for,
    score_revisions,
)
from cityeval.web.panels.scoring_cache import descriptors_html
from cityeval.web.surveys.selectors import impact_flags, plan_quality, proposed_levels
from tests.helpers.panels import LEVEL_ITEM, STAGE, THRESHOLD_ITEM

ORACLES = Path(__file__).parent / "oracles"
NEW_SCORING_ROWS = (
    "{% load panels_tags %}{% for block in blocks %}\n  <tbody>{% scoring_rows block.rows %}</tbody>\n"
    "{% endfor %}\n"
)
NEW_SCORING_TABLES = "{% load panels_tags %}{% scoring_tables blocks %}"
NEW_MY_PANEL_ROWS = "{% load panels_tags %}\n  <tbody>{% my_panel_rows rows %}</tbody>\n"


@dataclass(frozen=True)
class ScoringRow:
    component: Component
    item: Item
    answer: LatestAnswer | None
    evidence: list[Evidence]
    proposal: float | None
    survey_flags: list[str]  # the impact survey's quality flags for this item's form
    mine: Mark | None
    others: list[Mark]  # always empty while the viewer is blind
    needs_evidence: bool


def scoring_rows(access: PanelRegionAccess, viewer: AuthUser) -> list[ScoringRow]:
    """The oracle's rows: the items of the region's group with its self-assessment, the
    proposal, the viewer's own latest score and, only if the blind rule allows, the other
    members' latest scores, read from the database each time, as the page read them before it
    drew them from what ``scoring_cache`` keeps (the page's code until December 2026)."""
    participation = access.participation
    framework = access.framework
    answers = latest_answers(participation)
    quality = plan_quality(participation)  # once per request: it reads every response
    survey = proposed_levels(participation, quality=quality) or {}
    flags = impact_flags(participation, quality=quality)
    evidence: dict[str, list[Evidence]] = defaultdict(list)
    for row in (
        Evidence.objects.filter(participation=participation)
        .select_related("blob")
        .order_by("uploaded_at", "id")
    ):
        evidence[row.item].append(row)
    scores = latest_scores(access.panel_region, assessor=None if access.sees_all_scores else viewer)
    requested = evidence_requests(access.panel_region)
    viewer_id = viewer.pk
    rows = []
    for component, item in framework.items_for(participation.group):
        by_assessor = scores.get(item.code, {})
        mine = by_assessor.get(viewer_id)
        others = (
            []
            if not access.sees_all_scores
            else sorted(
                (s for uid, s in by_assessor.items() if uid != viewer_id),
                key=lambda s: s.assessor.get_username(),
            )
        )
        answer = answers.get(item.code)
        rows.append(
            ScoringRow(
                component=component,
                item=item,
                answer=answer,
                evidence=evidence.get(item.code, []),
                proposal=proposal_for(framework, item, answer, survey),
                survey_flags=flags.get(item.code, []),
                mine=mine,
                others=others,
                needs_evidence=item.code in requested,
            )
        )
    return rows


def _both(response, new: str, oracle: str) -> tuple[str, str]:
    """The rows as the tag writes them and as the old loop wrote them, on the page's context
    (the page template's, not that of a template it rendered inside). The scoring page's old
    loop is given what the page read before its rows were kept between requests: the rows of
    ``scoring_rows`` below, read now, uncached."""
    assert response.status_code == 200
    page = next(c for c in response.context if "blocks" in c or "is_assessor" in c)
    data = page.flatten()
    old_data = _uncached_sheet(data, response.wsgi_request.user) if "sheet" in data else data
    old = Template((ORACLES / oracle).read_text()).render(Context(old_data))
    return Template(new).render(Context(data)), old


def _uncached_sheet(data: dict, viewer) -> dict:
    """The scoring page's context as the page built it before (rows, score form, descriptors,
    revisions), read from the database now."""
    access = data["access"]
    rows = scoring_rows(access, viewer)
    form = data["sheet"].scores_form
    if form is None and data["can_mark_first"]:
        initial = {}
        for row in rows:
            if row.mine is not None:
                initial[score_field(row.item.code)] = row.mine.score
                initial[note_field(row.item.code)] = row.mine.note
        codes = [row.item.code for row in rows]
        form = ScoresForm(initial=initial, codes=codes, framework=access.framework)
    blocks: dict[str, dict] = {}
    for row in rows:
        code = row.item.code
        fields = (form[score_field(code)], form[note_field(code)]) if form is not None else (None, None)
        blocks.setdefault(row.component.code, {"component": row.component, "rows": []})["rows"].append(
            (row, *fields)
        )
    digest = access.cycle.framework.digest
    return data | {
        "blocks": list(blocks.values()),
        "scores_form": form or data["scores_form"],
        "revisions": score_revisions(access.panel_region, viewer) if access.member else {},
        "descriptors": {row.item.code: descriptors_html(access.framework, digest, row.item) for row in rows},
    }


@pytest.fixture
def rich_sheet(world, admin_a, chair, assessor2, assessor3, panel_region, submitted):
    """Region A with every kind of row: a claimed level with a narrative holding markup, a
    percent value, no level, a link and a file as evidence, an item marked as needing evidence;
    chair and assessor2 submitted (assessor2 revised one mark after discussion, with a note),
    assessor3 declared a conflict of interest and scored half the items without submitting."""
    participation = world.participation_a
    AnswerRevision.objects.create(
        participation=participation, item=LEVEL_ITEM, level=3, narrative="<b>Perbup</b> 12 & 13\nline two",
        author=admin_a,
    )  # fmt: skip
    AnswerRevision.objects.create(
        participation=participation, item=THRESHOLD_ITEM, raw_value=65.25, author=admin_a
    )
    blob = EvidenceBlob.objects.create(
        sha256="0" * 64, file="e/x.pdf", size=1, content_type="application/pdf"
    )
    link = "https://example.org/?a=1&b=<2>"
    Evidence.objects.create(participation=participation, item=LEVEL_ITEM, url=link, uploaded_by=admin_a)
    name = 'a "b" <c>.pdf'
    Evidence.objects.create(
        participation=participation, item=LEVEL_ITEM, blob=blob, original_name=name, uploaded_by=admin_a
    )
    EvidenceRequest.objects.create(panel_region=panel_region, item=THRESHOLD_ITEM, requested_by=chair)
    submitted(chair, 3.0)
    submitted(assessor2, 2.0)
    revision = {"kind": ItemScore.Kind.AFTER_DISCUSSION, "reason": "after <talk>", "note": "kept & <noted>"}
    ItemScore.objects.create(
        panel_region=panel_region, item=LEVEL_ITEM, assessor=assessor2, score=3.5, **revision
    )
    Conflict.objects.create(user=assessor3, region=participation.region, reason="advises the region")
    codes = [item.code for _c, item in participation.cycle.framework.framework.items_for(participation.group)]
    ItemScore.objects.bulk_create(
        ItemScore(panel_region=panel_region, item=code, assessor=assessor3, score=1.0, note="n <1>")
        for code in codes[: len(codes) // 2]
    )
    return panel_region


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("viewer", ["chair", "assessor2", "assessor3", "coordinator"])
def test_the_scoring_rows_are_the_old_loops_html(request, language, viewer, rich_sheet, as_user, urls):
    """A submitted member (the chair: marks and a revision form each), another (with a revised
    mark), a conflicted member still scoring (read only), and the coordinator (every mark)."""
    client = as_user(request.getfixturevalue(viewer))
    client.cookies["django_language"] = language
    new, old = _both(client.get(urls.region()), NEW_SCORING_ROWS, "scoring_rows.html")
    assert new == old
    assert "&lt;b&gt;Perbup&lt;/b&gt; 12 &amp; 13<br>line two" in new and "<b>Perbup" not in new
    assert "https://example.org/?a=1&amp;b=&lt;2&gt;" in new and "a &quot;b&quot; &lt;c&gt;.pdf" in new


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_score_inputs_and_their_errors_are_the_old_loops_html(
    language, world, as_user, chair, panel_region, urls
):
    """A member giving first marks: the inputs with typed values and the errors of a rejected
    post, and a revision refused with its errors shown in its own row."""
    client = as_user(chair)
    client.cookies["django_language"] = language
    ItemScore.objects.create(
        panel_region=panel_region, item=LEVEL_ITEM, assessor=chair, score=2.25, note="a & b"
    )
    posted = client.post(
        urls.region("scores_save"), {f"score-{LEVEL_ITEM}": "abc", f"note-{THRESHOLD_ITEM}": "a note <i>"}
    )
    new, old = _both(posted, NEW_SCORING_ROWS, "scoring_rows.html")
    assert new == old and 'class="errorlist' in new and "a note &lt;i&gt;" in new
    ScoreSubmission.objects.create(panel_region=panel_region, assessor=chair)
    refused = client.post(urls.region("revise"), {"item": LEVEL_ITEM, "score": "x", "reason": ""})
    new, old = _both(refused, NEW_SCORING_ROWS, "scoring_rows.html")
    assert new == old and '<details class="revise" open>' in new


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("state", ["open", "deadline", "submitted", "closed", "published"])
def test_my_panel_rows_are_the_old_loops_html(language, state, world, as_user, chair, panel_region, urls):
    """The chair's row: due by the stage's last day or its deadline (late in the evening UTC:
    the next day in Jakarta), marks submitted, the cycle closed or published."""
    client = as_user(chair)
    client.cookies["django_language"] = language
    world.participation_a.submitted_at = dt.datetime(2024, 6, 30, 23, 30, tzinfo=dt.UTC)
    world.participation_a.save()
    if state == "deadline":
        Stage.objects.filter(cycle=world.cycle, kind=STAGE).update(
            deadline=dt.datetime(2024, 11, 22, 17, 0, tzinfo=dt.UTC)
        )
    if state == "submitted":
        ScoreSubmission.objects.create(panel_region=panel_region, assessor=chair)
    if state in ("closed", "published"):
        Cycle.objects.filter(pk=world.cycle.pk).update(status=state)
    new, old = _both(client.get(urls.mine), NEW_MY_PANEL_ROWS, "my_panel_rows.html")
    assert new == old and "<tr>" in new


def test_the_rows_are_written_in_the_pages_language(world, as_user, chair, panel_region, urls):
    """The tags translate their texts in the request's language, not once per process."""
    client = as_user(chair)
    client.cookies["django_language"] = "id"
    indonesian = client.get(urls.region()).content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(urls.region()).content.decode()
    assert "Tanpa bukti dukung" in indonesian and "No evidence" in english
    assert "Tanpa bukti dukung" not in english


def test_the_score_inputs_are_written_as_djangos_templates_write_them(world):
    """The score form's renderer writes its number inputs, text areas and empty error lists in
    Python; Django's default renderer (its templates) is the oracle, for empty, typed, rejected
    and marked-up values, and for lists that hold errors (left to the templates)."""
    from django.forms.renderers import get_default_renderer

    from cityeval.web.panels.forms import ScoresForm, note_field, score_field

    framework = world.cycle.framework.framework
    codes = [item.code for _c, item in framework.items_for(world.participation_a.group)][:4]
    data = {
        score_field(codes[0]): "2.5",
        note_field(codes[0]): 'a "quoted" <note> & more\nline',
        score_field(codes[1]): "abc",
        note_field(codes[2]): "a note without a score",
    }
    initial = {score_field(codes[3]): 1.25, note_field(codes[3]): "<initial>"}
    for bound in (False, True):
        args = (data,) if bound else ()
        fast = ScoresForm(*args, initial=initial, codes=codes, framework=framework)
        slow = ScoresForm(
            *args, initial=initial, codes=codes, framework=framework, renderer=get_default_renderer()
        )
        assert fast.renderer is not slow.renderer and fast.renderer.djangos_own
        if bound:
            assert not fast.is_valid() and not slow.is_valid()
        for name in fast.fields:
            assert str(fast[name]) == str(slow[name])
            assert str(fast[name].errors) == str(slow[name].errors)
        assert str(fast.non_field_errors()) == str(slow.non_field_errors())
    assert 'value="2.5"' in str(fast[score_field(codes[0])])
    assert "a &quot;quoted&quot; &lt;note&gt; &amp; more\nline</textarea>" in str(fast[note_field(codes[0])])
    assert 'class="errorlist' in str(slow[score_field(codes[1])].errors)


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_score_inputs_of_a_member_still_marking_are_the_old_loops_html(
    language, world, as_user, chair, panel_region, urls
):
    """A member giving first marks, on the page (not a post): the inputs hold their latest
    score and note (escaped), none for the items not scored, written from the inputs kept per
    framework with the values filled in."""
    client = as_user(chair)
    client.cookies["django_language"] = language
    ItemScore.objects.create(panel_region=panel_region, item=LEVEL_ITEM, assessor=chair, score=1.0)
    ItemScore.objects.create(
        panel_region=panel_region, item=LEVEL_ITEM, assessor=chair, score=2.25, note='a & "b" <c>'
    )
    ItemScore.objects.create(panel_region=panel_region, item=THRESHOLD_ITEM, assessor=chair, score=3.0)
    for _request in range(2):  # the inputs drawn, then kept
        new, old = _both(client.get(urls.region()), NEW_SCORING_ROWS, "scoring_rows.html")
        assert new == old
    assert 'value="2.25"' in new and "a &amp; &quot;b&quot; &lt;c&gt;</textarea>" in new
    assert f'name="score-{THRESHOLD_ITEM}" value="3.0"' in new and "2 revisi" in new


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("viewer", ["chair", "assessor3", "coordinator"])
def test_the_scoring_tables_are_the_old_loops_html(request, language, viewer, rich_sheet, as_user, urls):
    """The item tables (heading, frame, head, rows) of a submitted member (with the others'
    column), a member still marking and the coordinator: the page's old loop over the blocks
    (``oracles/scoring_tables.html``, its rows by ``scoring_rows``) on the same context."""
    client = as_user(request.getfixturevalue(viewer))
    client.cookies["django_language"] = language
    response = client.get(urls.region())
    data = next(c for c in response.context if "blocks" in c).flatten()
    oracle = (ORACLES / "scoring_tables.html").read_text().removesuffix("\n")  # the file's last newline
    old = Template(oracle).render(Context(data))
    new = Template(NEW_SCORING_TABLES).render(Context(data))
    assert new == old and new.count('<table class="scoring">') == len(data["blocks"])
