"""Issue 10's web fixes at national scale, on the national fixture loaded small: the survey
quality report computed once per plan and cached until a response arrives, a valid score
post that does not build the page, staleness decided without reading every score, "my
panels" without the framework YAML per row, and the OpenAPI document built once."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.template import Context, Template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from cityeval.web.accounts.models import Membership, Role
from cityeval.web.api import api
from cityeval.web.panels.forms import score_field
from cityeval.web.panels.models import ItemScore, PanelRegion, ScoreSubmission
from cityeval.web.panels.scoresheet import Mark
from cityeval.web.results.national import CYCLE, load_national
from cityeval.web.surveys import selectors
from cityeval.web.surveys.models import Response, SurveyForm, SurveyPlan

pytestmark = pytest.mark.django_db

SCORING = f"/panels/cycles/{CYCLE}/stage_2/region-002/"


@pytest.fixture
def national(db):
    cache.clear()
    load_national(regions=5, responses=5 * 18 * 2, assessors=5, say=lambda _: None)


def _as(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def checks(monkeypatch) -> list[int]:
    """Counts the engine's survey quality checks run by the web app."""
    calls: list[int] = []
    real = selectors.check_responses

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(selectors, "check_responses", counted)
    return calls


def _submit(token: str, phone: str) -> None:
    client = Client()
    start = client.get(f"/api/survey/{token}/start").json()
    form = SurveyForm.objects.get(token=token)
    body = {"response_id": start["response_id"], "started": start["started"], "used_service": True,
            "answers": {code: 3 for code in form.statements}, "phone": phone}  # fmt: skip
    response = client.post(
        f"/api/survey/{token}/responses", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.content


def test_scoring_page_checks_the_survey_once_until_a_response_arrives(national, checks):
    """Old code: two checks per view (proposals and flags), every view. Now: one check for
    the first view, none for the second, one more after a new response, which it counts."""
    client = _as("asesor01")
    assert client.get(SCORING).status_code == 200
    assert client.get(SCORING).status_code == 200
    assert len(checks) == 1
    plan = SurveyPlan.objects.get(participation__region__slug="region-002")
    form = plan.forms.order_by("id").first()
    before = selectors.quality_of(plan).forms.filter(form=form.code)["n_received"].item()
    _submit(form.token, "081200000001")
    assert client.get(SCORING).status_code == 200
    assert len(checks) == 2
    assert selectors.quality_of(plan).forms.filter(form=form.code)["n_received"].item() == before + 1
    assert len(checks) == 2  # the page's report was kept for the next reader


def test_the_cached_report_equals_a_fresh_one(national):
    """Read back from the cache, the report holds the same tables and mappings as computed."""
    plan = SurveyPlan.objects.get(participation__region__slug="region-003")
    fresh = selectors.quality_of(plan)
    cached = selectors.quality_of(plan)
    assert cached is not fresh
    assert cached.responses.equals(fresh.responses) and cached.forms.equals(fresh.forms)
    assert dict(cached.cross_form) == dict(fresh.cross_form)
    assert dict(cached.parameters) == dict(fresh.parameters)


def test_a_valid_score_post_is_saved_without_checking_the_survey(national, checks):
    """Old code built the scoring rows (two survey checks) before validating; a valid post
    now saves and redirects without them."""
    ScoreSubmission.objects.filter(
        assessor__username="asesor01", panel_region__participation__region__slug="region-002"
    ).delete()
    response = _as("asesor01").post(SCORING + "scores/", {score_field("baseline.1"): "3"})
    assert response.status_code == 302
    assert checks == []


def test_staleness_is_decided_without_reading_the_scores(national):
    """The national results page, as the coordinator: with nothing changed since the compute,
    no query reads the score table (old code joined every score of the cycle with the
    conflicted pairs on every view). A regional role given meanwhile to an assessor who
    scored the region still makes the results out of date."""
    client = _as("koordinator")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/results/{CYCLE}/")
    assert response.status_code == 200 and response.context["stale"] is False
    assert not [q["sql"] for q in queries if "panels_itemscore" in q["sql"]]
    assessor = get_user_model().objects.get(username="asesor01")
    Membership.objects.create(
        user=assessor, role=Role.REGIONAL_ADMIN, region_id=response.context["run"].regions.first().region_id
    )
    assert client.get(f"/results/{CYCLE}/").context["stale"] is True


def test_my_panels_does_not_read_the_framework_yaml_per_row(national):
    """The list's query reads only the columns it shows: no join to the framework versions
    (whose YAML is ~45 KB a row); the framework is read once."""
    with CaptureQueriesContext(connection) as queries:
        response = _as("asesor01").get("/panels/")
    assert response.status_code == 200 and len(response.context["rows"]) == 5
    listing = [q["sql"] for q in queries if 'FROM "panels_panelregion"' in q["sql"]]
    assert listing and not [sql for sql in listing if "evaluations_frameworkversion" in sql]
    assert sum('"evaluations_frameworkversion"."source"' in q["sql"] for q in queries) == 1


def test_openapi_document_is_built_once_per_process(monkeypatch):
    """Old code rebuilt the document on every request; now the second request reuses it."""
    api.__dict__.pop("_schemas", None)
    builds: list[int] = []
    real = type(api).__mro__[1].get_openapi_schema

    def counted(self, **kwargs):
        builds.append(1)
        return real(self, **kwargs)

    monkeypatch.setattr(type(api).__mro__[1], "get_openapi_schema", counted)
    first = Client().get("/api/openapi.json")
    second = Client().get("/api/openapi.json")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and "paths" in first.json()
    assert len(builds) == 1


def test_one_regions_item_table_reads_only_its_own_result_line(national):
    """The region results page's item table: old code read every region's result line (550
    at national scale, with their JSON) to name one region's items; now only that region's."""
    from cityeval.web.results.models import ResultRun
    from cityeval.web.results.selectors import items_table

    run = ResultRun.objects.get(cycle__slug=CYCLE, is_current=True)
    line = run.regions.select_related("region").get(region__slug="region-002")
    with CaptureQueriesContext(connection) as queries:
        table = items_table(run, region_id=line.region_id)
    lines = [q["sql"] for q in queries if 'FROM "results_regionresult"' in q["sql"]]
    assert lines and all(re.search(r'"results_regionresult"\."region_id" = \d+', sql) for sql in lines)
    assert set(table["region"].to_list()) == {line.region.name} and table.height == 111


def test_my_panels_counts_the_scored_items_in_the_database(national):
    """The list counts each region's scored items with one grouped query per group instead of reading
    every mark (12,000 rows for an assessor at national scale). Oracle: the distinct items of
    the region's group among the assessor's rows, counted here in Python; a revision (a second
    row of an item) and a row of an item outside the group change nothing."""
    user = get_user_model().objects.get(username="asesor01")
    rows = ItemScore.objects.filter(assessor=user, panel_region__participation__region__slug="region-002")
    panel_region = rows.first().panel_region
    participation = panel_region.participation
    codes = {i.code for _c, i in participation.cycle.framework.framework.items_for(participation.group)}
    first = rows.order_by("item").first()
    ItemScore.objects.create(panel_region=panel_region, item=first.item, assessor=user, score=2.0,
                             kind=ItemScore.Kind.AFTER_DISCUSSION, reason="after the discussion")  # fmt: skip
    ItemScore.objects.create(panel_region=panel_region, item="not.in.the.group", assessor=user, score=1.0)
    expected = {}
    for pr in PanelRegion.objects.filter(panel__members__user=user).select_related("participation__cycle"):
        group_items = pr.participation.cycle.framework.framework.items_for(pr.participation.group)
        marked = set(ItemScore.objects.filter(assessor=user, panel_region=pr).values_list("item", flat=True))
        expected[pr.id] = len(marked & {i.code for _c, i in group_items})
    with CaptureQueriesContext(connection) as queries:
        response = _as("asesor01").get("/panels/")
    shown = {
        row.panel_region.id: (row.scored, row.expected) for row, _stage, _left in response.context["rows"]
    }
    assert {pr: scored for pr, (scored, _e) in shown.items()} == expected
    assert shown[panel_region.id] == (len(set(rows.values_list("item", flat=True)) & codes), len(codes))
    reads = [q["sql"] for q in queries if 'FROM "panels_itemscore"' in q["sql"]]
    groups = set(PanelRegion.objects.filter(panel__members__user=user).values_list("participation__group"))
    counts = [read for read in reads if "COUNT(DISTINCT" in read]
    assert len(counts) == len(groups) and len(reads) == len(groups) + 1  # one per group, the version


def test_proposed_levels_are_computed_once_until_a_response_arrives(national, monkeypatch):
    """The scoring page's survey proposals (the means of the valid answers) are cached beside
    the quality report: a second view computes nothing; a new response gives new numbers, the
    mean with the new answer (by hand: the previous mean times the valid count, plus 4, over
    one more), never the cached ones."""
    calls: list[int] = []
    real = selectors.pooled_means

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(selectors, "pooled_means", counted)
    client = _as("asesor01")
    plan = SurveyPlan.objects.get(participation__region__slug="region-002")
    participation = plan.participation
    survey_items = {
        i.statement: i.code
        for _c, i in participation.cycle.framework.framework.items_for(participation.group)
        if i.kind == "survey"
    }
    form = next(f for f in plan.forms.order_by("id") if any(code in survey_items for code in f.statements))
    statement = next(code for code in form.statements if code in survey_items)
    item = survey_items[statement]

    def proposals() -> dict[str, float | None]:
        response = client.get(SCORING)
        assert response.status_code == 200
        return dict(response.context["sheet"].region.proposals)

    def valid_count() -> int:
        return selectors.quality_of(plan).forms.filter(form=form.code)["n_valid"].item()

    before, n = proposals()[item], valid_count()
    assert proposals()[item] == before
    assert len(calls) == 1
    answers = {code: (4 if code == statement else i % 5) for i, code in enumerate(form.statements)}
    Response.objects.create(form=form, response_id=str(uuid.uuid4()), source="web", used_service=True,
                            answers=answers)  # fmt: skip
    assert valid_count() == n + 1
    after = proposals()[item]
    assert len(calls) == 2
    assert after == pytest.approx((before * n + 4) / (n + 1))
    assert after != pytest.approx(before)


# What the scoring page drew each mark with before (panels/_mark.html, one include per mark).
_MARK_TEMPLATE = (
    "{% load i18n cityeval %}<strong>{{ mark.score|score }}</strong>{% if mark.revised %} <span "
    'class="help revision">({% if mark.first %}{% translate "first mark" %} {{ mark.first.score|score }} · '
    '{% endif %}{% translate "after discussion" %}: {{ mark.revised.reason }})</span>{% endif %}'
    '{% if mark.note %} <span class="help">{{ mark.note }}</span>{% endif %}{% if mark.excluded %} '
    '<span class="badge warn">{% translate "does not count: conflict of interest" %}</span>{% endif %}\n'
)


@pytest.mark.parametrize("language", ["en", "id"])
def test_a_mark_is_drawn_as_the_included_template_drew_it(language):
    """The scoring page draws its several hundred marks with a filter, not an include per
    mark: the same HTML, escaped, in either language."""
    first = ItemScore(score=2.5, note="first <note>")
    revised = ItemScore(
        score=3.125, note="kept & revised", kind=ItemScore.Kind.AFTER_DISCUSSION, reason='"<b>"'
    )
    marks = [
        Mark(first=first, revised=None),
        Mark(first=first, revised=revised, excluded=True),
        Mark(first=None, revised=revised),
        Mark(first=ItemScore(score=4.0, note=""), revised=None, excluded=True),
    ]
    with translation.override(language):
        old = [Template(_MARK_TEMPLATE).render(Context({"mark": m})) for m in marks]
        new = [Template("{% load panels_tags %}{{ mark|mark }}").render(Context({"mark": m})) for m in marks]
    assert new == old
    if language == "en":
        assert new[1] == (
            '<strong>3.13</strong> <span class="help revision">(first mark 2.50 · after discussion: '
            '&quot;&lt;b&gt;&quot;)</span> <span class="help">kept &amp; revised</span> '
            '<span class="badge warn">does not count: conflict of interest</span>\n'
        )
