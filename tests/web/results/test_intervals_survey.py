"""The survey source in the rank intervals (issue 15, docs/uncertainty.md "On the web"): the
cycle's counted survey answers, per region and statement, resampled with the assessors and the
weights; the pages say which sources a run's draws varied.

Region A (Kab. Deli Serdang) has two forms, "service" (service.1–3) and "policy" (policy.1–3);
region B (Kota Medan) one, "service", whose three counted respondents all answered 2, 3, 3.
The responses, by hand (A's service form):

====  =========  ==========================  =====================================
resp  answers    what                        counts?
====  =========  ==========================  =====================================
r1    4, 3, 2    phone h1                    yes
r2    4, 4, 1                                yes
r3    2, 3, 4                                yes
r4    0, 1, 2    did not use the service     no (not_user)
r5    1, 2, 3    rejected by a reviewer      no (rejected)
r6    0, 1, 2    sent in a burst             no (burst)
r7    1, 1, 0    phone h1 again              no (duplicate_respondent)
r8    3, 3, 3    the same answer throughout  no (straight_lining)
====  =========  ==========================  =====================================

So A's service.1 is answered 4, 4, 2 (counts 0, 0, 1, 0, 2), service.2 3, 4, 3 (0, 0, 0, 2, 1)
and service.3 2, 1, 4 (0, 1, 1, 0, 1); A's policy form has one response, 1, 2, 0.
"""

from __future__ import annotations

import html
import re

import polars as pl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cityeval.engine.uncertainty import uncertainty
from cityeval.web.evaluations.models import Participation
from cityeval.web.evaluations.templatetags.cityeval import percent
from cityeval.web.panels.tables import consolidated_table, scores_tables
from cityeval.web.results import intervals
from cityeval.web.results.intervals import DRAWS, SEED, WEIGHT_RANGE, uncertainty_input
from cityeval.web.results.kept import forget_all
from cityeval.web.results.models import RegionInterval, RunUncertainty
from cityeval.web.results.services import results_compute
from cityeval.web.surveys.models import Mode, Response, SurveyForm, SurveyPlan
from cityeval.web.surveys.selectors import impact_counts
from tests.helpers.results import A_FINAL, B_FINAL, CYCLE, REGION_A, REGION_B
from tests.helpers.web_surveys import respond
from tests.web.national import add_regions

NATIONAL = f"/results/{CYCLE}/"
COUNTS = [f"count_{k}" for k in range(5)]

# (region, statement, count_0 … count_4), by hand from the table in the module's docstring.
HAND_COUNTS = [
    ("Kab. Deli Serdang", "service.1", 0, 0, 1, 0, 2),
    ("Kab. Deli Serdang", "service.2", 0, 0, 0, 2, 1),
    ("Kab. Deli Serdang", "service.3", 0, 1, 1, 0, 1),
    ("Kab. Deli Serdang", "policy.1", 0, 1, 0, 0, 0),
    ("Kab. Deli Serdang", "policy.2", 0, 0, 1, 0, 0),
    ("Kab. Deli Serdang", "policy.3", 1, 0, 0, 0, 0),
    ("Kota Medan", "service.1", 0, 0, 3, 0, 0),
    ("Kota Medan", "service.2", 0, 0, 0, 3, 0),
    ("Kota Medan", "service.3", 0, 0, 0, 3, 0),
]


def _text(page: bytes) -> str:
    """The page's text: tags dropped, entities read, spaces folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.decode())).split())


def _form(participation: Participation, code: str) -> SurveyForm:
    plan, _created = SurveyPlan.objects.get_or_create(participation=participation)
    return SurveyForm.objects.create(
        plan=plan, code=code, dimension="governance", subdimension=code,
        statements=[f"{code}.1", f"{code}.2", f"{code}.3"], mode=Mode.SPLIT,
    )  # fmt: skip


def _answers(form: SurveyForm, values: tuple[int, int, int]) -> dict[str, int]:
    return dict(zip(form.statements, values, strict=True))


@pytest.fixture
def surveyed(scored):
    """The responses of the module's docstring (written directly: the cycle is closed)."""
    a_service = _form(scored.participation_a, "service")
    respond(a_service, _answers(a_service, (4, 3, 2)), identity_hash="h1")
    respond(a_service, _answers(a_service, (4, 4, 1)))
    respond(a_service, _answers(a_service, (2, 3, 4)))
    respond(a_service, _answers(a_service, (0, 1, 2)), used=False)
    respond(a_service, _answers(a_service, (1, 2, 3)), review_state="rejected")
    respond(a_service, _answers(a_service, (0, 1, 2)), burst=True)
    respond(a_service, _answers(a_service, (1, 1, 0)), identity_hash="h1")
    respond(a_service, _answers(a_service, (3, 3, 3)))
    a_policy = _form(scored.participation_a, "policy")
    respond(a_policy, _answers(a_policy, (1, 2, 0)))
    b_service = _form(scored.participation_b, "service")
    for _k in range(3):
        respond(b_service, _answers(b_service, (2, 3, 3)))
    return scored


@pytest.fixture
def engine_calls(monkeypatch) -> list[dict]:
    """The keyword arguments of every call of the engine's Monte Carlo by ``intervals_store``."""
    calls: list[dict] = []

    def recorded(*args, **kwargs):
        calls.append(kwargs)
        return uncertainty(*args, **kwargs)

    monkeypatch.setattr(intervals, "uncertainty", recorded)
    return calls


def _direct(cycle, **options):
    """The engine on the run's marks, as ``intervals_store`` calls it, with ``options``."""
    scores, _first = scores_tables(cycle, "stage_2")
    return uncertainty(
        uncertainty_input(scores, consolidated_table(cycle, "stage_2")), cycle.framework.framework,
        draws=DRAWS, seed=SEED, weight_range=WEIGHT_RANGE, **options,
    )  # fmt: skip


def test_the_run_resamples_the_counted_survey_answers(surveyed, history_2023, coordinator, engine_calls):
    run = results_compute(cycle=surveyed.cycle, user=coordinator)
    record = RunUncertainty.objects.get(run=run)
    assert record.reason == "" and record.sources == ["assessors", "weights", "survey"]
    assert (record.parameters["survey_regions"], record.parameters["survey_statements"]) == (2, 9)
    assert sorted(record.parameters["sources"]) == ["assessors", "survey", "weights"]  # the engine's order
    assert set(record.shares) == {"assessors", "weights", "survey"}
    # The counts the engine was given: the hand count of the responses that count.
    (call,) = engine_calls
    assert call["sources"] == ("assessors", "weights", "survey")
    given = call["survey"].select("region", "statement", *COUNTS)
    assert given.rows() == sorted(HAND_COUNTS)  # in (region, statement) order: the draws follow it
    # The survey moves no point score: the point finals are the run's (conftest: by hand).
    stored = {i.region.name: i for i in RegionInterval.objects.filter(run=run).select_related("region")}
    assert stored["Kab. Deli Serdang"].final == pytest.approx(A_FINAL)
    assert stored["Kota Medan"].final == pytest.approx(B_FINAL)
    assert stored["Kab. Deli Serdang"].share_survey > 0  # A's answers differ: they move its final


def test_a_region_whose_answers_are_all_equal_keeps_its_interval_without_the_survey(
    surveyed, history_2023, coordinator
):
    """B's three respondents answered 2, 3, 3 each: a resample of identical answers has their
    mean, so B's survey items never move. B's every item is scored 2, 2, 3, 3, 3, so its
    components are equal in every draw and the weights cannot move its final either: B's
    final varies with its resampled panel only, drawn first from the seed, with the survey or
    without. So B's final interval is the one without the survey source, and the survey's
    share of B's variance is 0. Had B's answers differed (0 and 4 instead of 2, 2), its interval
    would not be that (checked last, so the equality can fail)."""
    run = results_compute(cycle=surveyed.cycle, user=coordinator)
    b = RegionInterval.objects.get(run=run, region__slug=REGION_B)
    without = _direct(surveyed.cycle, sources=("assessors", "weights")).regions
    row = without.filter(pl.col("region") == "Kota Medan").row(0, named=True)
    assert (b.final_lo, b.final, b.final_hi) == (row["final_lo"], row["final"], row["final_hi"])
    assert b.final_lo < B_FINAL < b.final_hi  # a real interval: five assessors who disagree
    assert b.share_survey == 0.0
    varied = pl.DataFrame(HAND_COUNTS, schema=["region", "statement", *COUNTS], orient="row").with_columns(
        pl.when(pl.col("region") == "Kota Medan").then(1).otherwise(pl.col("count_0")).alias("count_0"),
        pl.when(pl.col("region") == "Kota Medan").then(1).otherwise(pl.col("count_4")).alias("count_4"),
    )
    moved = _direct(surveyed.cycle, sources=("assessors", "weights", "survey"), survey=varied).regions
    moved_b = moved.filter(pl.col("region") == "Kota Medan").row(0, named=True)
    assert (moved_b["final_lo"], moved_b["final_hi"]) != (row["final_lo"], row["final_hi"])


def test_a_cycle_without_counted_answers_keeps_assessors_and_weights(scored, history_2023, coordinator):
    """A form whose only response did not use the service: nothing counts, no survey source;
    the pages say why."""
    form = _form(scored.participation_a, "service")
    respond(form, _answers(form, (4, 3, 2)), used=False)
    run = results_compute(cycle=scored.cycle, user=coordinator)
    record = RunUncertainty.objects.get(run=run)
    assert record.sources == ["assessors", "weights"] and set(record.shares) == {"assessors", "weights"}
    assert (record.parameters["survey_regions"], record.parameters["survey_statements"]) == (0, 0)
    assert not RegionInterval.objects.filter(run=run, share_survey__isnull=False).exists()


def test_the_counts_cost_two_queries_whatever_the_number_of_regions(surveyed):
    cycle = surveyed.cycle
    cycle.framework.framework  # noqa: B018 — loaded once, outside the count
    with CaptureQueriesContext(connection) as few:
        small = impact_counts(cycle)
    more = add_regions(cycle, 30)
    for participation in more:
        form = _form(participation, "service")
        respond(form, _answers(form, (1, 2, 3)))
    with CaptureQueriesContext(connection) as many:
        large = impact_counts(cycle)
    assert len(few) == len(many) == 2
    assert small.height == 9 and large.height == 9 + 30 * 3
    assert Response.objects.filter(form__plan__participation__cycle=cycle).count() == 12 + 30


# --- the pages ---------------------------------------------------------------------------------


def _shares_text(text: str, label: str) -> str:
    return text.split(label)[1].split(")")[0]


def test_the_pages_say_the_survey_was_resampled_and_show_its_share(
    surveyed, history_2023, coordinator, as_user
):
    run = results_compute(cycle=surveyed.cycle, user=coordinator)
    record = RunUncertainty.objects.get(run=run)
    a = RegionInterval.objects.get(run=run, region__slug=REGION_A)
    client = as_user(coordinator)
    text = _text(client.get(NATIONAL).content)
    assert "draws the survey's counted answers to each Impact statement again" in text
    assert "Sources: assessors, weights, survey." in text and "not included" not in text
    shares = _shares_text(text, "Share of the variance of all finals:")
    assert f"survey {percent(record.shares['survey'])}" in shares
    page = _text(client.get(f"/r/{REGION_A}/{CYCLE}/results/").content)
    assert "Sources: assessors, weights, survey." in page
    assert f"survey {percent(a.share_survey)}" in page.split("Share of this final's variance:")[1]
    client.cookies["django_language"] = "id"
    text = _text(client.get(NATIONAL, HTTP_ACCEPT_LANGUAGE="id").content)
    assert "Sumber: asesor, bobot, survei." in text
    assert f"survei {percent(record.shares['survey'])}" in text
    page = _text(client.get(f"/r/{REGION_A}/{CYCLE}/results/", HTTP_ACCEPT_LANGUAGE="id").content)
    assert "Sumber: asesor, bobot, survei." in page and f"survei {percent(a.share_survey)}" in page


def test_the_pages_say_why_the_survey_is_not_included(computed, coordinator, as_user):
    """A run of this code without counted answers says there were none; a run computed before
    the survey was included (no ``survey_regions`` in its parameters) says that, truthfully."""
    client = as_user(coordinator)
    text = _text(client.get(NATIONAL).content)
    assert "Sources: assessors, weights." in text
    assert "not included: no region has counted survey answers to its Impact statements." in text
    record = RunUncertainty.objects.get(run=computed)
    del record.parameters["survey_regions"]
    record.save()
    forget_all()  # the record rewritten behind the services' back: what the process kept goes
    for url in (NATIONAL, f"/r/{REGION_B}/{CYCLE}/results/"):
        text = _text(client.get(url).content)
        assert "Sources: assessors, weights." in text, url
        assert "not included: these intervals were computed before it was." in text, url
    client.cookies["django_language"] = "id"
    text = _text(client.get(NATIONAL, HTTP_ACCEPT_LANGUAGE="id").content)
    assert "Sumber: asesor, bobot." in text
